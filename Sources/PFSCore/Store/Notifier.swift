import Foundation
import Synchronization

/// Wakes waiters when something happened (a commit finished). A generation counter makes the
/// check-then-wait pattern race free: `wait(after:)` returns at once if an event came after `generation`.
final class Notifier: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    func notifyAll() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation &+= 1
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        for w in waiters { w.resume() }
    }

    func wait(after generation: UInt64, timeout: Duration) async {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resume(id)
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.generation != generation { return true }
                s.waiters[id] = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }

    private func resume(_ id: UUID) {
        let c = state.withLock { $0.waiters.removeValue(forKey: id) }
        c?.resume()
    }
}
