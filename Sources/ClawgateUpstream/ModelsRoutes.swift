import Hummingbird

/// `GET /v1/models`: "test-model" plus every scripted model, in OpenAI's list shape, or
/// Anthropic's when the caller speaks Anthropic (it sent `anthropic-version`).
enum ModelsRoutes {
    static let created = 1_700_000_000

    static func respond(_ exchange: Exchange, dialect: Dialect) -> Response {
        let models = exchange.state.models
        switch dialect {
        case .openAI:
            return Exchange.json([
                "object": "list",
                "data": .array(models.map { ["id": .string($0), "object": "model", "created": .int(created), "owned_by": "upstream"] }),
            ])
        case .anthropic:
            return Exchange.json([
                "data": .array(
                    models.map {
                        ["type": "model", "id": .string($0), "display_name": .string($0), "created_at": "2023-11-14T22:13:20Z"]
                    }
                ),
                "has_more": false, "first_id": .optional(models.first), "last_id": .optional(models.last),
            ])
        }
    }
}
