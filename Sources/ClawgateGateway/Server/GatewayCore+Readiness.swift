import ClawgateProtocol
import Foundation
import Synchronization

/// Readiness: whether this gateway should get traffic, and which component fails if not.
extension GatewayCore {
    /// Readiness as `/ready` and `status` report it. `details` maps each failing component to
    /// its reason (for loopback callers and admins only: reasons name hosts and ports).
    var readiness: (summary: ReadinessSummary, details: [String: String]) {
        var failing: [String] = []
        var details: [String: String] = [:]
        if !isReady {
            let phase = registry.isAccepting ? "starting" : "shutting-down"
            failing.append(phase)
        }
        for (component, reason) in readinessComponents.failing {
            failing.append(component)
            details[component] = reason
        }
        return (ReadinessSummary(ready: failing.isEmpty, failing: failing), details)
    }

    /// For the config reloader: an edit was rejected (the last good config stays active).
    /// `/ready` fails with `config-reload` until `clearReloadFailure` (a later good reload).
    public func reportReloadFailure(_ reason: String) {
        readinessComponents.set(ReadinessComponents.configReload, failure: reason)
        logger.warning("readiness: config reload failed", metadata: ["reason": "\(reason)"])
    }

    public func clearReloadFailure() {
        readinessComponents.set(ReadinessComponents.configReload, failure: nil)
    }

    /// Probes the mesh store (a read) and every configured provider's base URL (a TCP connect),
    /// concurrently and bounded in time, and records what fails. Run by `GatewayService` at
    /// start and then every `readinessIntervalMs`.
    func checkReadiness(timeout: Duration = .seconds(3)) async {
        let mesh = self.mesh
        let providers = settings.agents.providers.map { (id: $0.id, baseURL: $0.baseURL) }
        async let storeFailure: String? = Self.bounded(timeout, "no answer within \(timeout)") {
            do {
                try await mesh.probeStore()
                return nil
            } catch {
                return "mesh store unreadable: \(error)"
            }
        }
        let providerFindings = await withTaskGroup(of: (String, String?).self) { group in
            for provider in providers {
                group.addTask { (provider.id, await ReachabilityProbe.probe(baseURL: provider.baseURL, timeout: timeout)) }
            }
            var findings: [String: String] = [:]
            for await (id, failure) in group {
                if let failure { findings[id] = failure }
            }
            return findings
        }
        let store = await storeFailure
        let before = Set(readinessComponents.failing.map { $0.component })
        readinessComponents.set(ReadinessComponents.store, failure: store)
        readinessComponents.setProviders(providerFindings)
        let after = Set(readinessComponents.failing.map { $0.component })
        for component in after.subtracting(before).sorted() {
            logger.warning("readiness: component failing", metadata: ["component": "\(component)"])
        }
        for component in before.subtracting(after).sorted() where component != ReadinessComponents.configReload {
            logger.notice("readiness: component recovered", metadata: ["component": "\(component)"])
        }
    }

    /// How often readiness is re-checked: often enough for a load balancer, at most the
    /// health refresh interval.
    var readinessIntervalMs: Int { min(15_000, settings.limits.healthRefreshMs) }

    /// `operation`'s answer, or `onTimeout` when it takes longer than `limit`. The operation
    /// runs in its own task and is abandoned (not awaited) on timeout: a hung SQLite read must
    /// not hang the readiness loop with it.
    static func bounded(
        _ limit: Duration, _ onTimeout: String, _ operation: @escaping @Sendable () async -> String?
    ) async -> String? {
        let once = FirstAnswer()
        return await withCheckedContinuation { continuation in
            once.arm(continuation)
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                once.answer(onTimeout)
            }
            Task {
                let answer = await operation()
                if once.answer(answer) { timer.cancel() }
            }
        }
    }
}

/// Resumes a continuation with whichever answer comes first.
private final class FirstAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<String?, Never>?>(nil)

    func arm(_ continuation: CheckedContinuation<String?, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// True when this answer was the first.
    @discardableResult
    func answer(_ value: String?) -> Bool {
        guard let continuation = continuation.withLock({ current in defer { current = nil }; return current }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}
