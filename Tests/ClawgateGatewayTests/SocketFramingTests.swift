import ClawgateGateway
import ClawgateProtocol
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A WebSocket client written at the byte level: it answers nothing by itself (no automatic
/// pong, no close reply), so tests can see exactly what the gateway's socket handler does.
final class BareWebSocket: Sendable {
    struct Frame: Sendable, Equatable {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        /// Code and reason of a close frame.
        var close: (code: UInt16, reason: String)? {
            guard opcode == 0x8, payload.count >= 2 else { return nil }
            return (UInt16(payload[0]) << 8 | UInt16(payload[1]), String(decoding: payload[2...], as: UTF8.self))
        }
    }

    /// Bytes read so far, whether the connection ended, and who waits for more.
    final class Received: Sendable {
        struct State {
            var bytes: [UInt8] = []
            var ended = false
            /// Counts reads, so a waiter can tell that bytes came in since it last looked.
            var reads = 0
            var waiter: CheckedContinuation<Void, Never>?
        }
        let state = Mutex(State())

        func add(_ bytes: [UInt8]?) {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                if let bytes { state.bytes += bytes } else { state.ended = true }
                state.reads += 1
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        /// Runs `take` on the bytes until it returns a value, waiting for more in between; nil
        /// when the connection ended first.
        func take<T: Sendable>(_ take: @escaping @Sendable (inout [UInt8]) -> T?) async -> T? {
            while true {
                let outcome: (T?, Bool, Int) = state.withLock { state in
                    if let value = take(&state.bytes) { return (value, true, state.reads) }
                    return (nil, state.ended, state.reads)
                }
                if let value = outcome.0 { return value }
                if outcome.1 { return nil }
                let seen = outcome.2
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    // Bytes that came in between the look above and now would wake nobody.
                    let ready = state.withLock { state -> Bool in
                        if state.ended || state.reads != seen { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    /// Copies everything read into `Received`.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(_ received: Received) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.add(Array(unwrapInboundIn(data).readableBytesView))
        }
        func channelInactive(context: ChannelHandlerContext) {
            received.add(nil)
        }
    }

    private let channel: any Channel
    private let received: Received

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    /// Connects and upgrades (`path` on the gateway's port); throws unless the answer is 101.
    static func connect(port: Int, path: String = "/") async throws -> BareWebSocket {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let socket = BareWebSocket(channel: channel, received: received)
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request))
        let needle = Array("\r\n\r\n".utf8)
        let head = await received.take { bytes -> String? in
            guard let end = BareWebSocket.find(needle, in: bytes) else { return nil }
            defer { bytes.removeFirst(end + needle.count) }
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        guard let head, head.hasPrefix("HTTP/1.1 101") else { throw BareError(message: "upgrade refused: \(head ?? "connection ended")") }
        return socket
    }

    struct BareError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Sends one frame, masked as a client must.
    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) async throws {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes.append(0x80 | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        bytes += mask
        bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func sendText(_ text: String, fin: Bool = true) async throws { try await send(opcode: 0x1, Array(text.utf8), fin: fin) }
    func sendContinuation(_ text: String, fin: Bool) async throws { try await send(opcode: 0x0, Array(text.utf8), fin: fin) }

    /// The next frame from the gateway; nil when the connection ended.
    func next() async throws -> Frame? {
        await received.take { BareWebSocket.parse(&$0) }
    }

    /// Frames until the connection ends; a close frame is answered (as a well-behaved peer
    /// does) unless `answerClose` is false.
    func rest(answerClose: Bool = true) async throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try await next() {
            frames.append(frame)
            if answerClose, frame.opcode == 0x8 { try? await send(opcode: 0x8, Array(frame.payload.prefix(2))) }
        }
        return frames
    }

    func close() async {
        try? await channel.close()
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }

    /// Takes one complete (unmasked, server-sent) frame off the front of `bytes`.
    private static func parse(_ bytes: inout [UInt8]) -> Frame? {
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[$1]) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        let frame = Frame(fin: bytes[0] & 0x80 != 0, opcode: bytes[0] & 0x0F, payload: Array(bytes[offset..<(offset + length)]))
        bytes.removeFirst(offset + length)
        return frame
    }
}

/// Token-only `connect` for a CLI client, as one JSON text.
func tokenConnectText(token: String, id: String = "c") throws -> String {
    let params = ConnectParams(
        minProtocol: 3, maxProtocol: 4, client: ClientInfo(id: "cli", version: "1", platform: "linux", mode: "cli"), role: "operator",
        scopes: [], auth: ConnectAuth(token: token)
    )
    let json = String(decoding: try JSONCoding.encode(params), as: UTF8.self)
    return #"{"type":"req","id":"\#(id)","method":"connect","params":\#(json)}"#
}

/// The gateway socket's framing, liveness and close handshake, seen from a client that does
/// nothing on its own (`BareWebSocket`).
@Suite("WebSocket framing and liveness")
struct SocketFramingTests {
    @Test func aPingIsAnsweredWithItsPayload() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            defer { Task { await socket.close() } }
            #expect(try await socket.next()?.text.contains("connect.challenge") == true)
            try await socket.send(opcode: 0x9, Array("are you there".utf8))
            let pong = try #require(try await socket.next())
            #expect(pong.opcode == 0xA)
            #expect(pong.text == "are you there")
        }
    }

    @Test func aSilentPeerIsPingedThenDropped() async throws {
        try await withGateway({ config, _ in config.gateway.limits.pingIntervalMs = 200 }) { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            let started = ContinuousClock.now
            #expect(try await socket.next()?.text.contains("connect.challenge") == true)
            // No answer to anything: a ping after a quiet interval, then the close.
            let frames = try await socket.rest(answerClose: false)
            #expect(frames.map(\.opcode) == [0x9, 0x8], "\(frames)")
            #expect(frames.last?.close?.code == 1001)
            #expect(frames.last?.close?.reason == "ping timeout")
            // Three intervals at most (quiet, pinged, unanswered), plus the close timeout.
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aPeerThatAnswersPingsStaysConnected() async throws {
        try await withGateway({ config, _ in config.gateway.limits.pingIntervalMs = 100 }) { gw in
            // The client library answers pings by itself; it sends nothing else for 1 s (10 intervals).
            try await connect(gw.adminOptions()) { conn in
                try await Task.sleep(for: .seconds(1))
                #expect(try await conn.call("health", params: nil)["ok"] == true)
            }
        }
    }

    @Test func fragmentedMessagesAreJoined() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            defer { Task { await socket.close() } }
            _ = try await socket.next()
            let text = try tokenConnectText(token: gw.token)
            let third = text.count / 3
            try await socket.sendText(String(text.prefix(third)), fin: false)
            // A control frame may come between fragments.
            try await socket.send(opcode: 0x9, Array("mid".utf8))
            try await socket.sendContinuation(String(text.dropFirst(third).prefix(third)), fin: false)
            try await socket.sendContinuation(String(text.dropFirst(2 * third)), fin: true)
            let pong = try #require(try await socket.next())
            #expect(pong.opcode == 0xA)
            let hello = try #require(try await socket.next())
            let value = try JSONCoding.jsonValue(from: hello.text)
            #expect(value["id"] == "c")
            #expect(value["ok"] == true, "\(hello.text)")
            #expect(value["payload"]?["type"] == "hello-ok")
        }
    }

    @Test func aFragmentedMessageOverTheLimitCloses1009() async throws {
        try await withGateway({ config, _ in config.gateway.limits.maxPayloadBytes = 65_536 }) { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            _ = try await socket.next()
            try await socket.sendText(try tokenConnectText(token: gw.token))
            #expect(try await socket.next()?.text.contains("hello-ok") == true)
            // Each fragment is far under the frame limit; together they pass the message limit.
            let started = ContinuousClock.now
            let chunk = String(repeating: "x", count: 30_000)
            try await socket.sendText(#"{"type":"req","id":"big","method":"health","params":{"pad":""# + chunk, fin: false)
            try await socket.sendContinuation(chunk, fin: false)
            try await socket.sendContinuation(chunk + #""}}"#, fin: true)
            let frames = try await socket.rest()
            #expect(!frames.contains { $0.text.contains("\"big\"") })
            #expect(frames.last?.close?.code == 1009, "\(frames)")
            #expect(frames.last?.close?.reason == "payload too large")
            // The close was answered: the gateway ends the connection without its close timeout.
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderPastTheInboxBound() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            defer { Task { await socket.close() } }
            _ = try await socket.next()
            try await socket.sendText(try tokenConnectText(token: gw.token))
            #expect(try await socket.next()?.text.contains("hello-ok") == true)
            // 200 requests without reading: far more than the 16 a socket may have waiting, so the
            // gateway stops reading and resumes as it catches up. Each gets its answer, in order
            // (a token-only client has no scopes: every answer is the same FORBIDDEN error).
            let count = 200
            for index in 0..<count {
                try await socket.sendText(#"{"type":"req","id":"r\#(index)","method":"health"}"#)
            }
            var ids: [String] = []
            while ids.count < count, let frame = try await socket.next() {
                let value = try JSONCoding.jsonValue(from: frame.text)
                guard value["type"] == "res" else { continue }
                ids.append(value["id"]?.stringValue ?? "?")
            }
            #expect(ids == (0..<count).map { "r\($0)" })
        }
    }

    @Test func aNewMessageInsideAFragmentedOneIsAProtocolError() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            _ = try await socket.next()
            try await socket.sendText(#"{"type":"req","#, fin: false)
            try await socket.sendText(#"{"type":"req"}"#)
            let frames = try await socket.rest()
            #expect(frames.last?.close?.code == 1002, "\(frames)")
            #expect(frames.last?.close?.reason == "new message before the last one ended")
        }
    }

    @Test func aContinuationWithoutAMessageIsAProtocolError() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            _ = try await socket.next()
            try await socket.sendContinuation("stray", fin: true)
            let frames = try await socket.rest()
            #expect(frames.last?.close?.code == 1002, "\(frames)")
        }
    }

    @Test func theClientsCloseIsEchoedAndTheConnectionEnds() async throws {
        try await withGateway { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            _ = try await socket.next()
            try await socket.send(opcode: 0x8, [0x03, 0xE8] + Array("bye".utf8))
            let frames = try await socket.rest()
            #expect(frames.count == 1, "\(frames)")
            #expect(frames.first?.close?.code == 1000)
            // The pending socket is released.
            let total = try await connect(gw.adminOptions()) { conn in try await connectionTotal(conn) }
            #expect(total == 1)
        }
    }

    @Test func aPeerThatNeverAnswersTheCloseIsDropped() async throws {
        try await withGateway({ config, _ in config.gateway.limits.handshakeTimeoutMs = 200 }) { gw in
            let socket = try await BareWebSocket.connect(port: gw.port)
            let started = ContinuousClock.now
            _ = try await socket.next()
            // The handshake timeout closes the socket; this client never answers the close frame.
            let frames = try await socket.rest(answerClose: false)
            #expect(frames.last?.close?.code == 1008, "\(frames)")
            #expect(frames.last?.close?.reason == "handshake timeout")
            // Dropped after the 3 s close timeout, not held open.
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(3) && elapsed < .seconds(8), "\(elapsed)")
        }
    }
}
