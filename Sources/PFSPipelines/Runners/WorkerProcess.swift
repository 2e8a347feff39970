import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs one worker command line (a runtime, usually behind a small shell wrapper) to completion: stdin lines fed,
/// output to the datum's log, killed by `onTimeout` after `timeout` seconds.
enum WorkerProcess {
    /// `cancel` (stop job, restart datum) kills the command the way a timeout does.
    /// With a `spawner`, the command starts in a mount namespace of its own (NamespaceSpawner) and is waited for here.
    static func run(_ args: [String], stdin: [String], log: FileHandle, timeout: Double?, cancel: WorkerCancel? = nil,
                    spawner: NamespaceSpawner? = nil, onTimeout: @escaping @Sendable (Int32) -> Void) throws -> WorkerResult {
        if let spawner {
            return try runSpawned(args, spawner: spawner, stdin: stdin, log: log, timeout: timeout, cancel: cancel, onTimeout: onTimeout)
        }
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
        let (timedOut, disarm) = arm(pid: p.processIdentifier, timeout: timeout, cancel: cancel, onTimeout: onTimeout)
        p.waitUntilExit()
        disarm()
        let code: Int32 = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return WorkerResult(exitCode: code, timedOut: timedOut.value, seconds: Date().timeIntervalSince(started))
    }

    private static func runSpawned(_ args: [String], spawner: NamespaceSpawner, stdin: [String], log: FileHandle, timeout: Double?,
                                   cancel: WorkerCancel?, onTimeout: @escaping @Sendable (Int32) -> Void) throws -> WorkerResult {
        var fds: [Int32] = [-1, -1]
        if stdin.isEmpty {
            fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fds[0] >= 0 else { throw PFSError.syscall("open", path: "/dev/null", errno: errno) }
        } else {
            guard NamespaceSpawner.cloexecPipe(&fds) else { throw PFSError.syscall("pipe2", path: "stdin of \(args[0])", errno: errno) }
        }
        let started = Date()
        let pid: pid_t
        do {
            pid = try spawner.spawn(args, stdin: fds[0], stdout: log.fileDescriptor, stderr: log.fileDescriptor)
        } catch {
            for fd in fds where fd >= 0 { close(fd) }
            throw error
        }
        close(fds[0])
        if !stdin.isEmpty {
            let data = Data((stdin.joined(separator: "\n") + "\n").utf8), fd = fds[1]
            DispatchQueue.global().async {
                // A command that exits without reading all of its stdin ends the write with EPIPE: SIGPIPE is
                // blocked on this thread meanwhile, and one it raised is taken off before the mask is restored.
                var pipeSet = sigset_t(), old = sigset_t()
                sigemptyset(&pipeSet)
                sigaddset(&pipeSet, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSet, &old)
                var broken = false
                data.withUnsafeBytes { b in
                    var off = 0
                    while off < b.count {
                        let n = write(fd, b.baseAddress! + off, b.count - off)
                        if n < 0 { if errno == EINTR { continue }; broken = errno == EPIPE; break }
                        off += n
                    }
                }
                close(fd)
                if broken {
                    var zero = timespec()
                    _ = sigtimedwait(&pipeSet, nil, &zero)
                }
                pthread_sigmask(SIG_SETMASK, &old, nil)
            }
        }
        let (timedOut, disarm) = arm(pid: pid, timeout: timeout, cancel: cancel, onTimeout: onTimeout)
        var status: Int32 = 0
        defer { spawner.exited() }
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { disarm(); throw PFSError.syscall("waitpid", path: args[0], errno: errno) }
        }
        disarm()
        let signal = status & 0x7f
        let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return WorkerResult(exitCode: code, timedOut: timedOut.value, seconds: Date().timeIntervalSince(started))
    }

    /// Starts the timeout's timer and installs the cancel hook for `pid`; the closure returned undoes both.
    private static func arm(pid: Int32, timeout: Double?, cancel: WorkerCancel?,
                            onTimeout: @escaping @Sendable (Int32) -> Void) -> (TimeoutFlag, () -> Void) {
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
        return (timedOut, { cancel?.uninstall(); timer?.cancel() })
    }

    /// Single-quoted for sh.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
