import ClawgateProtocol
import Foundation

/// The seed's message types. `capability_response` is what the gateway answers to a
/// `capability_query`; a client does not send it.
enum SeedMessageType: String, CaseIterable, Sendable {
    case register
    case heartbeat
    case taskOffer = "task_offer"
    case taskAccept = "task_accept"
    case taskReject = "task_reject"
    case taskUpdate = "task_update"
    case taskComplete = "task_complete"
    case stateSync = "state_sync"
    case capabilityQuery = "capability_query"
    case capabilityResponse = "capability_response"

    static var names: [String] { allCases.map(\.rawValue) }
}

/// A seed message: `{protocol_version, message_type, agent_id, namespace, timestamp, payload}`.
struct SeedEnvelope: Sendable {
    /// The protocol version this gateway speaks (and stamps on what it sends).
    static let protocolVersion = "1.0"

    var messageType: SeedMessageType
    var agentId: String
    /// The envelope's `namespace`, else the payload's; nil: the API's default.
    var namespace: String?
    var payload: ClawLinkBody

    /// Checks a posted envelope: `protocol_version` (optional) must be 1.x, `message_type` one
    /// of the seed's, `agent_id` present, `payload` (optional) an object.
    static func parse(_ body: ClawLinkBody) throws(ClawLinkError) -> SeedEnvelope {
        if let version = body.value("protocol_version"), !supports(version) {
            throw ClawLinkError.badRequest("unsupported protocol_version \(describe(version)): this gateway speaks \(protocolVersion)")
        }
        let known = SeedMessageType.names.joined(separator: ", ")
        guard let rawType = try body.string("message_type") else {
            throw ClawLinkError.badRequest("message_type is required: one of \(known)")
        }
        guard let messageType = SeedMessageType(rawValue: rawType) else {
            throw ClawLinkError.badRequest("unknown message_type \(rawType): expected one of \(known)")
        }
        guard let agentId = try body.string("agent_id") else { throw ClawLinkError.badRequest("agent_id is required") }
        if let timestamp = body.value("timestamp") {
            switch timestamp {
            case .string, .int, .double: break
            default: throw ClawLinkError.badRequest("timestamp must be an ISO 8601 string or epoch milliseconds, not \(timestamp.typeName)")
            }
        }
        let payload: ClawLinkBody
        switch body.value("payload") {
        case nil: payload = ClawLinkBody(fields: [:])
        case .object(let fields)?: payload = ClawLinkBody(fields: fields)
        case let other?: throw ClawLinkError.badRequest("payload must be an object, not \(other.typeName)")
        }
        var namespace = try body.string("namespace")
        if namespace == nil { namespace = try payload.string("namespace") }
        return SeedEnvelope(messageType: messageType, agentId: agentId, namespace: namespace, payload: payload)
    }

    /// Major version 1: `"1"`, `"1.0"`, `"1.2"`, `1`, `1.0`.
    static func supports(_ version: JSONValue) -> Bool {
        switch version {
        case .string(let text):
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            return parts.first == "1" && parts.count <= 3 && parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        case .int(let number): return number == 1
        case .double(let number): return number >= 1 && number < 2
        default: return false
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        value.stringValue ?? String(decoding: (try? JSONCoding.encode(value)) ?? Data(), as: UTF8.self)
    }

    /// An envelope the gateway sends (answers, listed events).
    static func make(
        _ messageType: String, agentId: String, namespace: String, timestampMs: Int, payload: JSONValue,
        extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        var fields: [String: JSONValue] = [
            "protocol_version": .string(protocolVersion),
            "message_type": .string(messageType),
            "agent_id": .string(agentId),
            "namespace": .string(namespace),
            "timestamp": .string(SeedRecords.iso(timestampMs)),
            "payload": payload,
        ]
        fields.merge(extra) { _, new in new }
        return .object(fields)
    }
}
