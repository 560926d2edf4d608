import ClawgateProtocol
import Foundation

/// `config.get`, `config.schema`, `config.set`, `config.patch`, `config.apply` (all
/// `operator.admin`, by the `config.` prefix rule). Writes need the `baseHash` from
/// `config.get` once the file exists, keep a `.bak` and are applied by `ConfigReloader`.
enum ConfigMethods {
    static func register(into table: inout MethodTable) {
        table.register("config.get", EmptyParams.self) { _, context in
            await context.gateway.reloader.snapshot()
        }
        table.register("config.schema", EmptyParams.self) { _, _ in
            ConfigSchema.result()
        }
        table.register("config.set", ConfigSetParams.self) { params, context in
            try await write(.set, raw: params.raw, baseHash: params.baseHash, restartDelayMs: params.restartDelayMs, context: context)
        }
        table.register("config.apply", ConfigSetParams.self) { params, context in
            try await write(.apply, raw: params.raw, baseHash: params.baseHash, restartDelayMs: params.restartDelayMs, context: context)
        }
        table.register("config.patch", ConfigPatchParams.self) { params, context in
            try await write(
                .patch, raw: params.raw, baseHash: params.baseHash, restartDelayMs: params.restartDelayMs,
                replacePaths: params.replacePaths ?? [], context: context
            )
        }
    }

    private static func write(
        _ kind: ConfigReloader.WriteKind, raw: String, baseHash: String?, restartDelayMs: Int?, replacePaths: [String] = [],
        context: MethodContext
    ) async throws -> ConfigWriteResult {
        if let restartDelayMs, !(0...60_000).contains(restartDelayMs) {
            throw MethodError.invalidRequest("invalid \(kind.rawValue) params: restartDelayMs must be between 0 and 60000")
        }
        let connection = context.connection
        let actor = connection.deviceId.map { "device:\($0)" } ?? "connection:\(connection.connId)"
        let request = ConfigReloader.WriteRequest(
            kind: kind, raw: raw, baseHash: baseHash, restartDelayMs: restartDelayMs, replacePaths: replacePaths, actor: actor
        )
        return try await context.gateway.reloader.write(request, gateway: context.gateway)
    }
}
