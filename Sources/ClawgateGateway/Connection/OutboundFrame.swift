import NIOCore

/// One outbound text frame as up to two buffers: a broadcast's body, shared by every recipient,
/// and the bytes of this connection alone (its `seq`). A broadcast to N connections then holds one
/// copy of the payload instead of N, in memory and in the write path.
struct OutboundFrame: Sendable {
    var shared: ByteBuffer?
    var own: ByteBuffer

    init(shared: ByteBuffer? = nil, own: ByteBuffer) {
        self.shared = shared
        self.own = own
    }

    init(_ buffer: ByteBuffer) {
        self.init(own: buffer)
    }

    /// Bytes counted against the connection's outbound buffer: the whole frame, shared part
    /// included, so the per-connection limit means the same as before.
    var byteCount: Int { (shared?.readableBytes ?? 0) + own.readableBytes }
}
