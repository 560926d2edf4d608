import ClawgateProtocol

/// JSON merge patch (RFC 7386), what `config.patch` applies: objects merge key by key, `null`
/// deletes a key, anything else (arrays included) replaces the target.
///
/// Hand-written: the algorithm is ten lines and no package in the stack implements it for a
/// JSON value type.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let targetObject) = target { result = targetObject } else { result = [:] }
        for (key, value) in patchObject {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

/// The key paths at which two config trees differ, for audit records and `config.changed`.
/// Objects are compared key by key down to their leaves; arrays and scalars as a whole.
public enum ConfigDiff {
    public static func changedPaths(from old: JSONValue?, to new: JSONValue?) -> [String] {
        var paths: [String] = []
        collect(old, new, at: ConfigKeyPath([]), into: &paths)
        return paths
    }

    private static func collect(_ old: JSONValue?, _ new: JSONValue?, at path: ConfigKeyPath, into paths: inout [String]) {
        let oldObject = old?.objectValue
        let newObject = new?.objectValue
        if oldObject != nil || newObject != nil, (oldObject != nil || old == nil || old?.isNull == true),
            (newObject != nil || new == nil || new?.isNull == true)
        {
            let keys = Set((oldObject ?? [:]).keys).union((newObject ?? [:]).keys).sorted()
            for key in keys {
                collect(oldObject?[key], newObject?[key], at: path.appending(.key(key)), into: &paths)
            }
            return
        }
        if old != new { paths.append(path.segments.isEmpty ? "<root>" : path.description) }
    }
}
