import ClawgateMesh
import ClawgateProtocol
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// One `/ws/{agent_id}` push socket: the agent's deliveries as relay message objects (what
/// waited on connect, then live), and the client frames `heartbeat`, `delegate`, `broadcast`
/// (and our `respond`). Any frame from the agent also settles what it was handed before it.
/// Bad frames get an `{"type":"error"}` answer; the socket stays open.
struct ClawLinkSocketSession: Sendable {
    let gateway: GatewayCore
    let agentId: String
    let channel: any Channel

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let relay = ClawLinkRelay(gateway: gateway)
        let socket = ClawLinkSocket(
            agentId: agentId, bufferBytes: gateway.settings.limits.maxBufferedBytes, metrics: gateway.metrics.outboundQueue(.clawlink)
        )
        if let previous = relay.hub.sockets.attach(socket) {
            previous.close(code: GatewayCloseCode.normal, reason: "replaced by a newer connection for this agent")
        }
        var logger = gateway.logger
        logger[metadataKey: "clawlinkAgent"] = "\(agentId)"
        logger.debug("clawlink socket open")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await socket.queue.drain(into: outbound, channel: channel) }
            // Connecting is a sign of life; what waited for the agent goes out now (leased).
            _ = try? await gateway.mesh.heartbeat(agentId: agentId)
            do {
                try await gateway.mesh.flush(agentId: agentId)
            } catch {
                logger.warning("clawlink flush failed", metadata: ["error": "\(error)"])
            }
            // Once per lease, whatever came back (a lease ran out unacknowledged) is pushed
            // again; the open socket also keeps the agent online.
            let period = Duration.milliseconds(min(max(gateway.mesh.settings.leaseMs, 1000), 60_000))
            group.addTask {
                while (try? await Task.sleep(for: period)) != nil, !socket.queue.isClosing {
                    guard relay.hub.sockets.socket(for: agentId) === socket else { continue }
                    try? await gateway.mesh.flush(agentId: agentId)
                }
            }
            await readLoop(inbound: inbound, socket: socket, relay: relay, logger: logger)
            // No more pushes here (a server-side close is already flushing its close frame).
            if !socket.queue.isClosing { socket.queue.finish() }
            // Pushed but not settled by a later frame: maybe never arrived. The lease brings it
            // back rather than the agent's next poll acknowledging it.
            relay.hub.handouts.remove(agentId: agentId, deliveryIds: socket.pushedDeliveryIds)
            relay.hub.sockets.detach(socket)
            let deadline = ContinuousClock.now.advanced(by: .seconds(5))
            while !socket.queue.writerDone && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            socket.queue.finish()
            group.cancelAll()
        }
        relay.hub.sockets.detach(socket)
        logger.debug("clawlink socket closed")
    }

    private func readLoop(inbound: WebSocketInboundStream, socket: ClawLinkSocket, relay: ClawLinkRelay, logger: Logger) async {
        var iterator = inbound.makeAsyncIterator()
        while !socket.queue.isClosing {
            let message: WebSocketMessage?
            do {
                message = try await iterator.nextMessage(maxSize: ClawLinkBody.maxBytes)
            } catch {
                logger.debug("clawlink socket read failed", metadata: ["error": "\(error)"])
                socket.close(code: GatewayCloseCode.messageTooBig, reason: "frame larger than \(ClawLinkBody.maxBytes) bytes")
                return
            }
            guard let message, !socket.queue.isClosing else { return }
            let data: Data
            switch message {
            case .text(let text): data = Data(text.utf8)
            case .binary(let buffer): data = Data(buffer.readableBytesView)
            }
            // The agent is talking again after what it was handed: that counts as received.
            await relay.settle(agentId: agentId)
            if let reply = await handle(data, relay: relay, logger: logger) { socket.send(reply) }
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
