import Foundation
import Synchronization

/// Wakes waiters when something happened (a commit finished). A generation counter makes the
/// check-then-wait pattern race free: `wait(after:)` returns at once if an event came after `generation`.
final class Notifier: Sendable {
    private enum Waiter {
        /// `wait` started; its continuation is not registered yet.
        case starting
        /// The timeout fired before the continuation was registered: `wait` returns at once.
        case expired
        case waiting(CheckedContinuation<Void, Never>)
    }
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UUID: Waiter] = [:]
    }
    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    func notifyAll() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation &+= 1
            var woken: [CheckedContinuation<Void, Never>] = []
            for (id, w) in s.waiters {
                if case .waiting(let c) = w {
                    woken.append(c)
                    s.waiters[id] = nil
                }
            }
            return woken
        }
        for w in waiters { w.resume() }
    }

    /// Returns when an event comes after `generation` (at once if one already did), or after `timeout`.
    func wait(after generation: UInt64, timeout: Duration) async {
        let id = UUID()
        state.withLock { $0.waiters[id] = .starting }
        // The timer may fire before the continuation below is registered (a tiny timeout): it then marks the
        // waiter expired instead of resuming nothing, and the wait returns at once.
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            self.expire(id)
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.generation != generation { return true }
                if case .expired = s.waiters[id] { return true }
                s.waiters[id] = .waiting(c)
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
        state.withLock { _ = $0.waiters.removeValue(forKey: id) }
    }

    private func expire(_ id: UUID) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            switch s.waiters[id] {
            case .waiting(let c):
                s.waiters[id] = nil
                return c
            case .starting:
                s.waiters[id] = .expired
                return nil
            case .expired, nil:
                return nil  // the wait already returned
            }
        }
        c?.resume()
    }
}
