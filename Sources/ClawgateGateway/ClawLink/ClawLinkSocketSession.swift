import ClawgateMesh
import ClawgateProtocol
import Foundation
import Logging
import NIOCore
import Synchronization

/// One `/ws/{agent_id}` push socket: the agent's deliveries as relay message objects (what
/// waited on connect, then live), and the client frames `heartbeat`, `delegate`, `broadcast`
/// (and our `respond`). Any frame from the agent also settles what it was handed before it.
/// Bad frames get an `{"type":"error"}` answer; the socket stays open.
final class ClawLinkSocketSession: SocketSession {
    enum Job: Sendable {
        /// Connecting is a sign of life; what waited for the agent goes out now (leased).
        case opened
        /// Once per lease, whatever came back (a lease ran out unacknowledged) is pushed again;
        /// the open socket also keeps the agent online.
        case flush
        case message(SocketMessage)
    }

    let gateway: GatewayCore
    let agentId: String
    let channel: any Channel
    let maxMessageBytes = ClawLinkBody.maxBytes
    private let relay: ClawLinkRelay
    private let socket: ClawLinkSocket
    private let logger: Logger
    private let inbox = SocketInbox<Job>()
    private let flushTimer = Mutex<RepeatedTask?>(nil)

    init(gateway: GatewayCore, agentId: String, channel: any Channel) {
        self.gateway = gateway
        self.agentId = agentId
        self.channel = channel
        self.relay = ClawLinkRelay(gateway: gateway)
        self.socket = ClawLinkSocket(
            agentId: agentId, bufferBytes: gateway.settings.limits.maxBufferedBytes, metrics: gateway.metrics.outboundQueue(.clawlink)
        )
        var logger = gateway.logger
        logger[metadataKey: "clawlinkAgent"] = "\(agentId)"
        self.logger = logger
    }

    func start(_ control: SocketControl) {
        socket.queue.attach(channel) { control.sendCloseOnLoop(code: $0.code, reason: $0.reason) }
        // Everything this socket does is mesh work: on the mesh's thread it needs no hand-off.
        let executor = gateway.mesh.taskExecutor
        inbox.open(
            .init(run: { await self.handle($0) }, onRoom: { control.resumeReading() }, onEnd: { self.finished() }, executor: { executor })
        )
        if let previous = relay.hub.sockets.attach(socket) {
            previous.close(code: GatewayCloseCode.normal, reason: "replaced by a newer connection for this agent")
        }
        logger.debug("clawlink socket open")
        inbox.post(.opened)
        let period = TimeAmount.milliseconds(Int64(min(max(gateway.mesh.settings.leaseMs, 1000), 60_000)))
        let inbox = self.inbox
        let timer = channel.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            inbox.post(.flush)
        }
        flushTimer.withLock { $0 = timer }
    }

    func received(_ message: SocketMessage) -> Bool {
        inbox.post(.message(message), bytes: message.buffer.readableBytes)
    }

    func messageTooLarge() {
        socket.close(code: GatewayCloseCode.messageTooBig, reason: "frame larger than \(ClawLinkBody.maxBytes) bytes")
    }

    func ended() {
        flushTimer.withLock { $0?.cancel() }
        inbox.end()
    }

    /// After the socket closed and what arrived before that was handled.
    private func finished() {
        socket.queue.finish()
        // Pushed but not settled by a later frame: maybe never arrived. The lease brings it
        // back rather than the agent's next poll acknowledging it.
        relay.hub.handouts.remove(agentId: agentId, deliveryIds: socket.pushedDeliveryIds)
        relay.hub.sockets.detach(socket)
        logger.debug("clawlink socket closed")
    }

    private func handle(_ job: Job) async {
        guard !socket.queue.isClosing else { return }
        switch job {
        case .opened:
            _ = try? await gateway.mesh.heartbeat(agentId: agentId)
            do {
                try await gateway.mesh.flush(agentId: agentId)
            } catch {
                logger.warning("clawlink flush failed", metadata: ["error": "\(error)"])
            }
        case .flush:
            guard relay.hub.sockets.socket(for: agentId) === socket else { return }
            try? await gateway.mesh.flush(agentId: agentId)
        case .message(let message):
            // The agent is talking again after what it was handed: that counts as received.
            await relay.settle(agentId: agentId)
            // Like a mesh agent's gateway socket: a large frame is parsed off the mesh's thread.
            let executor = ConnectionSession.meshFrameExecutor(byteCount: message.buffer.readableBytes)
            let reply = await withTaskExecutorPreference(executor) {
                await handle(Data(message.buffer.readableBytesView), relay: relay, logger: logger)
            }
            if let reply { socket.send(reply) }
        }
    }

    /// The answer to one client frame, if any.
    func handle(_ data: Data, relay: ClawLinkRelay, logger: Logger) async -> JSONValue? {
        let body: ClawLinkBody
        do {
            body = try ClawLinkBody.parse(data)
        } catch {
            return Self.errorFrame(error.message)
        }
        let type = body.fields["type"]?.stringValue ?? ""
        do {
            switch type {
            case "heartbeat", "ping":
                _ = try await gateway.mesh.heartbeat(agentId: agentId)
                return nil
            case "delegate":
                return try await reply("delegated", relay.delegate(body, from: agentId))
            case "broadcast":
                return try await reply("broadcast_sent", relay.broadcast(body, from: agentId))
            case "respond":
                return try await reply("response_sent", relay.respond(body, from: agentId))
            default:
                let shown = type.isEmpty ? "a frame without a type" : "unknown frame type \(type.prefix(64))"
                return Self.errorFrame("\(shown) (expected heartbeat, delegate, broadcast or respond)")
            }
        } catch let error as ClawLinkError {
            return Self.errorFrame(error.message, request: type)
        } catch let error as MeshError {
            if error.kind == .forbidden {
                gateway.auditMeshDenied(
                    surface: "clawlink.ws", operation: String(type.prefix(64)), agentId: agentId, reason: error.message,
                    remote: ClientAddress(channel.remoteAddress)?.ip
                )
            }
            return Self.errorFrame(error.message, request: type)
        } catch {
            logger.error("clawlink frame failed", metadata: ["type": "\(type.prefix(64))", "error": "\(error)"])
            return Self.errorFrame("internal error", request: type)
        }
    }

    /// A success answer: the HTTP answer with `type` set.
    private func reply(_ type: String, _ answer: JSONValue) -> JSONValue {
        var fields = answer.objectValue ?? [:]
        fields["type"] = .string(type)
        return .object(fields)
    }

    static func errorFrame(_ message: String, request: String? = nil) -> JSONValue {
        var fields: [String: JSONValue] = ["type": "error", "error": .string(message)]
        if let request, !request.isEmpty { fields["request"] = .string(String(request.prefix(64))) }
        return .object(fields)
    }

}
