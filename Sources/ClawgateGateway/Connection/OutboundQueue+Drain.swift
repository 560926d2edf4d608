import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

extension OutboundQueue {
    /// The writer task of a socket: attaches the channel (queued frames then go straight to it)
    /// and sends the close frame once it is due. After a close frame it gives the peer time to
    /// answer the close handshake, then drops the TCP connection so a silent peer cannot hold
    /// the socket.
    func drain(into outbound: WebSocketOutboundWriter, channel: any Channel) async {
        defer { markWriterDone() }
        attach(channel)
        guard let request = await nextClose() else { return }
        try? await outbound.close(
            WebSocketErrorCode(codeNumber: Int(request.code)), reason: String(request.reason.utf8.prefix(120)) ?? "closing"
        )
        markWriterDone()
        channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
    }
}
