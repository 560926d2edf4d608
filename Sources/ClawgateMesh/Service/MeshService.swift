import ClawgateProtocol
import Crypto
import Foundation
import Synchronization

/// The mesh: registry, discovery, delegation and durable delivery.
///
/// One actor per gateway process serializes the read-modify-write of every operation; each
/// operation commits one `MeshChange` before anything is acknowledged or pushed, so an
/// acknowledged change survives a crash. Task rows carry a version, so replicas sharing one
/// database (a later storage backend) detect concurrent writers instead of overwriting them.
public actor MeshService {
    let store: any MeshStore
    /// Replaced as a whole on a config reload; every operation reads the current value.
    private let currentSettings: Mutex<MeshSettings>
    public nonisolated var settings: MeshSettings { currentSettings.withLock { $0 } }
    let now: @Sendable () -> Int
    /// Told about every committed step (the gateway's metrics); see `MeshObserver`.
    public nonisolated let observer: any MeshObserver
    private var sink: (any MeshPushSink)?

    /// The store's executor, so store calls run here without a thread hop (see `MeshStore`).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { store.executor.asUnownedSerialExecutor() }
    /// The store's thread as a task executor (see `MeshStore.taskExecutor`).
    public nonisolated var taskExecutor: any TaskExecutor { store.taskExecutor }

    public init(
        store: any MeshStore, settings: MeshSettings = .init(), observer: any MeshObserver = NoMeshObserver(),
        now: @escaping @Sendable () -> Int = MeshClock.nowMs
    ) {
        self.store = store
        self.currentSettings = Mutex(settings)
        self.observer = observer
        self.now = now
    }

    /// Swaps the knobs (config hot reload); operations already running keep what they read.
    public nonisolated func update(settings: MeshSettings) {
        currentSettings.withLock { $0 = settings }
    }

    public func setSink(_ sink: (any MeshPushSink)?) {
        self.sink = sink
    }

    // MARK: agents

    /// Registers (or re-registers) an agent. A new agent gets a credential, returned only here.
    /// Re-registering an existing id needs its credential, or `ownerProven` (the caller already
    /// acts for this agent, e.g. a connection bound to it), unless `trustedCaller` (an operator).
    public func register(
        _ registration: AgentRegistration, credential presented: String? = nil, ownerProven: Bool = false,
        trustedCaller: Bool = false
    ) async throws -> (agent: MeshAgent, credential: String?) {
        let agentId = try registration.agentId.map { try MeshValidation.name($0, field: "agentId") } ?? MeshIDs.agentId()
        let existing = try await store.agent(id: agentId)
        let namespace = try MeshValidation.name(registration.namespace ?? existing?.namespace ?? "default", field: "namespace")
        if !settings.allowedNamespaces.isEmpty && !settings.allowedNamespaces.contains(namespace) {
            throw MeshError(.forbidden, "namespace \(namespace) is not allowed on this gateway")
        }
        if !settings.allowedAgents.isEmpty && !settings.allowedAgents.contains(agentId) {
            throw MeshError(.forbidden, "agent \(agentId) is not allowed on this gateway")
        }
        // Fields left out of a re-registration keep what the agent had.
        let capabilities = try MeshValidation.list(registration.capabilities ?? existing?.capabilities ?? [], field: "capabilities")
        let agentTypes = try MeshValidation.list(registration.agentTypes ?? existing?.agentTypes ?? [], field: "agentTypes")
        let models = try MeshValidation.list(registration.models ?? existing?.models ?? [], field: "models")
        let topics = try (registration.topics ?? existing?.topics).map { try MeshValidation.list($0, field: "topics") }
        let maxConcurrent = registration.maxConcurrentTasks ?? existing?.maxConcurrentTasks ?? 1
        guard (1...10_000).contains(maxConcurrent) else {
            throw MeshError(.invalidInput, "maxConcurrentTasks must be between 1 and 10000")
        }
        let description = registration.description ?? existing?.description ?? ""
        guard description.utf8.count <= 4096 else { throw MeshError(.invalidInput, "description is longer than 4096 bytes") }
        let name = registration.name.map { String($0.prefix(128)) } ?? existing?.name ?? "agent-\(agentId.prefix(4))"
        let nowMs = now()

        var credential: String?
        let credentialHash: String
        if let existing {
            let proven = ownerProven || (presented.map { MeshCredential.matches($0, hash: existing.credentialHash) } ?? false)
            guard proven || trustedCaller else {
                throw MeshError(.forbidden, "agent id \(agentId) is already registered; present its credential to re-register")
            }
            guard existing.namespace == namespace || trustedCaller else {
                throw MeshError(.forbidden, "agent \(agentId) belongs to namespace \(existing.namespace)")
            }
            credentialHash = existing.credentialHash
        } else {
            let fresh = MeshCredential.generate()
            credential = fresh
            credentialHash = MeshCredential.hash(fresh)
        }
        let agent = MeshAgent(
            agentId: agentId, namespace: namespace, name: name, capabilities: capabilities, agentTypes: agentTypes,
            maxConcurrentTasks: maxConcurrent, models: models, description: description,
            machine: registration.machine ?? existing?.machine, registeredAtMs: existing?.registeredAtMs ?? nowMs,
            lastHeartbeatMs: nowMs, credentialHash: credentialHash, topics: topics
        )
        var change = MeshChange()
        change.upsertAgents = [agent]
        var unchanged = existing
        unchanged?.lastHeartbeatMs = nowMs
        if existing == nil {
            change.events = [event(namespace, MeshEventType.agentRegistered, ["agentId": .string(agentId), "name": .string(name)])]
        } else if unchanged != agent {
            change.events = [event(namespace, MeshEventType.agentUpdated, ["agentId": .string(agentId), "name": .string(name)])]
        }
        try await commit(change)
        observer.received(.register)
        return (agent, credential)
    }

    /// The agent a credential belongs to; fails closed.
    public func authenticate(agentId: String, credential: String) async throws -> MeshAgent {
        guard let agent = try await store.agent(id: agentId), MeshCredential.matches(credential, hash: agent.credentialHash) else {
            throw MeshError(.forbidden, "unknown agent or wrong credential")
        }
        return agent
    }

    public func agent(_ agentId: String) async throws -> MeshAgent? {
        try await store.agent(id: agentId)
    }

    public func heartbeat(agentId: String) async throws -> AgentView {
        var agent = try await requireAgent(agentId)
        agent.lastHeartbeatMs = now()
        var change = MeshChange()
        change.heartbeats = [(agentId, agent.lastHeartbeatMs)]
        try await commit(change)
        observer.received(.heartbeat)
        return try await view(of: agent)
    }

    /// An agent with its live status and load.
    public func view(agentId: String) async throws -> AgentView {
        try await view(of: try await requireAgent(agentId))
    }

    private func view(of agent: MeshAgent) async throws -> AgentView {
        let load = try await store.activeTaskCounts(namespace: agent.namespace)[agent.agentId] ?? 0
        return AgentView(agent, status: agent.status(nowMs: now(), staleAfterMs: settings.staleAfterMs), activeTasks: load)
    }

    public func deregister(agentId: String) async throws {
        let agent = try await requireAgent(agentId)
        var change = MeshChange()
        change.deleteAgents = [agentId]
        change.events = [event(agent.namespace, MeshEventType.agentDeregistered, ["agentId": .string(agentId)])]
        try await commit(change)
        observer.received(.deregister)
        observer.agentsRemoved([agentId], expired: false)
    }

    /// Agents of a namespace, filtered by capabilities (all of), agent type and status.
    public func discover(
        namespace: String, capabilities: [String] = [], agentType: String? = nil, status: AgentStatus? = nil
    ) async throws -> [AgentView] {
        let nowMs = now()
        let loads = try await store.activeTaskCounts(namespace: namespace)
        return try await store.agents(namespace: namespace)
            .filter { $0.supports(all: capabilities) }
            .filter { agentType == nil || $0.agentTypes.contains(agentType ?? "") }
            .map { AgentView($0, status: $0.status(nowMs: nowMs, staleAfterMs: settings.staleAfterMs), activeTasks: loads[$0.agentId] ?? 0) }
            .filter { status == nil || $0.status == status }
            .sorted { $0.agentId < $1.agentId }
    }

    // MARK: delegation

    public func delegate(_ request: DelegateRequest, from delegator: String) async throws -> MeshTask {
        let from = try await requireAgent(delegator)
        let nowMs = now()
        if let key = request.idempotencyKey {
            guard !key.isEmpty, key.utf8.count <= 256 else { throw MeshError(.invalidInput, "idempotencyKey must be 1 to 256 bytes") }
            if let existing = try await store.task(namespace: from.namespace, from: from.agentId, idempotencyKey: key) {
                observer.received(.taskOffer)
                return existing
            }
        }
        let type = request.type.trimmingCharacters(in: .whitespaces)
        guard !type.isEmpty, type.utf8.count <= 256 else { throw MeshError(.invalidInput, "type must be 1 to 256 bytes") }
        switch (request.to, request.requirements) {
        case (nil, nil): throw MeshError(.invalidInput, "say who should do the task: `to` (an agent id) or `requirements`")
        case (.some, .some): throw MeshError(.invalidInput, "give either `to` or `requirements`, not both")
        default: break
        }
        try MeshValidation.size(of: request.context, field: "context", limit: settings.maxMessageBytes)
        guard request.description.utf8.count <= settings.maxMessageBytes else {
            throw MeshError(.tooLarge, "description is larger than \(settings.maxMessageBytes) bytes")
        }
        if let deadline = request.deadlineMs, deadline <= nowMs {
            throw MeshError(.invalidInput, "deadline is in the past")
        }
        if let to = request.to {
            guard to != from.agentId else { throw MeshError(.invalidInput, "an agent cannot delegate to itself") }
            guard let recipient = try await store.agent(id: to), recipient.namespace == from.namespace else {
                throw MeshError(.notFound, "unknown agent \(to) in namespace \(from.namespace)")
            }
        }
        var task = MeshTask(
            taskId: MeshIDs.taskId(), namespace: from.namespace, from: from.agentId, to: request.to,
            requirements: request.requirements, type: type, description: request.description, context: request.context,
            files: request.files, priority: request.priority, deadlineMs: request.deadlineMs,
            idempotencyKey: request.idempotencyKey, state: .queued, assignee: nil, rejectedBy: [], attempts: 0,
            progress: nil, result: nil, error: nil, createdAtMs: nowMs, updatedAtMs: nowMs, version: 0
        )
        var change = MeshChange()
        change.events = [event(task.namespace, MeshEventType.taskCreated, summary(task))]
        try await route(&task, into: &change, nowMs: nowMs)
        change.upsertTasks.append((task, nil))
        do {
            try await commit(change)
        } catch {
            // Lost a race on the idempotency key (a concurrent retry, or another replica): the
            // first task wins and is the answer to both.
            if let key = request.idempotencyKey,
                let existing = try await store.task(namespace: from.namespace, from: from.agentId, idempotencyKey: key)
            {
                observer.received(.taskOffer)
                return existing
            }
            throw error
        }
        observer.received(.taskOffer)
        observer.taskChanged(task, previous: nil)
        return task
    }

    public func accept(taskId: String, by agentId: String) async throws -> MeshTask {
        var answered: [MeshDelivery] = []
        let task = try await transition(taskId, by: agentId, .accept(by: agentId), event: MeshEventType.taskAccepted) {
            task, change, _ in
            answered = try await self.offerDeliveries(of: task)
            change.deleteDeliveries += answered.map(\.deliveryId)
        }
        observer.received(.taskAccept)
        observer.settled(answered, nowMs: task.updatedAtMs)
        return task
    }

    public func reject(taskId: String, by agentId: String, reason: String? = nil) async throws -> MeshTask {
        var answered: [MeshDelivery] = []
        let task = try await transition(taskId, by: agentId, .reject(by: agentId, reason: reason), event: MeshEventType.taskRejected) {
            task, change, nowMs in
            answered = try await self.offerDeliveries(of: task)
            change.deleteDeliveries += answered.map(\.deliveryId)
            if task.state == .queued {
                try await self.route(&task, into: &change, nowMs: nowMs)
            } else {
                self.add(self.resultDelivery(task, nowMs: nowMs), to: &change, nowMs: nowMs)
            }
        }
        observer.received(.taskReject)
        observer.settled(answered, nowMs: task.updatedAtMs)
        return task
    }

    public func update(taskId: String, by agentId: String, percentage: Int?, message: String?) async throws -> MeshTask {
        if let percentage, !(0...100).contains(percentage) {
            throw MeshError(.invalidInput, "percentage must be between 0 and 100")
        }
        if let message, message.utf8.count > settings.maxMessageBytes {
            throw MeshError(.tooLarge, "message is larger than \(settings.maxMessageBytes) bytes")
        }
        let task = try await transition(
            taskId, by: agentId, .update(by: agentId, percentage: percentage, message: message), event: MeshEventType.taskUpdated
        ) { _, _, _ in }
        observer.received(.taskUpdate)
        return task
    }

    public func complete(taskId: String, by agentId: String, result: JSONValue?) async throws -> MeshTask {
        try MeshValidation.size(of: result, field: "result", limit: settings.maxMessageBytes)
        let task = try await transition(taskId, by: agentId, .complete(by: agentId), event: MeshEventType.taskCompleted) {
            task, change, nowMs in
            task.result = result
            self.add(self.resultDelivery(task, nowMs: nowMs), to: &change, nowMs: nowMs)
        }
        observer.received(.taskComplete)
        return task
    }

    public func fail(taskId: String, by agentId: String, error: String) async throws -> MeshTask {
        guard error.utf8.count <= settings.maxMessageBytes else {
            throw MeshError(.tooLarge, "error is larger than \(settings.maxMessageBytes) bytes")
        }
        let task = try await transition(taskId, by: agentId, .fail(by: agentId, error: error), event: MeshEventType.taskFailed) {
            task, change, nowMs in
            self.add(self.resultDelivery(task, nowMs: nowMs), to: &change, nowMs: nowMs)
        }
        observer.received(.taskFail)
        return task
    }

    public func cancel(taskId: String, by agentId: String) async throws -> MeshTask {
        let task = try await transition(taskId, by: agentId, .cancel(by: agentId), event: MeshEventType.taskCanceled) {
            task, change, nowMs in
            try await self.withdraw(task, into: &change, nowMs: nowMs)
        }
        observer.received(.taskCancel)
        return task
    }

    /// A task as seen by an agent of its namespace.
    public func task(_ taskId: String, asSeenBy agentId: String) async throws -> MeshTask {
        let agent = try await requireAgent(agentId)
        guard let task = try await store.task(id: taskId), task.namespace == agent.namespace else {
            throw MeshError(.notFound, "unknown task \(taskId)")
        }
        return task
    }

    public func tasks(_ query: TaskQuery) async throws -> [MeshTask] {
        try await store.tasks(query)
    }

    // MARK: delivery

    /// Hands out what waits for the agent (never destructively): each delivery is leased and
    /// comes back if it is not acknowledged (or, for offers, answered) within the lease.
    ///
    /// A delivery that someone else leased (a push, the sweep, another poll, another replica) or
    /// removed (an answer) between the read and the write is left out of this answer, and the
    /// rest are leased: that lease stands, and the delivery comes back when it runs out. Re-reading
    /// and retrying the whole set instead can lose every attempt to a sweep that re-leases a long
    /// backlog one delivery per commit.
    public func poll(agentId: String, limit: Int = 100) async throws -> [MeshDelivery] {
        _ = try await requireAgent(agentId)
        let nowMs = now()
        var candidates = try await store.availableDeliveries(recipient: agentId, nowMs: nowMs, limit: max(1, min(limit, 1000)))
        while true {
            var change = MeshChange()
            change.expectedLeases = candidates.map { ($0.deliveryId, $0.leaseUntilMs) }
            var leased = candidates
            for index in leased.indices {
                leased[index].attempts += 1
                leased[index].leaseUntilMs = nowMs + settings.leaseMs
            }
            change.heartbeats = [(agentId, nowMs)]
            change.upsertDeliveries = leased
            do {
                try await commit(change)
            } catch MeshStoreError.leaseConflict(let deliveryId) {
                // Each round drops one candidate, so this ends (at the latest with nothing to
                // lease, which cannot conflict).
                let before = candidates.count
                candidates.removeAll { $0.deliveryId == deliveryId }
                guard candidates.count < before else { throw MeshError(.conflict, "deliveries changed concurrently; poll again") }
                continue
            }
            observer.received(.poll)
            if !leased.isEmpty { observer.sent(leased) }
            return leased
        }
    }

    /// Acknowledges deliveries the agent has processed. Offers are answered with accept/reject.
    public func ack(agentId: String, deliveryIds: [String]) async throws -> Int {
        _ = try await requireAgent(agentId)
        var change = MeshChange()
        var acknowledged: [MeshDelivery] = []
        for id in deliveryIds {
            guard let delivery = try await store.delivery(id: id), delivery.recipient == agentId else {
                throw MeshError(.notFound, "unknown delivery \(id)")
            }
            guard delivery.kind != .taskOffer else {
                throw MeshError(.invalidInput, "delivery \(id) is a task offer: answer it with accept or reject")
            }
            change.deleteDeliveries.append(id)
            acknowledged.append(delivery)
        }
        try await commit(change)
        observer.received(.ack)
        observer.settled(acknowledged, nowMs: now())
        return change.deleteDeliveries.count
    }

    /// Deliveries for an agent that just connected: pushed now (and leased) instead of waiting
    /// for a poll.
    public func flush(agentId: String) async throws {
        guard let sink else { return }
        for delivery in try await poll(agentId: agentId) { sink.push(delivery) }
    }

    public func events(namespace: String?, afterSeq: Int, limit: Int = 500) async throws -> [MeshEvent] {
        try await store.events(namespace: namespace, afterSeq: afterSeq, limit: max(1, min(limit, 5000)))
    }

    // MARK: housekeeping

    /// Lease expiry, deadlines, routing of queued tasks, agent expiry and retention. Run it
    /// periodically (the gateway does once a second).
    public func sweep() async throws {
        let nowMs = now()
        for offer in try await store.expiredOffers(nowMs: nowMs, limit: 500) {
            try await redeliverOrDeadLetter(offer, nowMs: nowMs)
        }
        // Results and notices whose lease ran out unacknowledged: pushed again to a connected
        // recipient, otherwise released for its next poll.
        for delivery in try await store.expiredLeases(nowMs: nowMs, limit: 500) {
            var again = delivery
            again.leaseUntilMs = nil
            var change = MeshChange()
            change.expectedLeases = [(delivery.deliveryId, delivery.leaseUntilMs)]
            add(again, to: &change, nowMs: nowMs)
            do {
                try await commit(change)
            } catch MeshStoreError.leaseConflict {
                // Its recipient polled it meanwhile: that lease stands.
            }
        }
        for task in try await store.overdueTasks(nowMs: nowMs, limit: 500) {
            _ = try? await transition(task.taskId, by: nil, .expire, event: MeshEventType.taskExpired) { task, change, nowMs in
                try await self.withdraw(task, into: &change, nowMs: nowMs)
                self.add(self.resultDelivery(task, nowMs: nowMs), to: &change, nowMs: nowMs)
            }
        }
        for var task in try await store.queuedTasks(limit: 500) {
            var change = MeshChange()
            let before = task.version
            try await route(&task, into: &change, nowMs: nowMs)
            if task.state == .offered {
                task.version = before + 1
                change.upsertTasks.append((task, before))
                if (try? await commit(change)) != nil { observer.taskChanged(task, previous: .queued) }
            }
        }
        let expired = try await store.agents(namespace: nil).filter { nowMs - $0.lastHeartbeatMs > settings.expireAfterMs }
        if !expired.isEmpty {
            var change = MeshChange()
            change.deleteAgents = expired.map(\.agentId)
            change.events = expired.map { event($0.namespace, MeshEventType.agentExpired, ["agentId": .string($0.agentId)]) }
            try await commit(change)
            observer.agentsRemoved(expired.map(\.agentId), expired: true)
        }
        _ = try await store.prune(tasksBeforeMs: nowMs - settings.retentionMs, eventsBeforeMs: nowMs - settings.retentionMs)
    }

    // MARK: internals

    func requireAgent(_ agentId: String) async throws -> MeshAgent {
        guard let agent = try await store.agent(id: agentId) else { throw MeshError(.notFound, "unknown agent \(agentId)") }
        return agent
    }

    /// Loads, checks namespace, applies a transition plus its side effects, commits.
    private func transition(
        _ taskId: String, by agentId: String?, _ transition: TaskTransition, event type: String,
        _ effects: (inout MeshTask, inout MeshChange, Int) async throws -> Void
    ) async throws -> MeshTask {
        guard let current = try await store.task(id: taskId) else { throw MeshError(.notFound, "unknown task \(taskId)") }
        if let agentId {
            let agent = try await requireAgent(agentId)
            guard agent.namespace == current.namespace else { throw MeshError(.notFound, "unknown task \(taskId)") }
        }
        let nowMs = now()
        var task = try TaskStateMachine.apply(transition, to: current, nowMs: nowMs)
        var change = MeshChange()
        change.events = [event(task.namespace, type, summary(task))]
        try await effects(&task, &change, nowMs)
        change.upsertTasks.append((task, current.version))
        do {
            try await commit(change)
        } catch MeshStoreError.versionConflict {
            throw MeshError(.conflict, "task \(taskId) changed concurrently; retry")
        }
        observer.taskChanged(task, previous: current.state)
        return task
    }

    /// Offers a queued task to its named recipient or to the least-loaded matching online agent;
    /// leaves it queued when nobody fits yet.
    private func route(_ task: inout MeshTask, into change: inout MeshChange, nowMs: Int) async throws {
        let target: String
        if let to = task.to {
            target = to
        } else {
            guard let picked = try await pickAgent(for: task, nowMs: nowMs) else { return }
            target = picked
        }
        // The offer is part of the caller's write: the caller decides the version bump.
        let version = task.version
        task = try TaskStateMachine.apply(.offer(to: target), to: task, nowMs: nowMs)
        task.version = version
        task.attempts = 0
        let offer = MeshDelivery(
            deliveryId: MeshIDs.deliveryId(), namespace: task.namespace, recipient: target, kind: .taskOffer,
            taskId: task.taskId, payload: (try? JSONCoding.value(of: task)) ?? .null, createdAtMs: nowMs
        )
        add(offer, to: &change, nowMs: nowMs)
        change.events.append(event(task.namespace, MeshEventType.taskOffered, summary(task)))
    }

    private func pickAgent(for task: MeshTask, nowMs: Int) async throws -> String? {
        let requirements = task.requirements ?? TaskRequirements()
        let loads = try await store.activeTaskCounts(namespace: task.namespace)
        let candidates = try await store.agents(namespace: task.namespace).filter { agent in
            agent.agentId != task.from && !task.rejectedBy.contains(agent.agentId)
                && agent.status(nowMs: nowMs, staleAfterMs: settings.staleAfterMs) == .online
                && agent.supports(all: requirements.requiredCapabilities)
                && (requirements.agentTypes.isEmpty || !Set(requirements.agentTypes).isDisjoint(with: agent.agentTypes))
                && (loads[agent.agentId] ?? 0) < agent.maxConcurrentTasks
        }
        return candidates.min { a, b in
            let loadA = Double(loads[a.agentId] ?? 0) / Double(a.maxConcurrentTasks)
            let loadB = Double(loads[b.agentId] ?? 0) / Double(b.maxConcurrentTasks)
            return loadA != loadB ? loadA < loadB : a.agentId < b.agentId
        }?.agentId
    }

    private func offerDeliveries(of task: MeshTask) async throws -> [MeshDelivery] {
        try await store.deliveries(taskId: task.taskId).filter { $0.kind == .taskOffer }
    }

    /// Takes a task back from its assignee: the offer disappears, an accepted task gets a
    /// cancellation notice.
    private func withdraw(_ task: MeshTask, into change: inout MeshChange, nowMs: Int) async throws {
        let deliveries = try await store.deliveries(taskId: task.taskId)
        change.deleteDeliveries += deliveries.filter { $0.kind == .taskOffer }.map(\.deliveryId)
        let previous = try await store.task(id: task.taskId)
        if let assignee = task.assignee, previous?.state == .accepted || previous?.state == .inProgress {
            let notice = MeshDelivery(
                deliveryId: MeshIDs.deliveryId(), namespace: task.namespace, recipient: assignee, kind: .taskCanceled,
                taskId: task.taskId, payload: (try? JSONCoding.value(of: summary(task))) ?? .null, createdAtMs: nowMs
            )
            add(notice, to: &change, nowMs: nowMs)
        }
    }

    private func resultDelivery(_ task: MeshTask, nowMs: Int) -> MeshDelivery {
        MeshDelivery(
            deliveryId: MeshIDs.deliveryId(), namespace: task.namespace, recipient: task.from, kind: .taskResult,
            taskId: task.taskId, payload: (try? JSONCoding.value(of: task)) ?? .null, createdAtMs: nowMs
        )
    }

    private func redeliverOrDeadLetter(_ offer: MeshDelivery, nowMs: Int) async throws {
        guard let taskId = offer.taskId, let task = try await store.task(id: taskId), task.state == .offered else {
            var change = MeshChange()
            change.deleteDeliveries = [offer.deliveryId]
            try await commit(change)
            return
        }
        // Only if the offer still holds the lease that expired: a poll may have leased it again
        // while this sweep waited for the store (then that lease decides what happens next).
        let expected = (deliveryId: offer.deliveryId, leaseUntilMs: offer.leaseUntilMs)
        do {
            if offer.attempts >= settings.maxDeliveryAttempts {
                _ = try await transition(taskId, by: nil, .deadLetter, event: MeshEventType.taskDeadLettered) { task, change, nowMs in
                    change.expectedLeases = [expected]
                    change.deleteDeliveries.append(offer.deliveryId)
                    self.add(self.resultDelivery(task, nowMs: nowMs), to: &change, nowMs: nowMs)
                }
                return
            }
            var again = offer
            again.leaseUntilMs = nil
            var change = MeshChange()
            change.expectedLeases = [expected]
            add(again, to: &change, nowMs: nowMs)
            try await commit(change)
        } catch MeshStoreError.leaseConflict {
            return
        }
    }

    /// Commits, then pushes what the change created for connected agents and publishes events.
    @discardableResult
    func commit(_ change: MeshChange) async throws -> [MeshEvent] {
        guard !change.isEmpty else { return [] }
        let events = try await store.commit(change)
        if let sink {
            for delivery in change.pushAfterCommit { sink.push(delivery) }
            if !events.isEmpty { sink.publish(events) }
        }
        if !change.pushAfterCommit.isEmpty { observer.sent(change.pushAfterCommit) }
        return events
    }

    /// Adds a delivery to a change; when its recipient is connected it is leased now and pushed
    /// after the commit, otherwise it waits for a poll.
    func add(_ delivery: MeshDelivery, to change: inout MeshChange, nowMs: Int) {
        var delivery = delivery
        if sink?.isConnected(agentId: delivery.recipient) == true {
            delivery.attempts += 1
            delivery.leaseUntilMs = nowMs + settings.leaseMs
            change.pushAfterCommit.append(delivery)
        }
        change.upsertDeliveries.append(delivery)
    }

    func event(_ namespace: String, _ type: String, _ payload: JSONValue) -> NewMeshEvent {
        NewMeshEvent(namespace: namespace, type: type, payload: payload, createdAtMs: now())
    }

    private func summary(_ task: MeshTask) -> JSONValue {
        (try? JSONCoding.value(of: TaskSummary(task))) ?? .null
    }
}

/// Wall-clock milliseconds.
public enum MeshClock {
    @Sendable public static func nowMs() -> Int { Int((Date().timeIntervalSince1970 * 1000).rounded()) }
}
