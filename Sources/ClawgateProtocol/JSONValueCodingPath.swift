import Foundation

/// The coding path of a `JSONValueEncoder`/`JSONValueDecoder` position as a parent-linked list:
/// descending one level costs one small box instead of copying an array, and the
/// `[any CodingKey]` that `Encoder.codingPath` and error contexts need is built only when asked
/// for (in practice: when an error is thrown).
indirect enum JSONValueCodingPath {
    case root
    case child(any CodingKey, parent: JSONValueCodingPath)

    func appending(_ key: any CodingKey) -> JSONValueCodingPath { .child(key, parent: self) }

    func appending(index: Int) -> JSONValueCodingPath { .child(JSONValueCodingKey(index: index), parent: self) }

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .child(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }
}

/// The keys the coders invent themselves, spelled like Foundation's JSON coders spell them
/// (`Index 3` with int value 3 for array elements, `super`), so that coding paths in errors match.
struct JSONValueCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }

    /// A key of a `JSONValue` object, as `Dictionary`'s own coding key would describe it.
    init(objectKey: String) {
        self.stringValue = objectKey
        self.intValue = Int(objectKey)
    }

    static let `super` = JSONValueCodingKey(stringValue: "super")
}
