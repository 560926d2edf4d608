import Foundation

/// Finds where things are in a JSON5 config file, so `doctor` can say "line N": the line of a
/// key path (`gateway.auth.mode`, `gateway.trustedProxies[0]`) and of a syntax error.
///
/// Hand-written because the JSON5 decoder reports no positions for values: a small scanner
/// that knows strings, comments, nesting and keys (quoted or bare) and records the line of
/// every key and array element it passes. It only locates; validation stays in `ConfigParser`.
public enum ConfigLocator {
    /// The 1-based line of `keyPath`, or of its nearest ancestor present in the file (a
    /// required key that is missing is reported at its parent).
    public static func line(of keyPath: String, in text: String) -> Int? {
        let lines = keyLines(in: text)
        var path = keyPath
        while !path.isEmpty {
            if let line = lines[path] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            path = String(path[..<cut])
        }
        return nil
    }

    /// The line of a JSON5 syntax error from the decoder's message (`… line 3, column 7`), or
    /// from a byte offset it names (`… offset 41` / `character 41`).
    public static func syntaxErrorLine(_ message: String, in data: Data) -> Int? {
        if let line = number(after: "line ", in: message) { return line }
        for marker in ["offset ", "character ", "index "] {
            if let offset = number(after: marker, in: message) { return line(atByteOffset: offset, in: data) }
        }
        return nil
    }

    /// The 1-based line holding byte `offset`.
    public static func line(atByteOffset offset: Int, in data: Data) -> Int {
        1 + data.prefix(max(0, offset)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    static func number(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker, options: [.caseInsensitive, .backwards]) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }

    /// Every key path (and array element) in `text` with the line it starts on.
    static func keyLines(in text: String) -> [String: Int] {
        var scanner = Scanner(Array(text.unicodeScalars))
        scanner.run()
        return scanner.found
    }

    /// One container being scanned: an object (its path and whether a key comes next) or an
    /// array (its path and the current element index).
    private enum Frame {
        case object(path: String, expectingKey: Bool)
        case array(path: String, index: Int, elementStarted: Bool)
    }

    private struct Scanner {
        let chars: [Unicode.Scalar]
        var position = 0
        var line = 1
        var stack: [Frame] = []
        /// The key just read, waiting for its value (its full path).
        var pendingKeyPath: String?
        var found: [String: Int] = [:]

        init(_ chars: [Unicode.Scalar]) { self.chars = chars }

        var current: Unicode.Scalar? { position < chars.count ? chars[position] : nil }

        mutating func advance() {
            if current == "\n" { line += 1 }
            position += 1
        }

        mutating func run() {
            while let char = current {
                switch char {
                case " ", "\t", "\r", "\n", "\u{FEFF}", "\u{A0}":
                    advance()
                case "/":
                    skipComment()
                case "{":
                    startValue()
                    stack.append(.object(path: containerPath(), expectingKey: true))
                    pendingKeyPath = nil
                    advance()
                case "[":
                    startValue()
                    stack.append(.array(path: containerPath(), index: 0, elementStarted: false))
                    pendingKeyPath = nil
                    advance()
                case "}", "]":
                    _ = stack.popLast()
                    pendingKeyPath = nil
                    advance()
                case ",":
                    if case .object(let path, _) = stack.last {
                        stack[stack.count - 1] = .object(path: path, expectingKey: true)
                    } else if case .array(let path, let index, _) = stack.last {
                        stack[stack.count - 1] = .array(path: path, index: index + 1, elementStarted: false)
                    }
                    pendingKeyPath = nil
                    advance()
                case ":":
                    advance()
                case "\"", "'":
                    let startLine = line
                    let text = readString(quote: char)
                    if expectingKey { recordKey(text, line: startLine) } else { startValue(line: startLine) }
                default:
                    let startLine = line
                    let word = readBare()
                    if word.isEmpty {
                        advance()  // a character JSON5 does not allow; the parser reports it
                    } else if expectingKey {
                        recordKey(word, line: startLine)
                    } else {
                        startValue(line: startLine)
                    }
                }
            }
        }

        var expectingKey: Bool {
            if case .object(_, true) = stack.last { return true }
            return false
        }

        /// The path of the container a `{` or `[` opens here.
        func containerPath() -> String {
            if let pendingKeyPath { return pendingKeyPath }
            if case .array(let path, let index, _) = stack.last { return "\(path)[\(index)]" }
            return ""
        }

        mutating func recordKey(_ key: String, line: Int) {
            guard case .object(let path, _) = stack.last else { return }
            let full = path.isEmpty ? key : "\(path).\(key)"
            if found[full] == nil { found[full] = line }
            stack[stack.count - 1] = .object(path: path, expectingKey: false)
            pendingKeyPath = full
        }

        /// A value starts: an array element gets its line recorded.
        mutating func startValue(line: Int? = nil) {
            guard case .array(let path, let index, false) = stack.last else { return }
            let element = "\(path)[\(index)]"
            if found[element] == nil { found[element] = line ?? self.line }
            stack[stack.count - 1] = .array(path: path, index: index, elementStarted: true)
        }

        mutating func skipComment() {
            let next = position + 1 < chars.count ? chars[position + 1] : nil
            if next == "/" {
                while let char = current, char != "\n" { advance() }
            } else if next == "*" {
                advance()
                advance()
                while let char = current {
                    if char == "*", position + 1 < chars.count, chars[position + 1] == "/" {
                        advance()
                        advance()
                        return
                    }
                    advance()
                }
            } else {
                advance()
            }
        }

        mutating func readString(quote: Unicode.Scalar) -> String {
            advance()
            var text = String.UnicodeScalarView()
            while let char = current {
                if char == "\\" {
                    advance()
                    if let escaped = current { text.append(escaped) }
                    advance()
                    continue
                }
                if char == quote {
                    advance()
                    break
                }
                text.append(char)
                advance()
            }
            return String(text)
        }

        /// A bare key, number or literal (`true`, `null`, `Infinity`, `0x1F`, `+1.5e3`).
        mutating func readBare() -> String {
            var text = String.UnicodeScalarView()
            while let char = current,
                char.properties.isAlphabetic || char.properties.numericType != nil || "_$+-.".unicodeScalars.contains(char)
            {
                text.append(char)
                advance()
            }
            return String(text)
        }
    }
}
