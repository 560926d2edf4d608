import NIOCore

/// Caps the bytes a socket may send before its `connect` succeeds.
///
/// The WebSocket decoder accepts frames up to `maxPayload` (25 MiB) because authenticated
/// clients may send that much; without this handler an unauthenticated socket could make the
/// gateway buffer a 25 MiB frame before the 64 KiB pre-auth check ever sees it. It sits first in
/// the pipeline, counts raw inbound bytes and drops the TCP connection past the budget; it is
/// removed once the handshake succeeds.
final class PreauthByteBudget: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let name = "clawgate.preauth-byte-budget"

    private let limit: Int
    private var received = 0

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    /// Installs the budget on a freshly upgraded WebSocket channel; on its event loop.
    static func install(on channel: any Channel, limit: Int) {
        try? channel.pipeline.syncOperations.addHandler(PreauthByteBudget(limit: limit), name: name, position: .first)
    }

    /// Lifts the budget after a successful handshake.
    static func remove(from channel: any Channel) {
        channel.pipeline.removeHandler(name: name, promise: nil)
    }
}
