import ClawgateProtocol
import Foundation
import NIOCore

/// Builds outbound frames as bytes. Events are encoded once as a prefix and stamped with each
/// connection's own `seq` at enqueue time, so a broadcast costs one JSON encoding in total.
enum FrameEncoder {
    static func response(id: String, payloadJSON: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payloadJSON.readableBytes + id.utf8.count + 48)
        buffer.writeString(#"{"type":"res","id":"#)
        writeJSONString(id, into: &buffer)
        buffer.writeString(#","ok":true,"payload":"#)
        var payload = payloadJSON
        buffer.writeBuffer(&payload)
        buffer.writeString("}")
        return buffer
    }

    static func error(id: String, _ error: ErrorShape) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(#"{"type":"res","id":"#)
        writeJSONString(id, into: &buffer)
        buffer.writeString(#","ok":false,"error":"#)
        buffer.writeBytes(encodeOrNull(error))
        buffer.writeString("}")
        return buffer
    }

    /// `{"type":"event","event":…,"payload":…[,"stateVersion":…]` — the caller appends the seq.
    static func eventPrefix(event: String, payloadJSON: some Collection<UInt8>, stateVersion: StateVersion?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payloadJSON.count + event.utf8.count + 64)
        buffer.writeString(#"{"type":"event","event":"#)
        writeJSONString(event, into: &buffer)
        buffer.writeString(#","payload":"#)
        buffer.writeBytes(payloadJSON)
        if let stateVersion {
            buffer.writeString(#","stateVersion":{"presence":\#(stateVersion.presence),"health":\#(stateVersion.health)}"#)
        }
        return buffer
    }

    /// The event as this connection sends it: the shared prefix, not copied, then its own seq.
    static func stamp(_ prefix: ByteBuffer, seq: Int) -> OutboundFrame {
        OutboundFrame(shared: prefix, own: ByteBuffer(string: #","seq":\#(seq)}"#))
    }

    /// An event frame without `seq` (only `connect.challenge`, sent before anything else).
    static func unsequencedEvent(event: String, payloadJSON: Data) -> ByteBuffer {
        var buffer = eventPrefix(event: event, payloadJSON: payloadJSON, stateVersion: nil)
        buffer.writeString("}")
        return buffer
    }

    static func encodeOrNull<T: Encodable>(_ value: T) -> Data {
        (try? JSONCoding.encode(value)) ?? Data("null".utf8)
    }

    /// A JSON string literal. Request ids and event names are plain printable ASCII and are
    /// copied as they are (an encoder per response was a measurable share of an RPC); anything
    /// else goes through the encoder for correct escaping.
    static func writeJSONString(_ string: String, into buffer: inout ByteBuffer) {
        let plain = string.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        guard plain else {
            buffer.writeBytes(encodeOrNull(string))
            return
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeString(string)
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
