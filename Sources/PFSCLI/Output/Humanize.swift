import Foundation

/// Sizes and times the way pachctl prints them (Docker's `go-units`): `1.2MiB`, `3 seconds ago`.
public enum Humanize {
    private static let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    /// Binary units with up to four significant digits: `0B`, `512B`, `1.465KiB`, `1.2MiB`, `10GiB`.
    public static func bytes(_ n: Int64) -> String {
        if n < 0 { return "-" + bytes(n == Int64.min ? Int64.max : -n) }
        var size = Double(n)
        var unit = 0
        while size >= 1024, unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        return significant4(size) + units[unit]
    }

    /// `%.4g` without exponent notation for the values `bytes` produces (< 1024).
    static func significant4(_ x: Double) -> String {
        if x == 0 { return "0" }
        let digitsBeforePoint = x >= 1000 ? 4 : x >= 100 ? 3 : x >= 10 ? 2 : 1
        let decimals = max(0, 4 - digitsBeforePoint)
        var s = String(format: "%.\(decimals)f", x)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// `HumanDuration` from go-units: "Less than a second", "3 seconds", "About a minute", "5 hours", "3 days".
    public static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded(.towardZero))
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let minutes = Int((seconds / 60).rounded(.towardZero))
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600 + 0.5).rounded(.towardZero))
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int((seconds / 3600).rounded(.towardZero)) / 24 / 365) years"
    }

    /// "3 seconds ago", as pachctl's `pretty.Ago`. A time in the future (clock skew) reads "Less than a second ago".
    public static func ago(_ date: Date, now: Date) -> String {
        duration(max(0, now.timeIntervalSince(date))) + " ago"
    }

    /// A duration such as `30`, `30s`, `1.5m`, `2h`, `500ms` (a bare number is seconds), in seconds.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        let suffixes: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in suffixes where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite else { return nil }
            return v * factor
        }
        guard let v = Double(s), v >= 0, v.isFinite else { return nil }
        return v
    }

    /// Nanoseconds since the epoch as an ISO 8601 time.
    public static func mtime(_ ns: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(ns) / 1e9)
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// `0o644` as `-rw-r--r--` (file), `drwxr-xr-x` (dir), `lrwxrwxrwx` (symlink).
    public static func mode(_ mode: UInt32, typeChar: Character) -> String {
        var s = String(typeChar)
        let chars: [Character] = ["r", "w", "x"]
        for shift in stride(from: 6, through: 0, by: -3) {
            for (i, c) in chars.enumerated() {
                s.append(mode & (UInt32(4 >> i) << UInt32(shift)) != 0 ? c : "-")
            }
        }
        return s
    }
}
