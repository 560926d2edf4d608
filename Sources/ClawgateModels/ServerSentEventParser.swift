import NIOCore

/// One dispatched Server-Sent Event.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field, `nil` when the event had none (the spec's default type is "message").
    public var event: String?
    /// The `data:` lines of the event joined with `\n`.
    public var data: String
    /// The last event ID seen on the stream so far (it persists across events, as the spec says).
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An error of the SSE stream itself (not of the API carried in it).
public struct ServerSentEventParserError: Error, Sendable, Hashable, CustomStringConvertible {
    public var maxLineBytes: Int
    public var description: String { "a server-sent event line exceeded \(maxLineBytes) bytes" }
}

/// An incremental `text/event-stream` parser (WHATWG HTML, "Server-sent events").
///
/// Fed the response body's `ByteBuffer`s as they arrive, it returns the events those bytes
/// complete. Lines may end in `\n`, `\r\n` or `\r` and a chunk may end anywhere: inside a line,
/// between the `\r` and `\n` of one line end, or in the middle of a UTF-8 sequence — bytes are
/// only decoded once a whole line is in, and line ends are ASCII bytes that never occur inside a
/// multi-byte sequence, so the split cannot corrupt text.
///
/// Hand-written on purpose: mattt/EventSource's parser is an actor fed one byte per `await`,
/// far too slow for a proxy's hot path. This one is a plain value type that scans each chunk
/// for line ends in one pass and copies only the bytes of unfinished lines.
public struct ServerSentEventParser: Sendable {
    /// Longest accepted line (a misbehaving upstream must not grow memory without bound).
    public let maxLineBytes: Int

    private var line: [UInt8] = []
    /// The previous chunk ended in `\r`: a `\n` starting the next chunk belongs to that line end.
    private var lastWasCR = false
    /// A UTF-8 byte order mark may start the stream; it is not part of the first field name.
    private var atStreamStart = true

    private var eventType: String?
    private var dataBuffer = ""
    private var hasData = false
    private var lastEventId: String?

    public init(maxLineBytes: Int = 16 * 1024 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    /// Consumes one chunk of the body and returns the events it completed, in order.
    public mutating func feed(_ buffer: ByteBuffer) throws(ServerSentEventParserError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        try feed(buffer) { events.append($0) }
        return events
    }

    /// Consumes one chunk, handing each completed event to `onEvent` (no intermediate array).
    public mutating func feed(
        _ buffer: ByteBuffer, _ onEvent: (ServerSentEvent) -> Void
    ) throws(ServerSentEventParserError) {
        let overflow = buffer.withUnsafeReadableBytes { bytes in scan(bytes, onEvent) }
        if overflow { throw ServerSentEventParserError(maxLineBytes: maxLineBytes) }
    }

    /// Splits `bytes` into lines; returns `true` when a line outgrew `maxLineBytes`.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer, _ onEvent: (ServerSentEvent) -> Void) -> Bool {
        let end = bytes.count
        var start = 0
        if end == 0 { return false }

        if lastWasCR {
            lastWasCR = false
            if bytes[0] == 0x0A { start = 1 }
        }

        while start < end {
            var lineEnd = start
            while lineEnd < end, bytes[lineEnd] != 0x0A, bytes[lineEnd] != 0x0D { lineEnd += 1 }
            if line.count + (lineEnd - start) > maxLineBytes { return true }
            let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd])
            guard lineEnd < end else {
                // An unfinished line: keep its bytes for the next chunk.
                line.append(contentsOf: piece)
                return false
            }
            if line.isEmpty {
                processLine(piece, onEvent)
            } else {
                line.append(contentsOf: piece)
                // Move the line out (so `processLine` may mutate self), then hand the storage back.
                var complete: [UInt8] = []
                swap(&complete, &line)
                complete.withUnsafeBytes { processLine($0, onEvent) }
                complete.removeAll(keepingCapacity: true)
                line = complete
            }
            var next = lineEnd + 1
            if bytes[lineEnd] == 0x0D {
                if next == end {
                    lastWasCR = true
                } else if bytes[next] == 0x0A {
                    next += 1
                }
            }
            start = next
        }
        return false
    }

    /// Ends the stream. Per the spec an unterminated last line and an event not yet dispatched
    /// by a blank line are discarded; callers treat a stream that ends early as an error.
    public mutating func finish() {
        line.removeAll()
        lastWasCR = false
        resetEvent()
    }

    private mutating func resetEvent() {
        eventType = nil
        dataBuffer = ""
        hasData = false
    }

    private mutating func processLine(_ rawBytes: UnsafeRawBufferPointer, _ onEvent: (ServerSentEvent) -> Void) {
        var bytes = rawBytes
        if atStreamStart {
            atStreamStart = false
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
            }
        }
        if bytes.isEmpty {
            dispatch(onEvent)
            return
        }
        if bytes[0] == UInt8(ascii: ":") { return }  // a comment (keep-alive)

        let field: UnsafeRawBufferPointer
        let value: UnsafeRawBufferPointer
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = UnsafeRawBufferPointer(rebasing: bytes[..<colon])
            var valueStart = colon + 1
            if valueStart < bytes.count, bytes[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            value = UnsafeRawBufferPointer(rebasing: bytes[valueStart...])
        } else {
            field = bytes
            value = UnsafeRawBufferPointer(start: nil, count: 0)
        }

        switch Self.fieldName(field) {
        case .data:
            if hasData { dataBuffer.append("\n") }
            dataBuffer.append(Self.decode(value))
            hasData = true
        case .event:
            eventType = Self.decode(value)
        case .id:
            if !value.contains(0) { lastEventId = Self.decode(value) }
        case .other:
            break  // `retry` and unknown fields are ignored
        }
    }

    private mutating func dispatch(_ onEvent: (ServerSentEvent) -> Void) {
        defer { resetEvent() }
        guard hasData else { return }
        let type = (eventType?.isEmpty ?? true) ? nil : eventType
        onEvent(ServerSentEvent(event: type, data: dataBuffer, id: lastEventId))
    }

    private enum Field { case data, event, id, other }

    private static func fieldName(_ bytes: UnsafeRawBufferPointer) -> Field {
        switch bytes.count {
        case 4 where bytes.elementsEqual("data".utf8): .data
        case 5 where bytes.elementsEqual("event".utf8): .event
        case 2 where bytes.elementsEqual("id".utf8): .id
        default: .other
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        // Invalid UTF-8 becomes U+FFFD, as the spec's decoder does.
        String(decoding: bytes, as: UTF8.self)
    }
}
