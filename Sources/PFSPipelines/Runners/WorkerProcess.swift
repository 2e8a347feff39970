import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs one worker command line (a runtime, usually behind a small shell wrapper) to completion: stdin lines fed,
/// output to the datum's log, killed by `onTimeout` after `timeout` seconds.
enum WorkerProcess {
    /// `cancel` (stop job, restart datum) kills the command the way a timeout does.
    static func run(_ args: [String], stdin: [String], log: FileHandle, timeout: Double?, cancel: WorkerCancel? = nil,
                    onTimeout: @escaping @Sendable (Int32) -> Void) throws -> WorkerResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        p.standardOutput = log
        p.standardError = log
        let input = Pipe()
        p.standardInput = stdin.isEmpty ? FileHandle.nullDevice : input
        let started = Date()
        try p.run()
        if !stdin.isEmpty {
            let data = Data((stdin.joined(separator: "\n") + "\n").utf8)
            DispatchQueue.global().async {
                input.fileHandleForWriting.write(data)
                try? input.fileHandleForWriting.close()
            }
        }
        let pid = p.processIdentifier
        let timedOut = TimeoutFlag()
        var timer: DispatchWorkItem?
        if let t = timeout {
            let item = DispatchWorkItem {
                timedOut.set()
                onTimeout(pid)
            }
            timer = item
            DispatchQueue.global().asyncAfter(deadline: .now() + t, execute: item)
        }
        cancel?.install { onTimeout(pid) }
        p.waitUntilExit()
        cancel?.uninstall()
        timer?.cancel()
        let code: Int32 = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return WorkerResult(exitCode: code, timedOut: timedOut.value, seconds: Date().timeIntervalSince(started))
    }

    /// Single-quoted for sh.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
