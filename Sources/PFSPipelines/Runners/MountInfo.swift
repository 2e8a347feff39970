import Foundation

/// This process's mount table (`/proc/self/mountinfo`).
enum MountInfo {
    /// Every mount point, in table order, with mountinfo's octal escapes (`\040` for a space) undone.
    static func points() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            line.split(separator: " ").dropFirst(4).first.map { $0.replacingOccurrences(of: "\\040", with: " ") }
        }
    }
}
