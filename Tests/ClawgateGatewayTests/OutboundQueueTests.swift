@testable import ClawgateGateway
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing

/// `OutboundQueue` on an `EmbeddedChannel`: what reaches the channel, in which order, and when
/// the close frame is handed to the socket's handler.
@Suite("Outbound queue")
struct OutboundQueueTests {
    /// What the channel and the close sender saw, in order.
    final class Wire: Sendable {
        let log = Mutex<[String]>([])
        let channel: EmbeddedChannel

        init(_ channel: EmbeddedChannel) {
            self.channel = channel
        }

        /// Moves the frames the channel has written so far into the log.
        func collectWrites() {
            while let frame = try? channel.readOutbound(as: WebSocketFrame.self) {
                var data = frame.data
                let text = data.readString(length: data.readableBytes) ?? "?"
                log.withLock { $0.append(text) }
            }
        }

        var all: [String] { log.withLock { $0 } }

        /// Gives `queue` this wire's channel; the close frame is logged after what preceded it.
        func attach(_ queue: OutboundQueue) {
            queue.attach(channel) { request in
                // Everything written before the close frame is on the channel by now.
                self.collectWrites()
                self.log.withLock { $0.append("close \(request.code) \(request.reason)") }
            }
        }
    }

    private static func attached() -> (OutboundQueue, Wire) {
        let wire = Wire(EmbeddedChannel())
        let queue = OutboundQueue(capacity: 1 << 20)
        wire.attach(queue)
        return (queue, wire)
    }

    private static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func closeAfterALastFrameWritesItThenTheCloseAndRefusesMore() throws {
        let (queue, wire) = Self.attached()
        #expect(queue.enqueue(Self.buffer("challenge")) == .queued)
        queue.close(code: 1008, reason: "pairing required", after: Self.buffer("error"))
        #expect(queue.enqueue(Self.buffer("late")) == .closed)
        #expect(queue.isClosing)
        wire.collectWrites()
        #expect(wire.all == ["challenge", "error", "close 1008 pairing required"])
    }

    @Test func aLastFrameThatDoesNotFitLeavesOnlyTheClose() throws {
        // Frames wait in the queue until it is attached, so they hold its budget.
        let queue = OutboundQueue(capacity: 16)
        #expect(queue.enqueue(Self.buffer("twelve bytes")) == .queued)
        queue.close(code: 1008, reason: "refused", after: Self.buffer("an error frame longer than the room left"))
        let wire = Wire(EmbeddedChannel())
        wire.attach(queue)
        #expect(wire.all == ["twelve bytes", "close 1008 refused"])
    }

    @Test func aSecondCloseIsIgnored() throws {
        let (queue, wire) = Self.attached()
        queue.close(code: 1008, reason: "first", after: Self.buffer("error"))
        queue.close(code: 1000, reason: "second", after: Self.buffer("other"))
        wire.collectWrites()
        #expect(wire.all == ["error", "close 1008 first"])
    }
}
