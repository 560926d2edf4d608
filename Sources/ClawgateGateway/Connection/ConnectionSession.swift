import ClawgateMesh
import ClawgateProtocol
import Foundation
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// The gateway protocol on one WebSocket: challenge, handshake, then request dispatch.
///
/// The socket's handler hands it complete messages on the event loop; they are handled in order
/// in the connection's inbox (a task only while requests wait), and answers go out through the
/// connection's bounded outbound queue, which writes them onto the channel.
final class ConnectionSession: SocketSession {
    let gateway: GatewayCore
    let request: UpgradeRequest
    let channel: any Channel
    let maxMessageBytes: Int
    private let connId = RandomID.uuid()
    private let nonce = RandomID.uuid()
    private let queue: OutboundQueue
    private let logger: Logger
    private let state = SessionState()
    private let inbox = SocketInbox<SocketMessage>()
    private let handshakeTimeout = Mutex<Scheduled<Void>?>(nil)

    /// A mesh agent's frames up to this size are parsed on the mesh's thread, larger ones on the
    /// global executor.
    static let meshThreadFrameBytes = 64 * 1024

    /// Where a mesh agent's frame of `byteCount` bytes is handled: parsing a frame of megabytes
    /// would hold up every mesh call behind it, so a large one goes to the global executor (nil:
    /// stay where the socket's task runs).
    static func meshFrameExecutor(byteCount: Int) -> (any TaskExecutor)? {
        byteCount > meshThreadFrameBytes ? globalConcurrentExecutor : nil
    }

    init(gateway: GatewayCore, request: UpgradeRequest, channel: any Channel) {
        self.gateway = gateway
        self.request = request
        self.channel = channel
        let limits = gateway.settings.limits
        self.maxMessageBytes = limits.maxPayloadBytes
        self.queue = OutboundQueue(capacity: limits.maxBufferedBytes, metrics: gateway.metrics.outboundQueue(.gateway))
        var logger = gateway.logger
        logger[metadataKey: "connId"] = "\(connId)"
        self.logger = logger
    }

    func start(_ control: SocketControl) {
        queue.attach(channel) { control.sendCloseOnLoop(code: $0.code, reason: $0.reason) }
        // A socket that acts for a mesh agent is handled on the mesh's thread: nearly all its
        // requests are mesh calls, which then need no thread hand-off each way (in the `mesh`
        // benchmark one pair's round trip p50 fell by 10-13 % in two A/Bs; 16 pairs' throughput
        // rose 29 % in one and stayed within noise in the other; BENCHMARKS.md). Other sockets
        // stay on the global executor, and so do a mesh agent's large frames and calls other
        // than `mesh.*` (`handle`, `handleFrame`).
        let (session, mesh) = (self.state, gateway.mesh)
        inbox.open(
            .init(
                run: { await self.handle($0) }, onRoom: { control.resumeReading() }, onEnd: { self.finished() },
                executor: { session.handle?.isMeshAgent == true ? mesh.taskExecutor : nil }
            )
        )
        let limits = gateway.settings.limits
        switch gateway.registry.admitPending(connId: connId, queue: queue) {
        case .admitted:
            break
        case .tooManyPending:
            logger.warning("refusing connection: too many unauthenticated sockets")
            queue.close(code: GatewayCloseCode.tryAgainLater, reason: "too many pending connections")
            return
        case .shuttingDown:
            queue.close(code: GatewayCloseCode.serviceRestart, reason: "service restart")
            return
        }
        // A little more than one maximal pre-auth frame plus headers and control frames.
        PreauthByteBudget.install(on: channel, limit: limits.maxPreauthPayloadBytes + 16 * 1024)
        let challenge = ConnectChallenge(nonce: nonce, ts: Clock.nowMs())
        _ = queue.enqueue(FrameEncoder.unsequencedEvent(event: GatewayEvent.connectChallenge, payloadJSON: FrameEncoder.encodeOrNull(challenge)))
        // A timer on the event loop rather than a sleeping task: it costs no task memory while it
        // waits and is cancelled as soon as the session ends.
        let (state, queue, logger) = (self.state, self.queue, self.logger)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(limits.handshakeTimeoutMs))) {
            if state.handle == nil {
                logger.info("handshake timeout")
                queue.close(code: GatewayCloseCode.policyViolation, reason: "handshake timeout")
            }
        }
        handshakeTimeout.withLock { $0 = timer }
    }

    func received(_ message: SocketMessage) -> Bool {
        inbox.post(message, bytes: message.buffer.readableBytes)
    }

    func messageTooLarge() {
        if let handle = state.handle {
            handle.close(code: GatewayCloseCode.messageTooBig, reason: "payload too large")
        } else {
            logger.info("pre-auth frame too large")
            queue.close(code: GatewayCloseCode.messageTooBig, reason: "preauth payload too large")
        }
    }

    func ended() {
        handshakeTimeout.withLock { $0?.cancel() }
        inbox.end()
    }

    /// After the socket closed and the requests that arrived before that were handled.
    private func finished() {
        queue.finish()
        gateway.registry.remove(connId: connId)
        if let handle = state.handle {
            gateway.connectionClosed(handle)
            logger.debug("connection closed")
        }
    }

    private func handle(_ message: SocketMessage) async {
        // A socket the gateway is closing takes no more requests.
        guard !queue.isClosing else { return }
        let buffer = message.buffer
        if let handle = state.handle {
            let executor = handle.isMeshAgent ? Self.meshFrameExecutor(byteCount: buffer.readableBytes) : nil
            await withTaskExecutorPreference(executor) {
                await handleFrame(message, byteCount: buffer.readableBytes, handle: handle, logger: logger)
            }
            return
        }
        let limits = gateway.settings.limits
        if buffer.readableBytes > limits.maxPreauthPayloadBytes {
            logger.info("pre-auth frame too large", metadata: ["bytes": "\(buffer.readableBytes)"])
            queue.close(code: GatewayCloseCode.messageTooBig, reason: "preauth payload too large")
            return
        }
        guard let handle = await handleHandshake(Data(buffer.readableBytesView), queue: queue, connId: connId, nonce: nonce, logger: logger) else {
            return
        }
        state.handle = handle
        handshakeTimeout.withLock { $0?.cancel() }
        PreauthByteBudget.remove(from: channel)
    }

    // MARK: handshake

    private func handleHandshake(_ data: Data, queue: OutboundQueue, connId: String, nonce: String, logger: Logger) async -> ConnectionHandle? {
        let remote = request.clientAddress(trustedProxies: gateway.settings.trustedProxies)?.ip ?? "unknown"
        func reject(id: String?, _ error: ErrorShape, close code: UInt16) -> ConnectionHandle? {
            // Never the frame itself: it may carry secrets.
            logger.warning(
                "connect rejected",
                metadata: [
                    "code": "\(error.code)", "reason": "\(error.detailCode ?? error.message)", "close": "\(code)",
                    "remote": "\(remote)",
                ]
            )
            queue.close(code: code, reason: error.message, after: id.map { FrameEncoder.error(id: $0, error) })
            return nil
        }
        let value: JSONValue
        do {
            value = try JSONCoding.jsonValue(from: data)
        } catch {
            logger.info("handshake closed: first frame is not valid JSON", metadata: ["remote": "\(remote)"])
            queue.close(code: GatewayCloseCode.policyViolation, reason: "invalid handshake: frame is not valid JSON")
            return nil
        }
        guard case .success(.request(let frame)) = GatewayFrame.parse(value) else {
            logger.info("handshake closed: first frame is not a request frame", metadata: ["remote": "\(remote)"])
            queue.close(code: GatewayCloseCode.policyViolation, reason: "invalid request frame")
            return nil
        }
        guard frame.method == "connect" else {
            return reject(
                id: frame.id,
                ErrorShape(code: ErrorCode.invalidRequest, message: "invalid handshake: first request must be connect"),
                close: GatewayCloseCode.policyViolation
            )
        }
        let params: ConnectParams
        do {
            guard case .object = frame.params else {
                throw DecodingError.typeMismatch(
                    [String: JSONValue].self, .init(codingPath: [], debugDescription: "params must be an object")
                )
            }
            params = try JSONCoding.decode(ConnectParams.self, from: frame.params ?? .null)
        } catch {
            let error = ErrorShape(code: ErrorCode.invalidRequest, message: "invalid connect params: \(JSONCoding.describe(error))")
            gateway.auditConnectRefused(error, params: nil, remote: remote)
            return reject(id: frame.id, error, close: GatewayCloseCode.policyViolation)
        }

        let authorizer = HandshakeAuthorizer(gateway: gateway)
        switch await authorizer.authorize(params, request: request, nonce: nonce) {
        case .failure(let rejection):
            gateway.metrics.handshakeRejected(rejection.error)
            gateway.auditConnectRefused(rejection.error, params: params, remote: remote)
            return reject(id: frame.id, rejection.error, close: rejection.closeCode)
        case .success(let admission):
            let remoteIP = request.clientAddress(trustedProxies: gateway.settings.trustedProxies)?.ip
            let handle = ConnectionHandle(
                connId: connId, role: admission.role, scopes: Set(admission.scopes), caps: Set(admission.caps),
                clientId: admission.client.id, clientMode: admission.client.mode, deviceId: admission.deviceId,
                protocolVersion: admission.protocolVersion, remoteIP: remoteIP, connectedAtMs: Clock.nowMs(),
                presence: presenceEntry(admission, remoteIP: remoteIP), queue: queue, channel: channel
            )
            // hello-ok must be the first frame after the challenge, and a client that got it must
            // also get every later broadcast (shutdown included). So hello-ok is queued inside
            // `promote`, under the registry lock that broadcasts snapshot connections with.
            // Presence is recorded first so that the hello-ok snapshot already lists the client.
            let presenceChanged = gateway.recordPresence(of: handle)
            // One read of the limits: hello-ok advertises the tick interval the ticker keeps.
            let limits = gateway.settings.limits
            let hello: ByteBuffer
            do {
                hello = FrameEncoder.response(
                    id: frame.id, payloadJSON: ByteBuffer(data: try JSONCoding.encode(helloOk(admission, connId: connId, limits: limits))))
            } catch {
                gateway.connectionClosed(handle)
                return reject(id: frame.id, ErrorShape(code: ErrorCode.unavailable, message: "cannot encode hello-ok"), close: 1011)
            }
            guard gateway.registry.promote(handle, beforeVisible: { handle.send(hello) }) else {
                gateway.connectionClosed(handle)
                return reject(
                    id: frame.id, ErrorShape(code: ErrorCode.unavailable, message: "gateway is shutting down", retryable: true),
                    close: GatewayCloseCode.serviceRestart
                )
            }
            if presenceChanged { gateway.announcePresence() }
            let registry = gateway.registry
            ConnectionTicker.start(handle, interval: .milliseconds(Int64(limits.tickIntervalMs)), isLive: { registry.isAccepting })
            gateway.auditConnectAdmitted(admission, connId: connId, remote: remote)
            logger.info(
                "client connected",
                metadata: [
                    "client": "\(admission.client.id)", "mode": "\(admission.client.mode)", "role": "\(admission.role.rawValue)",
                    "protocol": "\(admission.protocolVersion)", "device": "\(admission.deviceId ?? "-")",
                ]
            )
            return handle
        }
    }

    private func presenceEntry(_ admission: HandshakeAuthorizer.Admission, remoteIP: String?) -> PresenceEntry? {
        // CLI and probe clients come and go with each command; they are not shown as present.
        if admission.client.mode == "cli" || admission.client.mode == "probe" || admission.client.id == "cli" { return nil }
        var entry = PresenceEntry(ts: Clock.nowMs())
        entry.host = admission.client.displayName
        entry.ip = remoteIP
        entry.version = admission.client.version
        entry.platform = admission.client.platform
        entry.deviceFamily = admission.client.deviceFamily
        entry.modelIdentifier = admission.client.modelIdentifier
        entry.mode = admission.client.mode
        entry.reason = "connect"
        entry.deviceId = admission.deviceId
        entry.roles = [admission.role.rawValue]
        entry.scopes = admission.scopes
        entry.instanceId = admission.client.instanceId
        return entry
    }

    private func helloOk(_ admission: HandshakeAuthorizer.Admission, connId: String, limits: GatewaySettings.Limits) -> HelloOk {
        let admin = admission.scopes.contains(OperatorScope.admin)
        let (health, healthVersion) = gateway.health.current
        let presence = gateway.presence.listed
        return HelloOk(
            protocol: admission.protocolVersion,
            server: .init(version: GatewaySettings.version, connId: connId, host: gateway.hostName),
            features: .init(methods: gateway.methods.names, events: GatewayCore.advertisedEvents),
            snapshot: Snapshot(
                presence: presence.entries, health: health,
                stateVersion: StateVersion(presence: presence.version, health: healthVersion),
                uptimeMs: gateway.uptimeMs,
                configPath: admin ? gateway.settings.paths.configPath : nil,
                stateDir: admin ? gateway.settings.paths.stateDir : nil,
                sessionDefaults: .init(defaultAgentId: "main", mainKey: "main", mainSessionKey: "agent:main:main", scope: "per-sender"),
                authMode: gateway.settings.authMode.rawValue
            ),
            policy: .init(
                maxPayload: limits.maxPayloadBytes, maxBufferedBytes: limits.maxBufferedBytes, tickIntervalMs: limits.tickIntervalMs
            ),
            // Protocol 3 defines `auth` only together with an issued device token (its schema
            // requires `deviceToken` inside); protocol 4 always carries it.
            auth: admission.protocolVersion < 4 && admission.issuedDeviceToken == nil
                ? nil
                : .init(
                    role: admission.role.rawValue, scopes: admission.scopes.sorted(),
                    deviceToken: admission.issuedDeviceToken, issuedAtMs: admission.issuedAtMs
                )
        )
    }

    // MARK: after the handshake

    private func handleFrame(_ message: SocketMessage, byteCount: Int, handle: ConnectionHandle, logger: Logger) async {
        let value: JSONValue
        do {
            value = try message.buffer.withUnsafeReadableBytes { try JSONCoding.jsonValue(from: $0) }
        } catch {
            logger.debug("ignoring unparsable frame", metadata: ["bytes": "\(byteCount)"])
            return
        }
        await noteMeshActivity(handle)
        let responseTimeout = gateway.responseTimeout
        switch GatewayFrame.parse(value) {
        case .failure(let error):
            let answer = FrameEncoder.error(
                id: error.id ?? "invalid",
                ErrorShape(code: ErrorCode.invalidRequest, message: "invalid request frame: \(error.message)")
            )
            await handle.sendResponse(answer, timeout: responseTimeout)
        case .success(.request(let frame)):
            // A mesh agent's socket is handled on the mesh's thread (see `start`); any other call
            // it makes goes back to the global executor, so that a file write, an agent run or a
            // model call never holds up the mesh (nor do the child tasks such a call creates).
            let executor: (any TaskExecutor)? = handle.isMeshAgent && !frame.method.hasPrefix("mesh.") ? globalConcurrentExecutor : nil
            let answer = await withTaskExecutorPreference(executor) { await self.dispatch(frame, handle: handle, logger: logger) }
            if let answer {
                await handle.sendResponse(answer, timeout: responseTimeout)
            }
        case .success(.cancel), .success(.response), .success(.event), .success(.unknown):
            logger.trace("ignoring client frame that is not a request")
        }
    }

    /// Every frame from a connection bound to a mesh agent counts as that agent's heartbeat;
    /// it is written at most every 10 s so chatty agents do not turn into database writes.
    private func noteMeshActivity(_ handle: ConnectionHandle) async {
        let nowMs = Clock.nowMs()
        let due: String? = handle.meshBinding.withLock { binding in
            guard var current = binding, nowMs - current.heartbeatPersistedAtMs >= 10_000 else { return nil }
            current.heartbeatPersistedAtMs = nowMs
            binding = current
            return current.agentId
        }
        if let agentId = due { _ = try? await gateway.mesh.heartbeat(agentId: agentId) }
    }

    /// The response to send now, or nil when the method answers later by itself. Counted in
    /// the RPC series by method (registered names only) and outcome, with its duration; calls of
    /// admin methods and mesh authorization refusals are audited here, for every method alike.
    func dispatch(_ frame: RequestFrame, handle: ConnectionHandle, logger: Logger) async -> ByteBuffer? {
        let started = ContinuousClock.now
        let handler = gateway.methods.handlers[frame.method]
        let label = handler != nil || frame.method == "connect" ? frame.method : RPCMetrics.unknownMethod
        let (answer, outcome) = await answer(frame, handler: handler, handle: handle, logger: logger)
        gateway.metrics.rpc.series(label).record(outcome, duration: ContinuousClock.now - started)
        return answer
    }

    private func answer(
        _ frame: RequestFrame, handler: MethodTable.Handler?, handle: ConnectionHandle, logger: Logger
    ) async -> (ByteBuffer?, RPCOutcome) {
        if frame.method == "connect" {
            return (
                FrameEncoder.error(
                    id: frame.id, ErrorShape(code: ErrorCode.invalidRequest, message: "connect is only valid as the first frame")
                ), .error
            )
        }
        let audited = handle.role == .operator && !ScopePolicy.nodeMethods.contains(frame.method)
            && ScopePolicy.requiredScope(for: frame.method) == OperatorScope.admin
        if let denial = ScopePolicy.authorize(method: frame.method, role: handle.role, scopes: handle.scopes) {
            let error = ScopePolicy.error(for: denial, protocolVersion: handle.protocolVersion)
            if audited { gateway.auditAdminCall(method: frame.method, caller: handle, outcome: "denied", errorCode: error.code) }
            return (FrameEncoder.error(id: frame.id, error), .denied)
        }
        guard let handler else {
            if audited { gateway.auditAdminCall(method: frame.method, caller: handle, outcome: "unknown-method") }
            return (
                FrameEncoder.error(id: frame.id, ErrorShape(code: ErrorCode.invalidRequest, message: "unknown method: \(frame.method)")),
                .error
            )
        }
        do {
            let context = MethodContext(connection: handle, gateway: gateway, requestId: frame.id)
            let payload = try await handler(frame.params, context)
            if audited { gateway.auditAdminCall(method: frame.method, caller: handle, outcome: payload == nil ? "accepted" : "ok") }
            guard let payload else { return (nil, .ok) }
            return (FrameEncoder.response(id: frame.id, payloadJSON: payload), .ok)
        } catch let error as MethodError {
            if audited { gateway.auditAdminCall(method: frame.method, caller: handle, outcome: "error", errorCode: error.shape.code) }
            if frame.method.hasPrefix("mesh."), error.shape.detailCode == MeshError.Kind.forbidden.rawValue {
                gateway.auditMeshDenied(
                    surface: "ws", operation: frame.method, agentId: nil, reason: error.shape.message, remote: handle.remoteIP,
                    caller: handle
                )
            }
            return (FrameEncoder.error(id: frame.id, error.shape), .error)
        } catch {
            if audited { gateway.auditAdminCall(method: frame.method, caller: handle, outcome: "error", errorCode: ErrorCode.unavailable) }
            logger.error("method failed", metadata: ["method": "\(frame.method)", "error": "\(error)"])
            return (
                FrameEncoder.error(id: frame.id, ErrorShape(code: ErrorCode.unavailable, message: "\(frame.method) failed: \(error)")),
                .internalError
            )
        }
    }
}

/// Per-session state shared between the read loop and the handshake timer.
final class SessionState: Sendable {
    private let value = Mutex<ConnectionHandle?>(nil)

    var handle: ConnectionHandle? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
