@testable import ClawgateClient
import ClawgateProtocol
import Foundation
import Testing

/// The client's request bookkeeping (one continuation per call, one timer per connection) and
/// the gateway's direct-to-channel writer.
@Suite("WebSocket request path")
struct WebSocketPathTests {
    /// A frame the gateway accepts and never answers.
    static let unanswered = #"{"type":"cancel","id":"nothing"}"#

    @Test func requestTimeoutIsReportedAndTheConnectionStaysUsable() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { conn in
                let timeout = Duration.milliseconds(300)
                var message: String?
                do {
                    _ = try await conn.sendRaw(Self.unanswered, expectingResponseId: "never", timeout: timeout)
                    Issue.record("an unanswered request must time out")
                } catch GatewayClientError.timeout(let what) {
                    message = what
                }
                #expect(message == "no response to request never within \(timeout)")
                // Later calls still get their answers.
                let health = try await conn.call("health")
                #expect(health["ok"] != nil)
            }
        }
    }

    @Test func cancelledCallThrowsCancellationError() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { conn in
                let call = Task {
                    try await conn.sendRaw(Self.unanswered, expectingResponseId: "cancelled", timeout: .seconds(30))
                }
                call.cancel()
                let outcome = await call.result
                var cancelled = false
                if case .failure(let error) = outcome { cancelled = error is CancellationError }
                #expect(cancelled)
                let health = try await conn.call("health")
                #expect(health["ok"] != nil)
            }
        }
    }

    @Test func concurrentCallsOnOneConnectionAllGetTheirOwnAnswers() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { conn in
                let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<200 {
                        group.addTask { try await conn.request("health").ok }
                    }
                    var count = 0
                    for try await ok in group where ok { count += 1 }
                    return count
                }
                #expect(answered == 200)
            }
        }
    }

    /// Requests pipelined on one socket are answered in order: the writer's batches keep the
    /// order frames were queued in.
    @Test func pipelinedResponsesKeepRequestOrder() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            let count = 500
            let outcome = try await withRawSocket(gw) { session in
                let challenge = try await session.challenge()
                try await session.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                let hello = try await session.response(id: "connect-1")
                #expect(hello.ok)
                for index in 0..<count {
                    try await session.send(#"{"type":"req","id":"q\#(index)","method":"health"}"#)
                }
                var ids: [String] = []
                while ids.count < count, let frame = try await session.next() {
                    if frame["type"] == "res", let id = frame["id"]?.stringValue { ids.append(id) }
                }
                return ids
            }
            #expect(outcome.value == (0..<count).map { "q\($0)" })
        }
    }
}

/// `ResponseWaiters` on its own: the races a live socket makes rare.
@Suite("Response waiters")
struct ResponseWaitersTests {
    func makeWaiters() -> ResponseWaiters {
        ResponseWaiters()
    }

    @Test func responseBeforeTheWaiterParksIsKept() async throws {
        let waiters = makeWaiters()
        #expect(waiters.expect("a", timeout: .seconds(30)) == nil)
        waiters.deliver(ResponseFrame(id: "a", ok: true, payload: "early"))
        let response = try await waiters.wait(for: "a")
        #expect(response.payload == "early")
    }

    @Test func unexpectedAndLateResponsesAreDropped() async throws {
        let waiters = makeWaiters()
        waiters.deliver(ResponseFrame(id: "stray", ok: true))
        #expect(waiters.expect("b", timeout: .seconds(30)) == nil)
        waiters.deliver(ResponseFrame(id: "b", ok: true, payload: 1))
        waiters.deliver(ResponseFrame(id: "b", ok: true, payload: 2))
        let first = try await waiters.wait(for: "b")
        #expect(first.payload == 1)
        // "b" is no longer expected: a third copy is dropped, a new wait does not see it.
        waiters.deliver(ResponseFrame(id: "b", ok: true, payload: 3))
        waiters.close(.closed(code: nil, reason: "done"))
    }

    @Test func shorterTimeoutFiresFirstAndLongerRequestStillCompletes() async throws {
        let waiters = makeWaiters()
        #expect(waiters.expect("long", timeout: .seconds(30)) == nil)
        #expect(waiters.expect("short", timeout: .milliseconds(100)) == nil)
        var message: String?
        do {
            _ = try await waiters.wait(for: "short")
            Issue.record("the short request must time out")
        } catch GatewayClientError.timeout(let what) {
            message = what
        }
        #expect(message == "no response to request short within \(Duration.milliseconds(100))")
        waiters.deliver(ResponseFrame(id: "long", ok: true, payload: "late but in time"))
        let long = try await waiters.wait(for: "long")
        #expect(long.payload == "late but in time")
    }

    @Test func timeoutBeforeTheWaiterParksIsReported() async throws {
        let waiters = makeWaiters()
        #expect(waiters.expect("slow", timeout: .zero) == nil)
        var timedOut = false
        do {
            _ = try await waiters.wait(for: "slow")
        } catch GatewayClientError.timeout {
            timedOut = true
        }
        #expect(timedOut)
    }

    @Test func closeFailsWaitersAndRefusesNewRequests() async throws {
        let waiters = makeWaiters()
        #expect(waiters.expect("c", timeout: .seconds(30)) == nil)
        let waiting = Task { try await waiters.wait(for: "c") }
        // Parked or not, the waiter ends with the close error.
        waiters.close(.closed(code: 1012, reason: "service restart"))
        var closedCode: UInt16?
        do {
            _ = try await waiting.value
        } catch GatewayClientError.closed(let code, _) {
            closedCode = code
        }
        #expect(closedCode == 1012)
        var refused = false
        if case .closed? = waiters.expect("d", timeout: .seconds(1)) { refused = true }
        #expect(refused)
    }

    @Test func cancellingAParkedWaiterThrowsCancellationError() async throws {
        let waiters = makeWaiters()
        #expect(waiters.expect("e", timeout: .seconds(30)) == nil)
        let waiting = Task { try await waiters.wait(for: "e") }
        waiting.cancel()
        var cancelled = false
        do {
            _ = try await waiting.value
        } catch is CancellationError {
            cancelled = true
        }
        #expect(cancelled)
        // The id is forgotten: a response now is dropped, not kept for nobody.
        waiters.deliver(ResponseFrame(id: "e", ok: true))
        waiters.close(.closed(code: nil, reason: nil))
    }
}
