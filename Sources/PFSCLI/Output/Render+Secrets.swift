import Foundation
import PFSPipelines

// The human output of the secret commands: names, keys and times, never values.
extension Render {
    /// NAME KEYS CREATED UPDATED.
    public static func secrets(_ secrets: [SecretInfo], now: Date) -> String {
        var t = Table(header: ["NAME", "KEYS", "CREATED", "UPDATED"])
        for s in secrets {
            t.append([s.name, s.keys.joined(separator: ", "), Humanize.ago(s.created, now: now), Humanize.ago(s.updated, now: now)])
        }
        return t.render()
    }

    public static func secret(_ s: SecretInfo, now: Date) -> String {
        [
            "Name: \(s.name)",
            "Keys: \(s.keys.joined(separator: ", "))",
            "Created: \(Humanize.ago(s.created, now: now))",
            "Updated: \(Humanize.ago(s.updated, now: now))",
        ].map(Table.clean).joined(separator: "\n") + "\n"
    }
}
