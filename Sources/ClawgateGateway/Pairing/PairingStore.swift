import ClawgateSupport
import ClawgateProtocol
import Crypto
import Foundation

/// Paired devices, pending pairing requests and device tokens, persisted under
/// `<stateDir>/devices/` (`paired.json`, `pending.json`, mode 0600).
actor PairingStore {
    static let pendingTTLMs = 60 * 60 * 1000
    static let maxPending = 500

    let directory: String
    private var paired: [String: PairedDevice] = [:]
    private var pending: [String: PendingPairing] = [:]

    init(directory: String) throws {
        self.directory = directory
        self.paired = try Self.load([String: PairedDevice].self, from: (directory as NSString).appendingPathComponent("paired.json")) ?? [:]
        self.pending = try Self.load([String: PendingPairing].self, from: (directory as NSString).appendingPathComponent("pending.json")) ?? [:]
    }

    private static func load<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw GatewayStartupError.stateDirUnusable("\(path) is not readable pairing state: \(JSONCoding.describe(error))")
        }
    }

    private func persist() throws {
        try AtomicFile.write(try JSONCoding.encode(paired, sortedKeys: true), to: (directory as NSString).appendingPathComponent("paired.json"))
        try AtomicFile.write(try JSONCoding.encode(pending, sortedKeys: true), to: (directory as NSString).appendingPathComponent("pending.json"))
    }

    enum Standing: Equatable {
        case paired(PairedDevice)
        /// Unknown device, or a known one asking for more than it was granted.
        case needsApproval(reason: String)
    }

    func standing(of claim: PairingClaim) -> Standing {
        guard let device = paired[claim.deviceId] else { return .needsApproval(reason: "not-paired") }
        guard device.publicKey == claim.publicKey else { return .needsApproval(reason: "not-paired") }
        guard device.roles.contains(claim.role) else { return .needsApproval(reason: "role-upgrade") }
        if claim.role == GatewayRole.operator.rawValue,
            !claim.scopes.allSatisfy({ OperatorScope.satisfies(granted: device.scopes, required: $0) })
        {
            return .needsApproval(reason: "scope-upgrade")
        }
        return .paired(device)
    }

    /// Admits a device without an operator (direct loopback).
    func autoApprove(_ claim: PairingClaim, nowMs: Int) throws -> PairedDevice {
        var device = paired[claim.deviceId].flatMap { $0.publicKey == claim.publicKey ? $0 : nil }
            ?? PairedDevice(
                deviceId: claim.deviceId, publicKey: claim.publicKey, displayName: claim.displayName, platform: claim.platform,
                clientId: claim.clientId, roles: [], scopes: [], approvedAtMs: nowMs, approvedBy: "auto-local", tokens: [:]
            )
        merge(claim.role, claim.scopes, into: &device)
        device.approvedAtMs = nowMs
        paired[claim.deviceId] = device
        pending = pending.filter { $0.value.deviceId != claim.deviceId }
        try persist()
        return device
    }

    /// Files (or refreshes) a pending request; the same device keeps its request id.
    func request(_ claim: PairingClaim, reason: String, nowMs: Int) throws -> (PendingPairing, isNew: Bool) {
        expire(nowMs: nowMs)
        if var existing = pending.values.first(where: { $0.deviceId == claim.deviceId && $0.publicKey == claim.publicKey }) {
            let changed = existing.role != claim.role || existing.scopes != claim.scopes
            existing.role = claim.role
            existing.scopes = claim.scopes
            existing.reason = reason
            existing.remoteIp = claim.remoteIp
            pending[existing.requestId] = existing
            if changed { try persist() }
            return (existing, false)
        }
        if pending.count >= Self.maxPending, let oldest = pending.values.min(by: { $0.createdAtMs < $1.createdAtMs }) {
            pending[oldest.requestId] = nil
        }
        let request = PendingPairing(
            requestId: RandomID.uuid(), deviceId: claim.deviceId, publicKey: claim.publicKey, role: claim.role,
            scopes: claim.scopes, reason: reason, clientId: claim.clientId, clientMode: claim.clientMode,
            displayName: claim.displayName, platform: claim.platform, remoteIp: claim.remoteIp, createdAtMs: nowMs
        )
        pending[request.requestId] = request
        try persist()
        return (request, true)
    }

    enum DecisionError: Error, Equatable {
        case unknownRequest(String)
    }

    func approve(requestId: String, by approver: String, nowMs: Int) throws -> PendingPairing {
        expire(nowMs: nowMs)
        guard let request = pending.removeValue(forKey: requestId) else { throw DecisionError.unknownRequest(requestId) }
        var device = paired[request.deviceId].flatMap { $0.publicKey == request.publicKey ? $0 : nil }
            ?? PairedDevice(
                deviceId: request.deviceId, publicKey: request.publicKey, displayName: request.displayName,
                platform: request.platform, clientId: request.clientId, roles: [], scopes: [], approvedAtMs: nowMs,
                approvedBy: approver, tokens: [:]
            )
        merge(request.role, request.scopes, into: &device)
        device.approvedAtMs = nowMs
        device.approvedBy = approver
        paired[device.deviceId] = device
        try persist()
        return request
    }

    func reject(requestId: String, nowMs: Int) throws -> PendingPairing {
        expire(nowMs: nowMs)
        guard let request = pending.removeValue(forKey: requestId) else { throw DecisionError.unknownRequest(requestId) }
        try persist()
        return request
    }

    func remove(deviceId: String) throws -> Bool {
        let removed = paired.removeValue(forKey: deviceId) != nil
        let before = pending.count
        pending = pending.filter { $0.value.deviceId != deviceId }
        if removed || pending.count != before { try persist() }
        return removed
    }

    func device(_ deviceId: String) -> PairedDevice? { paired[deviceId] }

    func pending(requestId: String, nowMs: Int) -> PendingPairing? {
        expire(nowMs: nowMs)
        return pending[requestId]
    }

    /// Issues a new token for a device and role (replacing any previous one) and returns it once.
    func issueToken(deviceId: String, role: String, scopes: [String], nowMs: Int) throws -> String? {
        guard var device = paired[deviceId] else { return nil }
        let token = Secret.generate().reveal()
        device.tokens[role] = DeviceTokenRecord(tokenHash: Self.hash(token), scopes: scopes, issuedAtMs: nowMs, revokedAtMs: nil)
        if !device.roles.contains(role) { device.roles.append(role) }
        paired[deviceId] = device
        try persist()
        return token
    }

    func revokeToken(deviceId: String, role: String, nowMs: Int) throws -> Bool {
        guard var device = paired[deviceId], var record = device.tokens[role], record.revokedAtMs == nil else { return false }
        record.revokedAtMs = nowMs
        device.tokens[role] = record
        paired[deviceId] = device
        try persist()
        return true
    }

    /// The scopes a device token grants, or nil when it is not this device's live token for the role.
    func verifyToken(deviceId: String, role: String, token: String) -> [String]? {
        guard let record = paired[deviceId]?.tokens[role], record.revokedAtMs == nil else { return nil }
        return Secret.constantTimeEquals(Self.hash(token), record.tokenHash) ? record.scopes : nil
    }

    func list(nowMs: Int) -> DevicePairListResult {
        expire(nowMs: nowMs)
        return DevicePairListResult(
            pending: pending.values.sorted { $0.createdAtMs < $1.createdAtMs }.map(\.info),
            paired: paired.values.sorted { $0.approvedAtMs < $1.approvedAtMs }.map(\.info)
        )
    }

    var counts: (paired: Int, pending: Int) { (paired.count, pending.count) }

    private func merge(_ role: String, _ scopes: [String], into device: inout PairedDevice) {
        if !device.roles.contains(role) { device.roles.append(role) }
        for scope in scopes where !device.scopes.contains(scope) { device.scopes.append(scope) }
    }

    private func expire(nowMs: Int) {
        pending = pending.filter { nowMs - $0.value.createdAtMs < Self.pendingTTLMs }
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
