import ClawgateMesh
import ClawgateProtocol
import ClawgateSupport
import Foundation
import GRDB
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `MeshStore` on an embedded SQLite database, the default for a single gateway.
///
/// Each row keeps the whole record as JSON next to the handful of columns that queries filter or
/// sort on, so a new model field needs no migration while every query still runs off an index.
/// The columns are always written from the same value as the JSON, so they cannot drift apart.
///
/// Writes are group-committed on the store's own thread, where the mesh actor runs too (see
/// `GroupCommit`): the actor's reads see its staged changes; readers on other threads (health,
/// metrics, readiness) read committed data from the pool's reader connections.
///
/// Sendable without `@unchecked`: the state is a GRDB writer, which serialises its own access,
/// and the group committer.
public final class SQLiteMeshStore: MeshStore {
    /// Internal so tests can check the connection settings.
    let writer: any DatabaseWriter
    /// Internal so tests can hold the thread and inspect batches.
    let commits: GroupCommit
    /// Used on the store's thread only (see `RecordCache`); internal so tests can check what it
    /// keeps.
    let cache: SharedRecordCache
    /// Checkpoints the log off the store's thread (file databases only); internal for tests.
    let checkpointer: WALCheckpointer?

    public var executor: any SerialExecutor { commits.loop.executor }
    public let taskExecutor: any TaskExecutor

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A `DatabasePool` rather than a queue so that polls and event reads, which dominate, run on
    /// reader connections alongside the single writer instead of queueing behind it (WAL allows
    /// that).
    public convenience init(path: String) throws {
        try self.init(path: path, checkpointTrailingDelay: .seconds(1))
    }

    /// `init(path:)` with a shorter wait before a checkpoint after a pause (tests).
    convenience init(path: String, checkpointTrailingDelay: Duration) throws {
        try Self.createFileIfMissing(path: path)
        let checkpointer = try WALCheckpointer(path: path, trailingDelay: checkpointTrailingDelay)
        var config = Self.configuration()
        config.prepareDatabase { db in
            // In WAL mode NORMAL still makes every committed transaction survive a crash or a
            // `kill -9` of the process: the commit is in the WAL file, which SQLite replays on the
            // next open. It only skips the fsync at each commit, so an OS crash or power loss can
            // lose the last few commits (never corrupt the file). FULL would fsync every commit,
            // which is the dominant cost of a mesh write and buys nothing against process crashes.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Statement journals (SQLite keeps one per statement inside a savepoint that could
            // fail halfway, e.g. an upsert) and temporary sort tables go to memory instead of a
            // temporary file created and deleted each time: that was an open, a create and an
            // unlink per mesh write on the store's thread. They are small and bounded by a
            // statement's own rows; nothing durable lives there.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Checkpoints off the store's thread (replaces SQLite's automatic checkpoint).
            checkpointer.install(on: db)
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
        self.init(writer: pool, checkpointer: checkpointer)
    }

    private init(writer: any DatabaseWriter, checkpointer: WALCheckpointer? = nil) {
        self.writer = writer
        self.checkpointer = checkpointer
        let cache = SharedRecordCache()
        self.cache = cache
        self.commits = GroupCommit(writer: writer) { cache.withLock { $0.removeAll() } }
        self.taskExecutor = EventLoopTaskExecutor(loop: commits.loop)
    }

    /// A private in-memory database, for tests: same schema and queries, nothing on disk.
    public static func inMemory() throws -> SQLiteMeshStore {
        let queue = try DatabaseQueue(configuration: configuration())
        try migrator.migrate(queue)
        return SQLiteMeshStore(writer: queue)
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "clawgate.mesh"
        // Another process (a CLI inspecting the file, a backup) may briefly hold the write lock;
        // waiting a little is better than failing a mesh operation outright.
        config.busyMode = .timeout(5)
        config.foreignKeysEnabled = true
        // Group commit keeps one transaction open across several writer accesses.
        config.allowsUnsafeTransactions = true
        return config
    }

    /// Creates the database file with mode 0600 before SQLite does, because SQLite would create it
    /// with the process umask (often world-readable) and the file holds agents' credential hashes
    /// and task payloads. SQLite gives the `-wal` and `-shm` files the database file's mode.
    /// `O_EXCL` makes this a no-op, never a truncation, when the file already exists.
    private static func createFileIfMissing(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return
        }
        let code = errno
        if code == EEXIST { return }
        throw CocoaError(.fileWriteUnknown, userInfo: [
            NSFilePathErrorKey: path,
            NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO),
        ])
    }

    // MARK: - Schema

    /// Migrations are append-only: a shipped migration is never edited, a change is a new one.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE agents (
                    agentId TEXT PRIMARY KEY NOT NULL,
                    namespace TEXT NOT NULL,
                    json TEXT NOT NULL
                );
                CREATE INDEX agents_namespace ON agents(namespace);

                CREATE TABLE tasks (
                    taskId TEXT PRIMARY KEY NOT NULL,
                    namespace TEXT NOT NULL,
                    fromAgent TEXT NOT NULL,
                    assignee TEXT,
                    state TEXT NOT NULL,
                    deadlineMs INTEGER,
                    idempotencyKey TEXT,
                    createdAtMs INTEGER NOT NULL,
                    updatedAtMs INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    json TEXT NOT NULL
                );
                -- Retried creates find the original task; also stops two racing creates with
                -- the same key from both landing.
                CREATE UNIQUE INDEX tasks_idempotency ON tasks(namespace, fromAgent, idempotencyKey)
                    WHERE idempotencyKey IS NOT NULL;
                -- Listing a namespace, newest first.
                CREATE INDEX tasks_namespace_created ON tasks(namespace, createdAtMs, taskId);
                -- Listing tasks involving an agent: one index per side of the OR.
                CREATE INDEX tasks_from ON tasks(namespace, fromAgent, createdAtMs, taskId);
                CREATE INDEX tasks_assignee ON tasks(namespace, assignee, createdAtMs, taskId);
                -- Per-assignee load, answered from the index alone.
                CREATE INDEX tasks_namespace_state_assignee ON tasks(namespace, state, assignee);
                -- The sweeps: queued work oldest first, overdue deadlines, prunable terminal tasks.
                CREATE INDEX tasks_state_created ON tasks(state, createdAtMs, taskId);
                CREATE INDEX tasks_state_deadline ON tasks(state, deadlineMs);
                CREATE INDEX tasks_state_updated ON tasks(state, updatedAtMs);

                CREATE TABLE deliveries (
                    deliveryId TEXT PRIMARY KEY NOT NULL,
                    namespace TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    taskId TEXT,
                    leaseUntilMs INTEGER,
                    createdAtMs INTEGER NOT NULL,
                    json TEXT NOT NULL
                );
                CREATE INDEX deliveries_recipient_lease ON deliveries(recipient, leaseUntilMs, createdAtMs);
                CREATE INDEX deliveries_kind_lease ON deliveries(kind, leaseUntilMs);
                CREATE INDEX deliveries_task ON deliveries(taskId);

                -- AUTOINCREMENT so a seq is never handed out twice, even after the newest events
                -- were pruned: clients resume from the last seq they saw.
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    namespace TEXT NOT NULL,
                    type TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    createdAtMs INTEGER NOT NULL
                );
                CREATE INDEX events_namespace_seq ON events(namespace, seq);
                CREATE INDEX events_created ON events(createdAtMs);
                """)
        }
        migrator.registerMigration("v2-knowledge") { db in
            try db.execute(sql: """
                CREATE TABLE files (
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    json TEXT NOT NULL,
                    PRIMARY KEY (namespace, key)
                );
                CREATE TABLE states (
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    json TEXT NOT NULL,
                    PRIMARY KEY (namespace, key)
                );
                CREATE TABLE broadcasts (
                    broadcastId TEXT PRIMARY KEY NOT NULL,
                    namespace TEXT NOT NULL,
                    createdAtMs INTEGER NOT NULL,
                    json TEXT NOT NULL
                );
                CREATE INDEX broadcasts_namespace_created ON broadcasts(namespace, createdAtMs, broadcastId);
                CREATE INDEX broadcasts_created ON broadcasts(createdAtMs);
                """)
        }
        // Every state change of a task used to move its entries in five state-keyed indexes,
        // each a page written to the WAL at every commit. Partial indexes hold only the tasks
        // their query looks for (queued, active, with a deadline, terminal), so most changes
        // touch two or three; one plain `(state)` index keeps the per-state counts index-only.
        migrator.registerMigration("v3-partial-indexes") { db in
            try db.execute(sql: """
                DROP INDEX tasks_namespace_state_assignee;
                DROP INDEX tasks_state_created;
                DROP INDEX tasks_state_deadline;
                DROP INDEX tasks_state_updated;
                CREATE INDEX tasks_state ON tasks(state);
                CREATE INDEX tasks_active_assignee ON tasks(namespace, assignee) WHERE \(TaskStateSQL.active);
                CREATE INDEX tasks_queued_created ON tasks(createdAtMs, taskId) WHERE \(TaskStateSQL.queued);
                CREATE INDEX tasks_open_deadline ON tasks(deadlineMs, taskId) WHERE \(TaskStateSQL.open);
                CREATE INDEX tasks_terminal_updated ON tasks(updatedAtMs) WHERE \(TaskStateSQL.terminal);
                """)
        }
        // Fewer pages per commit (measured from the WAL's frames: ~15 per mesh commit). The
        // `(state)` index, rewritten at every state change, goes: the per-state counts come from
        // the partial indexes, which now carry the state. Tasks without a deadline leave the
        // deadline index. The events' `createdAtMs` index goes: seq and creation time grow
        // together, so pruning finds its cut-off by walking the log from its oldest end.
        migrator.registerMigration("v4-fewer-index-writes") { db in
            try db.execute(sql: """
                DROP INDEX tasks_state;
                DROP INDEX tasks_active_assignee;
                DROP INDEX tasks_open_deadline;
                DROP INDEX tasks_terminal_updated;
                DROP INDEX events_created;
                CREATE INDEX tasks_active ON tasks(namespace, assignee, state) WHERE \(TaskStateSQL.active);
                CREATE INDEX tasks_deadline ON tasks(deadlineMs, taskId) WHERE \(TaskStateSQL.open) AND deadlineMs IS NOT NULL;
                CREATE INDEX tasks_terminal ON tasks(state, updatedAtMs) WHERE \(TaskStateSQL.terminal);
                """)
        }
        return migrator
    }

    // MARK: - Agents

    private static let agentByIdSQL = "SELECT agentId, json FROM agents WHERE agentId = ?"

    public nonisolated(nonsending) func agent(id: String) async throws -> MeshAgent? {
        if let hit = cached(MeshAgent.self, id: id) { return hit }
        return try await read { db in
            try self.record(MeshAgent.self, db, sql: Self.agentByIdSQL, arguments: [id])
        }
    }

    public nonisolated(nonsending) func agents(namespace: String?) async throws -> [MeshAgent] {
        try await read { db in
            if let namespace {
                return try self.records(
                    MeshAgent.self, db, sql: "SELECT agentId, json FROM agents WHERE namespace = ? ORDER BY agentId",
                    arguments: [namespace])
            }
            return try self.records(MeshAgent.self, db, sql: "SELECT agentId, json FROM agents ORDER BY agentId")
        }
    }

    // MARK: - Tasks

    public nonisolated(nonsending) func task(id: String) async throws -> MeshTask? {
        if let hit = cached(MeshTask.self, id: id) { return hit }
        return try await read { db in
            try self.record(MeshTask.self, db, sql: "SELECT taskId, json FROM tasks WHERE taskId = ?", arguments: [id])
        }
    }

    public nonisolated(nonsending) func task(namespace: String, from: String, idempotencyKey: String) async throws -> MeshTask? {
        try await read { db in
            try self.record(
                MeshTask.self, db,
                sql: "SELECT taskId, json FROM tasks WHERE namespace = ? AND fromAgent = ? AND idempotencyKey = ?",
                arguments: [namespace, from, idempotencyKey])
        }
    }

    public nonisolated(nonsending) func tasks(_ query: TaskQuery) async throws -> [MeshTask] {
        // An explicit empty state list matches nothing; `IN ()` is not valid SQL.
        if let states = query.states, states.isEmpty { return [] }
        return try await read { db in
            var sql = "SELECT taskId, json FROM tasks WHERE namespace = ?"
            var arguments: StatementArguments = [query.namespace]
            if let involving = query.involving {
                sql += " AND (fromAgent = ? OR assignee = ?)"
                arguments += [involving, involving]
            }
            if let states = query.states {
                sql += " AND state IN (\(Self.placeholders(states.count)))"
                arguments += StatementArguments(states.map(\.rawValue))
            }
            sql += " ORDER BY createdAtMs DESC, taskId DESC LIMIT ?"
            arguments += [Self.clamp(query.limit)]
            return try self.records(MeshTask.self, db, sql: sql, arguments: arguments)
        }
    }

    /// Counted from the partial indexes, which hold every task between them: the store's size,
    /// not a page of it, so dashboards see every task kept (terminal ones until retention prunes
    /// them).
    public nonisolated(nonsending) func taskCountsByState() async throws -> [TaskState: Int] {
        try await read { db in
            var counts: [TaskState: Int] = [:]
            // Index-only counts over the three partial indexes, which together hold every state.
            let sql = """
                SELECT 'queued' AS state, COUNT(*) AS n FROM tasks INDEXED BY tasks_queued_created WHERE \(TaskStateSQL.queued)
                UNION ALL
                SELECT state, COUNT(*) AS n FROM tasks INDEXED BY tasks_active WHERE \(TaskStateSQL.active) GROUP BY state
                UNION ALL
                SELECT state, COUNT(*) AS n FROM tasks INDEXED BY tasks_terminal WHERE \(TaskStateSQL.terminal) GROUP BY state
                """
            for row in try Row.fetchAll(db, sql: sql) where (row["n"] as Int) > 0 {
                let name: String = row["state"]
                if let state = TaskState(rawValue: name) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Counted here rather than with `GROUP BY`, which makes SQLite walk the whole namespace in
    /// assignee order (to skip a sort) instead of seeking the few rows of the partial
    /// `tasks_active` index. Active tasks are bounded by the agents' concurrency limits, so
    /// fetching one short string per row is cheap.
    public nonisolated(nonsending) func activeTaskCounts(namespace: String) async throws -> [String: Int] {
        try await read { db in
            let assignees = try String?.fetchAll(
                db,
                sql: """
                    SELECT assignee FROM tasks INDEXED BY tasks_active
                    WHERE namespace = ? AND \(TaskStateSQL.active)
                    """,
                arguments: [namespace])
            var counts: [String: Int] = [:]
            for case let assignee? in assignees {
                counts[assignee, default: 0] += 1
            }
            return counts
        }
    }

    public nonisolated(nonsending) func overdueTasks(nowMs: Int, limit: Int) async throws -> [MeshTask] {
        try await read { db in
            try self.records(
                MeshTask.self, db,
                sql: """
                    SELECT taskId, json FROM tasks INDEXED BY tasks_deadline
                    WHERE \(TaskStateSQL.open) AND deadlineMs IS NOT NULL AND deadlineMs <= ?
                    ORDER BY deadlineMs, taskId LIMIT ?
                    """,
                arguments: [nowMs, Self.clamp(limit)])
        }
    }

    public nonisolated(nonsending) func queuedTasks(limit: Int) async throws -> [MeshTask] {
        try await read { db in
            try self.records(
                MeshTask.self, db,
                sql: "SELECT taskId, json FROM tasks INDEXED BY tasks_queued_created WHERE \(TaskStateSQL.queued) ORDER BY createdAtMs, taskId LIMIT ?",
                arguments: [Self.clamp(limit)])
        }
    }

    // MARK: - Deliveries

    public nonisolated(nonsending) func delivery(id: String) async throws -> MeshDelivery? {
        if let hit = cached(MeshDelivery.self, id: id) { return hit }
        return try await read { db in
            try self.record(
                MeshDelivery.self, db, sql: "SELECT deliveryId, json FROM deliveries WHERE deliveryId = ?", arguments: [id])
        }
    }

    public nonisolated(nonsending) func availableDeliveries(recipient: String, nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        try await read { db in
            try self.records(
                MeshDelivery.self, db,
                sql: """
                    SELECT deliveryId, json FROM deliveries
                    WHERE recipient = ? AND (leaseUntilMs IS NULL OR leaseUntilMs <= ?)
                    ORDER BY createdAtMs, deliveryId LIMIT ?
                    """,
                arguments: [recipient, nowMs, Self.clamp(limit)])
        }
    }

    public nonisolated(nonsending) func expiredOffers(nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        try await read { db in
            try self.records(
                MeshDelivery.self, db,
                sql: """
                    SELECT deliveryId, json FROM deliveries
                    WHERE kind = ? AND leaseUntilMs IS NOT NULL AND leaseUntilMs <= ?
                    ORDER BY leaseUntilMs, deliveryId LIMIT ?
                    """,
                arguments: [DeliveryKind.taskOffer.rawValue, nowMs, Self.clamp(limit)])
        }
    }

    public nonisolated(nonsending) func expiredLeases(nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        let kinds = DeliveryKind.allCases.filter { $0 != .taskOffer }.map(\.rawValue)
        return try await read { db in
            try self.records(
                MeshDelivery.self, db,
                sql: """
                    SELECT deliveryId, json FROM deliveries
                    WHERE kind IN (\(Self.placeholders(kinds.count))) AND leaseUntilMs IS NOT NULL AND leaseUntilMs <= ?
                    ORDER BY leaseUntilMs, deliveryId LIMIT ?
                    """,
                arguments: StatementArguments(kinds) + [nowMs, Self.clamp(limit)])
        }
    }

    public nonisolated(nonsending) func deliveries(taskId: String) async throws -> [MeshDelivery] {
        try await read { db in
            try self.records(
                MeshDelivery.self, db,
                sql: "SELECT deliveryId, json FROM deliveries WHERE taskId = ? ORDER BY createdAtMs, deliveryId",
                arguments: [taskId])
        }
    }

    // MARK: - Files, state documents, broadcasts

    public nonisolated(nonsending) func file(namespace: String, key: String) async throws -> SharedFile? {
        try await read { db in
            try Self.decodeOne(
                SharedFile.self, db, sql: "SELECT json FROM files WHERE namespace = ? AND key = ?", arguments: [namespace, key])
        }
    }

    public nonisolated(nonsending) func files(namespace: String) async throws -> [SharedFile] {
        try await read { db in
            try Self.decodeAll(SharedFile.self, db, sql: "SELECT json FROM files WHERE namespace = ? ORDER BY key", arguments: [namespace])
        }
    }

    public nonisolated(nonsending) func stateDocument(namespace: String, key: String) async throws -> StateDocument? {
        try await read { db in
            try Self.decodeOne(
                StateDocument.self, db, sql: "SELECT json FROM states WHERE namespace = ? AND key = ?", arguments: [namespace, key])
        }
    }

    public nonisolated(nonsending) func stateDocuments(namespace: String) async throws -> [StateDocument] {
        try await read { db in
            try Self.decodeAll(
                StateDocument.self, db, sql: "SELECT json FROM states WHERE namespace = ? ORDER BY key", arguments: [namespace])
        }
    }

    public nonisolated(nonsending) func broadcasts(namespace: String, limit: Int) async throws -> [MeshBroadcast] {
        try await read { db in
            try Self.decodeAll(
                MeshBroadcast.self, db,
                sql: "SELECT json FROM broadcasts WHERE namespace = ? ORDER BY createdAtMs DESC, broadcastId DESC LIMIT ?",
                arguments: [namespace, Self.clamp(limit)])
        }
    }

    // MARK: - Events

    public nonisolated(nonsending) func events(namespace: String?, afterSeq: Int, limit: Int) async throws -> [MeshEvent] {
        try await read { db in
            let columns = "SELECT seq, namespace, type, payload, createdAtMs FROM events"
            let rows: [Row]
            if let namespace {
                rows = try Row.fetchAll(
                    db, sql: "\(columns) WHERE namespace = ? AND seq > ? ORDER BY seq LIMIT ?",
                    arguments: [namespace, afterSeq, Self.clamp(limit)])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "\(columns) WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [afterSeq, Self.clamp(limit)])
            }
            return try rows.map { row in
                let payload: String = row["payload"]
                return MeshEvent(
                    seq: row["seq"], namespace: row["namespace"], type: row["type"],
                    payload: try Self.decode(JSONValue.self, payload), createdAtMs: row["createdAtMs"])
            }
        }
    }

    /// Read from `sqlite_sequence` (the AUTOINCREMENT high-water mark) rather than `MAX(seq)`, so
    /// the answer never goes backwards when the newest events have been pruned: a client that
    /// saw seq N must not be told the log ends before N.
    public nonisolated(nonsending) func latestEventSeq() async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") ?? 0
        }
    }

    // MARK: - Writes

    public nonisolated(nonsending) func commit(_ change: MeshChange) async throws -> [MeshEvent] {
        if change.isEmpty { return [] }
        return try await staged { db in
            try Self.checkVersions(change.upsertTasks, db)
            try Self.checkKnowledgeVersions(change, db)
            try Self.checkLeases(change.expectedLeases, db)

            for agent in change.upsertAgents {
                try self.write(agent, db)
            }
            for agentId in change.deleteAgents {
                try db.cachedStatement(sql: "DELETE FROM agents WHERE agentId = ?").execute(arguments: [agentId])
            }
            for (agentId, atMs) in change.heartbeats {
                guard var agent = try self.record(MeshAgent.self, db, sql: Self.agentByIdSQL, arguments: [agentId]),
                    agent.lastHeartbeatMs < atMs
                else { continue }
                agent.lastHeartbeatMs = atMs
                try self.write(agent, db)
            }
            for (task, _) in change.upsertTasks {
                try self.write(task, db)
            }
            for delivery in change.upsertDeliveries {
                try self.write(delivery, db)
            }
            for deliveryId in change.deleteDeliveries {
                try db.cachedStatement(sql: "DELETE FROM deliveries WHERE deliveryId = ?")
                    .execute(arguments: [deliveryId])
            }
            for (file, _) in change.upsertFiles {
                try db.cachedStatement(sql: """
                    INSERT INTO files (namespace, key, version, json) VALUES (?, ?, ?, ?)
                    ON CONFLICT(namespace, key) DO UPDATE SET version = excluded.version, json = excluded.json
                    """).execute(arguments: [file.namespace, file.key, file.version, try Self.encode(file)])
            }
            for (namespace, key, _) in change.deleteFiles {
                try db.cachedStatement(sql: "DELETE FROM files WHERE namespace = ? AND key = ?").execute(arguments: [namespace, key])
            }
            for (document, _) in change.upsertStates {
                try db.cachedStatement(sql: """
                    INSERT INTO states (namespace, key, version, json) VALUES (?, ?, ?, ?)
                    ON CONFLICT(namespace, key) DO UPDATE SET version = excluded.version, json = excluded.json
                    """).execute(arguments: [document.namespace, document.key, document.version, try Self.encode(document)])
            }
            var trimmed = Set<String>()
            for broadcast in change.insertBroadcasts {
                try db.cachedStatement(
                    sql: "INSERT INTO broadcasts (broadcastId, namespace, createdAtMs, json) VALUES (?, ?, ?, ?)"
                ).execute(arguments: [broadcast.broadcastId, broadcast.namespace, broadcast.createdAtMs, try Self.encode(broadcast)])
                trimmed.insert(broadcast.namespace)
            }
            // Bounded history: only the newest broadcasts of each touched namespace stay.
            for namespace in trimmed {
                try db.execute(
                    sql: """
                        DELETE FROM broadcasts WHERE namespace = ? AND broadcastId NOT IN (
                            SELECT broadcastId FROM broadcasts WHERE namespace = ?
                            ORDER BY createdAtMs DESC, broadcastId DESC LIMIT ?)
                        """,
                    arguments: [namespace, namespace, max(change.broadcastHistoryLimit, 0)])
            }
            var inserted: [MeshEvent] = []
            inserted.reserveCapacity(change.events.count)
            for event in change.events {
                try db.cachedStatement(
                    sql: "INSERT INTO events (namespace, type, payload, createdAtMs) VALUES (?, ?, ?, ?)"
                ).execute(arguments: [event.namespace, event.type, try Self.encode(event.payload), event.createdAtMs])
                inserted.append(MeshEvent(
                    seq: Int(db.lastInsertedRowID), namespace: event.namespace, type: event.type,
                    payload: event.payload, createdAtMs: event.createdAtMs))
            }
            // Last, once every statement succeeded: the decoded copies follow the rows.
            self.cache.withLock { $0.remember(change) }
            return inserted
        }
    }

    // Narrow updates. SQLite rewrites the entry of every index whose column an UPDATE (or the
    // UPDATE of an upsert) assigns, even when the value stays the same, and every rewritten page
    // is another 4 KiB in the WAL: with upserts assigning every column, a mesh commit wrote ~15
    // pages, a third of them unchanged index entries. When the cached copy of the stored row
    // shows that only the columns that change over a record's life differ, only those are
    // assigned; otherwise (not cached, or an unexpected change) the full upsert runs. Each write
    // updates the cached copy at once, so a record written twice in one change compares with
    // what its first write stored (a failed write empties the cache, see `GroupCommit`).

    private func write(_ agent: MeshAgent, _ db: Database) throws {
        defer { cache.withLock { $0.insert(agent) } }
        let json = try Self.encode(agent)
        if let stored = cached(MeshAgent.self, id: agent.agentId), stored.namespace == agent.namespace {
            try db.cachedStatement(sql: "UPDATE agents SET json = ? WHERE agentId = ?").execute(arguments: [json, agent.agentId])
            if db.changesCount == 1 { return }
        }
        try db.cachedStatement(sql: """
            INSERT INTO agents (agentId, namespace, json) VALUES (?, ?, ?)
            ON CONFLICT(agentId) DO UPDATE SET namespace = excluded.namespace, json = excluded.json
            """).execute(arguments: [agent.agentId, agent.namespace, json])
    }

    /// A task's namespace, delegator, deadline, idempotency key and creation time never change;
    /// state and assignee are assigned only when they did.
    private func write(_ task: MeshTask, _ db: Database) throws {
        defer { cache.withLock { $0.insert(task) } }
        let json = try Self.encode(task)
        if let stored = cached(MeshTask.self, id: task.taskId), stored.namespace == task.namespace,
            stored.from == task.from, stored.deadlineMs == task.deadlineMs, stored.idempotencyKey == task.idempotencyKey,
            stored.createdAtMs == task.createdAtMs
        {
            var assignments = "updatedAtMs = ?, version = ?, json = ?"
            var arguments: StatementArguments = [task.updatedAtMs, task.version, json]
            if stored.state != task.state {
                assignments += ", state = ?"
                arguments += [task.state.rawValue]
            }
            if stored.assignee != task.assignee {
                assignments += ", assignee = ?"
                arguments += [task.assignee]
            }
            arguments += [task.taskId]
            try db.cachedStatement(sql: "UPDATE tasks SET \(assignments) WHERE taskId = ?").execute(arguments: arguments)
            if db.changesCount == 1 { return }
        }
        try Self.upsert(task, json: json, db)
    }

    /// A delivery's recipient, kind, task and creation time never change; the lease is assigned
    /// only when it did.
    private func write(_ delivery: MeshDelivery, _ db: Database) throws {
        defer { cache.withLock { $0.insert(delivery) } }
        let json = try Self.encode(delivery)
        if let stored = cached(MeshDelivery.self, id: delivery.deliveryId), stored.namespace == delivery.namespace,
            stored.recipient == delivery.recipient, stored.kind == delivery.kind, stored.taskId == delivery.taskId,
            stored.createdAtMs == delivery.createdAtMs
        {
            var assignments = "json = ?"
            var arguments: StatementArguments = [json]
            if stored.leaseUntilMs != delivery.leaseUntilMs {
                assignments += ", leaseUntilMs = ?"
                arguments += [delivery.leaseUntilMs]
            }
            arguments += [delivery.deliveryId]
            try db.cachedStatement(sql: "UPDATE deliveries SET \(assignments) WHERE deliveryId = ?").execute(arguments: arguments)
            if db.changesCount == 1 { return }
        }
        try db.cachedStatement(sql: """
            INSERT INTO deliveries
                (deliveryId, namespace, recipient, kind, taskId, leaseUntilMs, createdAtMs, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(deliveryId) DO UPDATE SET
                namespace = excluded.namespace, recipient = excluded.recipient, kind = excluded.kind,
                taskId = excluded.taskId, leaseUntilMs = excluded.leaseUntilMs,
                createdAtMs = excluded.createdAtMs, json = excluded.json
            """).execute(arguments: [
                delivery.deliveryId, delivery.namespace, delivery.recipient, delivery.kind.rawValue,
                delivery.taskId, delivery.leaseUntilMs, delivery.createdAtMs, json,
            ])
    }

    /// Checks every expected version before anything is written, so a conflict costs no writes
    /// (the transaction would roll them back anyway, but there is no point making them). A task
    /// listed twice in one change is checked against the version its first entry writes.
    private static func checkVersions(_ upserts: [(task: MeshTask, expectedVersion: Int?)], _ db: Database) throws {
        var pending: [String: Int] = [:]
        for (task, expected) in upserts {
            let stored: Int?
            if let version = pending[task.taskId] {
                stored = version
            } else {
                stored = try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT version FROM tasks WHERE taskId = ?"), arguments: [task.taskId])
            }
            guard stored == expected else { throw MeshStoreError.versionConflict(taskId: task.taskId) }
            pending[task.taskId] = task.version
        }
    }

    /// The deliveries a change re-leases or releases must still hold the lease it read.
    private static func checkLeases(_ expected: [(deliveryId: String, leaseUntilMs: Int?)], _ db: Database) throws {
        for (deliveryId, lease) in expected {
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT leaseUntilMs FROM deliveries WHERE deliveryId = ?"), arguments: [deliveryId])
            guard let row, (row["leaseUntilMs"] as Int?) == lease else {
                throw MeshStoreError.leaseConflict(deliveryId: deliveryId)
            }
        }
    }

    /// Optimistic concurrency for files and state documents, checked before any write.
    private static func checkKnowledgeVersions(_ change: MeshChange, _ db: Database) throws {
        func version(_ table: String, _ namespace: String, _ key: String) throws -> Int? {
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT version FROM \(table) WHERE namespace = ? AND key = ?"),
                arguments: [namespace, key])
        }
        for (file, expected) in change.upsertFiles where try version("files", file.namespace, file.key) != expected {
            throw MeshStoreError.fileConflict(namespace: file.namespace, key: file.key)
        }
        for (namespace, key, expected) in change.deleteFiles where try version("files", namespace, key) != expected {
            throw MeshStoreError.fileConflict(namespace: namespace, key: key)
        }
        for (document, expected) in change.upsertStates where try version("states", document.namespace, document.key) != expected {
            throw MeshStoreError.stateConflict(namespace: document.namespace, key: document.key)
        }
    }

    /// A clash on the idempotency index means another create with the same key committed between
    /// the caller's lookup and this write. It is reported as a version conflict because that is
    /// exactly the situation (the caller's view is stale) and the caller's retry then finds the
    /// winning task by its key.
    private static func upsert(_ task: MeshTask, json: String, _ db: Database) throws {
        do {
            try db.cachedStatement(sql: """
                INSERT INTO tasks (taskId, namespace, fromAgent, assignee, state, deadlineMs, idempotencyKey,
                    createdAtMs, updatedAtMs, version, json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(taskId) DO UPDATE SET
                    namespace = excluded.namespace, fromAgent = excluded.fromAgent, assignee = excluded.assignee,
                    state = excluded.state, deadlineMs = excluded.deadlineMs,
                    idempotencyKey = excluded.idempotencyKey, createdAtMs = excluded.createdAtMs,
                    updatedAtMs = excluded.updatedAtMs, version = excluded.version, json = excluded.json
                """).execute(arguments: [
                    task.taskId, task.namespace, task.from, task.assignee, task.state.rawValue, task.deadlineMs,
                    task.idempotencyKey, task.createdAtMs, task.updatedAtMs, task.version, json,
                ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw MeshStoreError.versionConflict(taskId: task.taskId)
        }
    }

    public nonisolated(nonsending) func prune(tasksBeforeMs: Int, eventsBeforeMs: Int) async throws -> Int {
        try await staged { db in
            let terminal = "\(TaskStateSQL.terminal) AND updatedAtMs < ?"
            let terminalTasks = "tasks INDEXED BY tasks_terminal"
            let arguments: StatementArguments = [tasksBeforeMs]
            var deleted = 0
            // Deliveries first: once their tasks are gone nothing would identify them.
            try db.execute(
                sql: "DELETE FROM deliveries WHERE taskId IN (SELECT taskId FROM \(terminalTasks) WHERE \(terminal))",
                arguments: arguments)
            deleted += db.changesCount
            try db.execute(sql: "DELETE FROM tasks WHERE taskId IN (SELECT taskId FROM \(terminalTasks) WHERE \(terminal))", arguments: arguments)
            deleted += db.changesCount
            // Everything before the oldest event young enough to keep (all of them when none is):
            // the subquery walks the log from its oldest end, over the rows being deleted.
            try db.execute(
                sql: """
                    DELETE FROM events WHERE seq < IFNULL(
                        (SELECT seq FROM events WHERE createdAtMs >= ? ORDER BY seq LIMIT 1), 9223372036854775807)
                    """,
                arguments: [eventsBeforeMs])
            deleted += db.changesCount
            try db.execute(sql: "DELETE FROM broadcasts WHERE createdAtMs < ?", arguments: [eventsBeforeMs])
            deleted += db.changesCount
            if deleted > 0 { self.cache.withLock { $0.removeAll() } }
            return deleted
        }
    }

    // MARK: - Access

    /// On the store's thread (the mesh actor): the writer connection, which sees the changes
    /// staged in the open batch. Elsewhere: a reader, which sees committed data only.
    private nonisolated(nonsending) func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if commits.loop.inEventLoop { return try commits.read(body) }
        return try await writer.read(body)
    }

    /// Stages a write in the open batch and returns once the batch has committed.
    private nonisolated(nonsending) func staged<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let commits = self.commits
        if commits.loop.inEventLoop {
            let (value, durable) = try commits.stage(body)
            try await durable.get()
            return value
        }
        return try await commits.loop.flatSubmit {
            do {
                let (value, durable) = try commits.stage(body)
                return durable.map { value }
            } catch {
                return commits.loop.makeFailedFuture(error)
            }
        }.get()
    }

    // MARK: - Helpers


    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// SQLite reads a negative LIMIT as "no limit"; a caller asking for fewer than one row gets none.
    private static func clamp(_ limit: Int) -> Int { max(limit, 0) }

    private static func encode<T: Encodable>(_ value: T) throws -> String {
        try JSONCoding.encodeText(value)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONCoding.decode(type, from: Data(json.utf8))
    }

    /// The record with this primary key when the cache holds it, without asking SQLite: on the
    /// store's thread a cached record is the row as staged (see `RecordCache`), and a row that
    /// is gone is never in the cache. Nil off the store's thread and on a miss.
    private func cached<T: CachedRecord & Sendable>(_ type: T.Type, id: String) -> T? {
        guard commits.loop.inEventLoop else { return nil }
        return cache.withLock { $0[keyPath: T.slot][id] }
    }

    /// The one record `sql` selects (`id, json`), from the cache when on the store's thread.
    private func record<T: CachedRecord & Sendable>(
        _ type: T.Type, _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> T? {
        try records(type, db, sql: sql, arguments: arguments).first
    }

    /// The records `sql` selects (`id, json` columns), decoding only those not in the cache;
    /// off the store's thread the cache is not used (it may hold staged, uncommitted rows).
    private func records<T: CachedRecord & Sendable>(
        _ type: T.Type, _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> [T] {
        let cached = commits.loop.inEventLoop
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var result: [T] = []
        while let row = try rows.next() {
            let id: String = row[0]
            if cached, let hit = cache.withLock({ $0[keyPath: T.slot][id] }) {
                result.append(hit)
                continue
            }
            let json: String = row[1]
            let value = try Self.decode(T.self, json)
            if cached { cache.withLock { $0.insert(value) } }
            result.append(value)
        }
        return result
    }

    private static func decodeOne<T: Decodable>(
        _ type: T.Type, _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> T? {
        try String.fetchOne(db, sql: sql, arguments: arguments).map { try decode(type, $0) }
    }

    private static func decodeAll<T: Decodable>(
        _ type: T.Type, _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> [T] {
        try String.fetchAll(db, sql: sql, arguments: arguments).map { try decode(type, $0) }
    }
}
