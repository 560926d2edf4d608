import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

extension OutboundQueue {
    /// The writer task of a socket: writes queued frames in order. After a close frame it gives
    /// the peer time to answer the close handshake, then drops the TCP connection so a silent
    /// peer cannot hold the socket.
    func drain(into outbound: WebSocketOutboundWriter, channel: any Channel) async {
        defer { markWriterDone() }
        while let item = await next() {
            switch item {
            case .frame(let frame):
                do {
                    // The shared part goes out as the frame's leading bytes (`extensionData`: no
                    // extension is negotiated, so it is plain payload), written from the one buffer
                    // every recipient shares.
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: frame.own, extensionData: frame.shared)))
                } catch {
                    finish()
                    return
                }
            case .close(let code, let reason):
                try? await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: String(reason.utf8.prefix(120)) ?? "closing")
                markWriterDone()
                channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                return
            }
        }
    }
}
