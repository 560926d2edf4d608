import ClawgateProtocol
import Foundation

/// `health`, `status`, `system-presence`, `logs.tail`.
enum SystemMethods {
    static func register(into table: inout MethodTable) {
        table.registerEncoded("health", HealthParams.self) { params, context in
            if params.probe == true { return try JSONCoding.encode(await context.gateway.refreshHealth()) }
            return try context.gateway.health.currentJSON()
        }
        table.register("status", EmptyParams.self) { _, context in
            await context.gateway.status(includeSensitive: context.isAdmin)
        }
        table.register("system-presence", EmptyParams.self) { _, context in
            context.gateway.presence.entries
        }
        table.register("logs.tail", LogsTailParams.self) { params, context in
            if let cursor = params.cursor, cursor < 0 {
                throw MethodError.invalidRequest("invalid logs.tail params: cursor must be >= 0")
            }
            if let limit = params.limit, !(1...5000).contains(limit) {
                throw MethodError.invalidRequest("invalid logs.tail params: limit must be between 1 and 5000")
            }
            if let maxBytes = params.maxBytes, !(1...1_000_000).contains(maxBytes) {
                throw MethodError.invalidRequest("invalid logs.tail params: maxBytes must be between 1 and 1000000")
            }
            let path = context.gateway.settings.logFile
            return try await Task.detached { try LogTailReader.read(path: path, params: params) }.value
        }
    }
}
