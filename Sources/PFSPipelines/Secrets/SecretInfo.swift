import Foundation

/// What anyone may learn about a stored secret: its name, its keys and when it was stored. Never its values.
public struct SecretInfo: Codable, Sendable, Equatable {
    public var name: String
    public var keys: [String]
    public var created: Date
    public var updated: Date
    public init(name: String, keys: [String], created: Date, updated: Date) {
        self.name = name; self.keys = keys; self.created = created; self.updated = updated
    }
}
