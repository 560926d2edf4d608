import ClawgateProtocol
import Foundation
import NIOCore

/// Writes a `req` frame straight into the buffer the socket sends.
///
/// Why not `JSONEncoder` over `RequestFrame`: that builds an encoder, a `Data` and then a
/// `String` per call. The envelope is four fixed keys; only `params` needs a real encoder, and
/// only when present.
enum RequestEncoding {
    static func frame(id: String, method: String, params: JSONValue?) throws -> ByteBuffer {
        try frame(id: id, method: method, paramsJSON: params.map { try JSONCoding.encode($0) })
    }

    /// A request whose params are already JSON text.
    static func frame(id: String, method: String, paramsJSON: Data?) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(id.utf8.count + method.utf8.count + (paramsJSON?.count ?? 0) + 48)
        buffer.writeStaticString(#"{"type":"req","id":"#)
        try writeJSONString(id, into: &buffer)
        buffer.writeStaticString(#","method":"#)
        try writeJSONString(method, into: &buffer)
        if let paramsJSON {
            buffer.writeStaticString(#","params":"#)
            buffer.writeBytes(paramsJSON)
        }
        buffer.writeStaticString("}")
        return buffer
    }

    /// A JSON string literal; plain printable ASCII (ids, method names) is copied as is,
    /// anything else goes through the encoder for correct escaping.
    static func writeJSONString(_ string: String, into buffer: inout ByteBuffer) throws {
        let plain = string.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        if plain {
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeString(string)
            buffer.writeInteger(UInt8(ascii: "\""))
        } else {
            buffer.writeBytes(try JSONCoding.encode(string))
        }
    }
}
