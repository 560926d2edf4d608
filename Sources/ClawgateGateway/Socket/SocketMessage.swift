import NIOCore

/// One complete WebSocket data message (fragments already joined), as the peer sent it.
enum SocketMessage: Sendable {
    case text(ByteBuffer)
    case binary(ByteBuffer)

    var buffer: ByteBuffer {
        switch self {
        case .text(let buffer), .binary(let buffer): buffer
        }
    }
}
