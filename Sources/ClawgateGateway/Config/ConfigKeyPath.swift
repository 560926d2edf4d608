import ClawgateProtocol
import Foundation

/// A key path into the config tree, written the way errors name keys: `gateway.auth.token`,
/// `agents.list[0].id`, and `models.providers["my.proxy"].apiKey` for keys with dots.
public struct ConfigKeyPath: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var segments: [Segment]

    public init(_ segments: [Segment]) {
        self.segments = segments
    }

    /// Parses the textual form; nil when it is malformed (empty keys, unclosed brackets).
    public init?(parsing text: String) {
        var segments: [Segment] = []
        var chars = Array(text)[...]
        var expectKey = true
        while let first = chars.first {
            if first == "[" {
                guard !(expectKey && !segments.isEmpty) else { return nil }
                chars = chars.dropFirst()
                if chars.first == "\"" {
                    chars = chars.dropFirst()
                    var key = ""
                    while let c = chars.first, c != "\"" {
                        chars = chars.dropFirst()
                        if c == "\\", let escaped = chars.first {
                            key.append(escaped)
                            chars = chars.dropFirst()
                        } else {
                            key.append(c)
                        }
                    }
                    guard chars.first == "\"", chars.dropFirst().first == "]" else { return nil }
                    chars = chars.dropFirst(2)
                    segments.append(.key(key))
                } else {
                    let digits = chars.prefix { $0.isASCII && $0.isNumber }
                    guard !digits.isEmpty, let index = Int(String(digits)), chars.dropFirst(digits.count).first == "]" else {
                        return nil
                    }
                    chars = chars.dropFirst(digits.count + 1)
                    segments.append(.index(index))
                }
                expectKey = false
            } else if first == "." {
                guard !segments.isEmpty, !expectKey else { return nil }
                chars = chars.dropFirst()
                expectKey = true
                guard let next = chars.first, next != "." else { return nil }
            } else {
                guard expectKey else { return nil }
                let key = chars.prefix { $0 != "." && $0 != "[" && $0 != "]" }
                chars = chars.dropFirst(key.count)
                segments.append(.key(String(key)))
                expectKey = false
            }
        }
        guard !segments.isEmpty, !expectKey else { return nil }
        self.segments = segments
    }

    public var description: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                let plain = !key.isEmpty && !key.contains(".") && !key.contains("[") && !key.contains("]") && !key.contains("\"")
                if plain {
                    text += text.isEmpty ? key : ".\(key)"
                } else {
                    let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    text += "[\"\(escaped)\"]"
                }
            }
        }
        return text
    }

    public func appending(_ segment: Segment) -> ConfigKeyPath {
        ConfigKeyPath(segments + [segment])
    }
}

/// Why a value could not be set at a path.
public struct ConfigKeyPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

extension JSONValue {
    /// The value at `path`, or nil when some segment does not exist.
    public func value(at path: ConfigKeyPath) -> JSONValue? {
        var current = self
        for segment in path.segments {
            switch segment {
            case .key(let key):
                guard let next = current[key] else { return nil }
                current = next
            case .index(let index):
                guard let next = current[index] else { return nil }
                current = next
            }
        }
        return current
    }

    /// A copy with `value` at `path`, creating missing objects on the way. An index may point
    /// one past the end of an array (appends); a segment through a non-container is an error.
    public func setting(_ value: JSONValue, at path: ConfigKeyPath) throws(ConfigKeyPathError) -> JSONValue {
        try Self.set(value, in: self, segments: path.segments[...], walked: ConfigKeyPath([]))
    }

    private static func set(
        _ value: JSONValue, in container: JSONValue, segments: ArraySlice<ConfigKeyPath.Segment>, walked: ConfigKeyPath
    ) throws(ConfigKeyPathError) -> JSONValue {
        guard let segment = segments.first else { return value }
        let here = walked.appending(segment)
        switch segment {
        case .key(let key):
            var object: [String: JSONValue]
            switch container {
            case .object(let existing): object = existing
            case .null: object = [:]
            default:
                throw ConfigKeyPathError(
                    path: walked.segments.isEmpty ? "<root>" : walked.description, message: "is \(container.typeName), not an object"
                )
            }
            object[key] = try set(value, in: object[key] ?? .null, segments: segments.dropFirst(), walked: here)
            return .object(object)
        case .index(let index):
            guard case .array(var items) = container else {
                throw ConfigKeyPathError(
                    path: walked.segments.isEmpty ? "<root>" : walked.description, message: "is \(container.typeName), not an array"
                )
            }
            guard index <= items.count else {
                throw ConfigKeyPathError(path: here.description, message: "index out of range (the array has \(items.count) items)")
            }
            if index == items.count {
                items.append(try set(value, in: .null, segments: segments.dropFirst(), walked: here))
            } else {
                items[index] = try set(value, in: items[index], segments: segments.dropFirst(), walked: here)
            }
            return .array(items)
        }
    }

    /// A copy without the value at `path`, and whether there was one.
    public func removing(at path: ConfigKeyPath) -> (value: JSONValue, removed: Bool) {
        Self.remove(from: self, segments: path.segments[...])
    }

    private static func remove(from container: JSONValue, segments: ArraySlice<ConfigKeyPath.Segment>) -> (value: JSONValue, removed: Bool) {
        guard let segment = segments.first else { return (container, false) }
        let last = segments.count == 1
        switch (segment, container) {
        case (.key(let key), .object(var object)):
            guard let child = object[key] else { return (container, false) }
            if last {
                object[key] = nil
                return (.object(object), true)
            }
            let (updated, removed) = remove(from: child, segments: segments.dropFirst())
            object[key] = updated
            return (.object(object), removed)
        case (.index(let index), .array(var items)):
            guard items.indices.contains(index) else { return (container, false) }
            if last {
                items.remove(at: index)
                return (.array(items), true)
            }
            let (updated, removed) = remove(from: items[index], segments: segments.dropFirst())
            items[index] = updated
            return (.array(items), removed)
        default:
            return (container, false)
        }
    }
}
