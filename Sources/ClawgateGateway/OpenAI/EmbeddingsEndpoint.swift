import ClawgateModels
import ClawgateProtocol
import Foundation
import Hummingbird

/// `POST /v1/embeddings`: through `x-openclaw-model`, a `provider/model` in `model`, or
/// `agents.defaults.embeddingModel`; `encoding_format` float (default) or base64.
enum EmbeddingsEndpoint {
    static func handle(_ call: OpenAIRequest) async throws(OpenAIError) -> Response {
        let input: [String]
        switch call.body["input"] {
        case .some(.string(let text)): input = [text]
        case .some(.array(let items)) where !items.isEmpty:
            var texts: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw OpenAIError.invalidRequest("input must be a string or an array of strings") }
                texts.append(text)
            }
            input = texts
        default:
            throw OpenAIError.invalidRequest("input is required: a string or a non-empty array of strings")
        }
        guard input.count <= 2048 else { throw OpenAIError.invalidRequest("input holds more than 2048 items") }
        let format = call.body["encoding_format"]?.stringValue ?? "float"
        guard format == "float" || format == "base64" else { throw OpenAIError.invalidRequest("encoding_format must be float or base64") }
        let dimensions = try call.int("dimensions", in: 1...65_536)
        guard let model = call.modelOverride?.first ?? call.gateway.agents.settings.embeddingModel else {
            throw OpenAIError.invalidRequest(
                "no embedding model: set agents.defaults.embeddingModel, send x-openclaw-model, or name a configured provider/model"
            )
        }
        let result: EmbeddingResult
        do {
            result = try await call.gateway.agents.router.embed(model: model, input: input, dimensions: dimensions)
        } catch let error as ModelError {
            throw OpenAIError.model(kind: error.kind, message: error.message)
        } catch {
            throw OpenAIError.model(kind: .unknown, message: "\(error)")
        }
        let data: [JSONValue] = result.vectors.enumerated().map { index, vector in
            let embedding: JSONValue
            if format == "base64" {
                var bytes = [UInt8]()
                bytes.reserveCapacity(vector.count * 4)
                for value in vector {
                    let bits = value.bitPattern.littleEndian
                    bytes += [UInt8(bits & 0xff), UInt8((bits >> 8) & 0xff), UInt8((bits >> 16) & 0xff), UInt8(bits >> 24)]
                }
                embedding = .string(Data(bytes).base64EncodedString())
            } else {
                embedding = .array(vector.map { .double(Double($0)) })
            }
            return ["object": "embedding", "index": .int(index), "embedding": embedding]
        }
        return ChatCompletionsEndpoint.jsonResponse([
            "object": "list", "data": .array(data), "model": .string(call.requestedModel),
            "usage": ["prompt_tokens": .int(result.usage.input), "total_tokens": .int(result.usage.total)],
        ])
    }
}
