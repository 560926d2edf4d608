import ClawgateProtocol
import Foundation
import Hummingbird

/// `POST /v1/embeddings`: deterministic vectors, so tests can compare embeddings across calls
/// and encodings without a model.
enum EmbeddingRoutes {
    static let defaultDimensions = 8
    static let maxDimensions = 4096

    static func respond(_ exchange: Exchange) async throws(APIError) -> Response {
        let object = try MessageText.object(exchange.body)
        let model = try MessageText.requiredString(object, "model")
        let inputs: [String]
        switch object["input"] {
        case .string(let text)?:
            inputs = [text]
        case .array(let values)? where !values.isEmpty:
            inputs = try values.map { value throws(APIError) in
                guard let text = value.stringValue else { throw .badRequest("'input' must be a string or an array of strings.", param: "input") }
                return text
            }
        default:
            throw .badRequest("Missing required parameter: 'input'.", param: "input")
        }
        let base64: Bool
        switch object["encoding_format"]?.stringValue {
        case nil, "float": base64 = false
        case "base64": base64 = true
        case let other?: throw .badRequest("Invalid value for 'encoding_format': '\(other)'.", param: "encoding_format")
        }
        let dimensions = object["dimensions"]?.intValue ?? defaultDimensions
        guard (1...maxDimensions).contains(dimensions) else {
            throw .badRequest("'dimensions' must be between 1 and \(maxDimensions).", param: "dimensions")
        }

        // Scripts apply to embeddings too: failures, hangs and delays; any answer step embeds.
        var delay = 0
        switch exchange.state.nextStep(model: model) {
        case .status(let code, let message): return APIError.from(.status(code, message: message)).response(.openAI)
        case .contextLengthExceeded: return APIError.from(.contextLengthExceeded).response(.openAI)
        case .hang, .hangAfterFirstChunk, .hangAfterDone: return await exchange.hang()
        case .slow(_, let chunkDelayMs): delay = max(0, chunkDelayMs)
        case .echo, .reply, .toolCall, .replyWithToolResult, .refusal: break
        }

        let words = inputs.reduce(0) { $0 + Words.count($1) }
        let data: [WireJSON] = inputs.enumerated().map { index, text in
            let vector = Self.vector(text, dimensions: dimensions)
            let embedding: WireJSON = base64 ? .string(Self.base64(vector)) : .array(vector.map { .double(Double($0)) })
            return ["object": "embedding", "index": .int(index), "embedding": embedding]
        }
        let body: WireJSON = [
            "object": "list", "data": .array(data), "model": .string(model),
            "usage": ["prompt_tokens": .int(words), "total_tokens": .int(words)],
        ]
        return await exchange.complete(pacing: .paced(milliseconds: delay), chunks: 1) { Exchange.json(body) }
    }

    /// FNV-1a over the text, seeded per dimension, mapped to [-1, 1].
    static func vector(_ text: String, dimensions: Int) -> [Float] {
        (0..<dimensions).map { dimension in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(dimension) &* 0x9E37_79B9_7F4A_7C15)
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01B3
            }
            return Float(Double(hash >> 11) / Double(1 << 53) * 2 - 1)
        }
    }

    /// Little-endian float32 bytes, base64 — OpenAI's `encoding_format: "base64"`.
    static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
