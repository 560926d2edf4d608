import ClawgateProtocol
import Foundation

/// Which config values are secrets, and how they are hidden from `config.get` / `clawgate config
/// get` and put back when a redacted value is written back unchanged.
public enum ConfigSecrets {
    /// Secret key paths; `*` matches any key (provider ids, header names).
    static let patterns: [[String]] = [
        ["gateway", "auth", "token"], ["gateway", "auth", "password"],
        ["gateway", "remote", "token"], ["gateway", "remote", "password"],
        ["hooks", "token"],
        ["models", "providers", "*", "apiKey"],
        ["models", "providers", "*", "headers", "*"],
    ]

    /// The patterns as text, for `config.schema` hints.
    static var patternDescriptions: [String] { patterns.map { $0.joined(separator: ".") } }

    public static func isSensitive(_ path: ConfigKeyPath) -> Bool {
        let keys: [String] = path.segments.compactMap {
            if case .key(let key) = $0 { return key }
            return nil
        }
        guard keys.count == path.segments.count else { return false }
        return patterns.contains { pattern in
            pattern.count == keys.count && zip(pattern, keys).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    /// `"${NAME}"` names an environment variable: not a secret itself, shown as is.
    static func isEnvironmentReference(_ text: String) -> Bool {
        text.hasPrefix("${") && text.hasSuffix("}") && text.count > 3
    }

    /// The tree with every secret string replaced by the redaction sentinel.
    public static func redact(_ tree: JSONValue) -> JSONValue {
        map(tree, at: ConfigKeyPath([])) { path, value in
            guard isSensitive(path), case .string(let text) = value, !isEnvironmentReference(text) else { return nil }
            return .string(ConfigRedaction.sentinel)
        }
    }

    /// Every secret string in the tree (for redacting raw text and for tests).
    public static func values(in tree: JSONValue) -> [String] {
        var found: [String] = []
        _ = map(tree, at: ConfigKeyPath([])) { path, value in
            if isSensitive(path), case .string(let text) = value, !text.isEmpty, !isEnvironmentReference(text) { found.append(text) }
            return nil
        }
        return found
    }

    /// Puts the real secrets from `original` where `incoming` carries the sentinel. A sentinel
    /// anywhere else (not a secret path, or nothing to restore) is an error naming the path, so
    /// the marker never ends up in the file.
    public static func restore(_ incoming: JSONValue, from original: JSONValue) throws(ConfigKeyPathError) -> JSONValue {
        var failure: ConfigKeyPathError?
        let restored = map(incoming, at: ConfigKeyPath([])) { path, value in
            guard case .string(ConfigRedaction.sentinel) = value else { return nil }
            if isSensitive(path), case .string(let secret)? = original.value(at: path) {
                return .string(secret)
            }
            if failure == nil {
                failure = ConfigKeyPathError(
                    path: path.description,
                    message: "\(ConfigRedaction.sentinel) stands for a secret already in the file, and there is none here"
                )
            }
            return nil
        }
        if let failure { throw failure }
        return restored
    }

    /// The file's text with each secret's quoted occurrences replaced by the sentinel, or nil
    /// when the secret still shows (in a comment, escaped, inside another value) or the result
    /// would not parse to exactly the redacted tree: then no text is better than a leak.
    public static func redactRaw(_ raw: String, tree: JSONValue) -> String? {
        var text = raw
        let secrets = Set(values(in: tree)).sorted(by: { $0.count > $1.count })
        for secret in secrets {
            for quote in ["\"", "'"] {
                text = text.replacingOccurrences(of: quote + secret + quote, with: quote + ConfigRedaction.sentinel + quote)
            }
        }
        // Anywhere else (a comment, part of another value) the secret would still show.
        if secrets.contains(where: { text.contains($0) }) { return nil }
        guard let reparsed = try? ConfigParser.parseTree(data: Data(text.utf8), file: ""), reparsed == redact(tree) else {
            return nil
        }
        return text
    }

    /// Rebuilds `value` bottom-up; `transform` returns a replacement for a node or nil to keep
    /// (and descend into) it.
    private static func map(
        _ value: JSONValue, at path: ConfigKeyPath, _ transform: (ConfigKeyPath, JSONValue) -> JSONValue?
    ) -> JSONValue {
        if let replaced = transform(path, value) { return replaced }
        switch value {
        case .object(let object):
            var result: [String: JSONValue] = [:]
            for (key, child) in object { result[key] = map(child, at: path.appending(.key(key)), transform) }
            return .object(result)
        case .array(let items):
            return .array(items.enumerated().map { map($1, at: path.appending(.index($0)), transform) })
        default:
            return value
        }
    }
}
