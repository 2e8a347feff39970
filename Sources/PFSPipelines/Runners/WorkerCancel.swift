import Foundation

/// Ends one running datum command from outside its runner (`pfs stop job`, `pfs restart datum`). The runner
/// installs how to kill what it started once it runs; `cancel` calls that at once, or — cancelled before the
/// command started — as soon as the runner installs it, so a stop never misses a command about to start.
public final class WorkerCancel: @unchecked Sendable {
    private let lock = NSLock()
    private var kill: (@Sendable () -> Void)?
    private var cancelled = false

    public init() {}

    /// Whether `cancel` was called (the command's exit then means "killed", not a failure of its own).
    public var isCancelled: Bool { lock.withLock { cancelled } }

    /// Called by a runner right after it started the command.
    public func install(_ kill: @escaping @Sendable () -> Void) {
        let now = lock.withLock { () -> Bool in
            self.kill = kill
            return cancelled
        }
        if now { kill() }
    }

    /// Called by a runner once the command has exited (its pid may be reused from then on).
    public func uninstall() { lock.withLock { kill = nil } }

    public func cancel() {
        let k = lock.withLock { () -> (@Sendable () -> Void)? in
            cancelled = true
            return kill
        }
        k?()
    }
}
