import ClawgateProtocol
import Foundation
import NIOCore

/// The gateway's methods: name → handler. Authorization lives in `ScopePolicy` (one table of
/// scopes for every known method), so adding a feature means registering handlers here.
struct MethodTable: Sendable {
    /// Returns the response payload, or nil when the handler answers later by itself
    /// (long waits must not hold up the connection's other requests).
    typealias Handler = @Sendable (JSONValue?, MethodContext) async throws -> ByteBuffer?

    private(set) var handlers: [String: Handler] = [:]

    /// Method names as advertised in `hello-ok.features.methods`.
    var names: [String] { handlers.keys.sorted() }

    /// Registers a typed handler: params are checked against the closed field list and decoded,
    /// the result is encoded once into the response payload.
    mutating func register<P: MethodParams, R: Encodable & Sendable>(
        _ name: String, _ params: P.Type, _ handler: @escaping @Sendable (P, MethodContext) async throws -> R
    ) {
        precondition(handlers[name] == nil, "method \(name) registered twice")
        handlers[name] = { raw, context in
            let decoded = try Self.decode(P.self, from: raw, method: name)
            let result = try await handler(decoded, context)
            return ByteBuffer(bytes: try JSONCoding.encodeBytes(result))
        }
    }

    /// Registers a typed handler that returns its result already encoded as JSON (a cached
    /// snapshot).
    mutating func registerEncoded<P: MethodParams>(
        _ name: String, _ params: P.Type, _ handler: @escaping @Sendable (P, MethodContext) async throws -> Data
    ) {
        precondition(handlers[name] == nil, "method \(name) registered twice")
        handlers[name] = { raw, context in
            let decoded = try Self.decode(P.self, from: raw, method: name)
            return ByteBuffer(data: try await handler(decoded, context))
        }
    }

    /// Registers a handler whose answer may take long (`agent.wait`): it runs in its own task so
    /// the connection keeps serving other requests, and its result or error is sent when ready.
    mutating func registerDeferred<P: MethodParams, R: Encodable & Sendable>(
        _ name: String, _ params: P.Type, _ handler: @escaping @Sendable (P, MethodContext) async throws -> R
    ) {
        precondition(handlers[name] == nil, "method \(name) registered twice")
        handlers[name] = { raw, context in
            let decoded = try Self.decode(P.self, from: raw, method: name)
            guard context.connection.beginDeferred() else {
                throw MethodError.unavailable("too many requests waiting on this connection; retry later")
            }
            Task {
                defer { context.connection.endDeferred() }
                let answer: ByteBuffer
                do {
                    let result = try await handler(decoded, context)
                    answer = FrameEncoder.response(id: context.requestId, payloadJSON: ByteBuffer(bytes: try JSONCoding.encodeBytes(result)))
                } catch let error as MethodError {
                    answer = FrameEncoder.error(id: context.requestId, error.shape)
                } catch {
                    answer = FrameEncoder.error(id: context.requestId, ErrorShape(code: ErrorCode.unavailable, message: "\(name) failed: \(error)"))
                }
                await context.connection.sendResponse(answer, timeout: context.gateway.responseTimeout)
            }
            return nil
        }
    }

    /// Registers a handler that reads the raw params itself (to tell `null` from absent).
    mutating func registerRaw<R: Encodable & Sendable>(_ name: String, _ handler: @escaping @Sendable (JSONValue?, MethodContext) async throws -> R) {
        precondition(handlers[name] == nil, "method \(name) registered twice")
        handlers[name] = { raw, context in
            ByteBuffer(bytes: try JSONCoding.encodeBytes(try await handler(raw, context)))
        }
    }

    static func decode<P: MethodParams>(_ type: P.Type, from raw: JSONValue?, method: String) throws -> P {
        let object: [String: JSONValue]
        switch raw {
        case .none, .some(.null): object = [:]
        case .some(.object(let value)): object = value
        case .some(let other):
            throw MethodError.invalidRequest("invalid \(method) params: expected an object, got \(other.typeName)")
        }
        let fields = P.fields
        // Sorted only when something is wrong, so the error names the first unknown key.
        if object.keys.contains(where: { !fields.contains($0) }), let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw MethodError.invalidRequest("invalid \(method) params: unexpected property '\(unknown)'")
        }
        do {
            return try JSONCoding.decode(P.self, from: JSONValue.object(object))
        } catch {
            throw MethodError.invalidRequest("invalid \(method) params: \(JSONCoding.describe(error))")
        }
    }
}
