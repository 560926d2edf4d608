import Foundation

/// Finds the first JSON5 syntax error in a config file and its line.
///
/// Hand-written because Foundation's JSON5 decoder on Linux reports only "The given data was
/// not valid JSON." with no position, and `doctor` must say where. A recursive-descent check of
/// the JSON5 grammar (objects, arrays, quoted or bare keys, strings in either quote, numbers
/// including hex/Infinity/NaN, literals, comments, trailing commas); it validates syntax only,
/// the decoder still produces the values.
public struct JSON5SyntaxCheck {
    public struct Failure: Error, Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }

    private let chars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var column = 1
    /// Nesting bound, so a hostile file cannot overflow the stack.
    private static let maxDepth = 512

    /// The first syntax error of `text`, or nil when it is valid JSON5.
    public static func firstError(in text: String) -> Failure? {
        var check = JSON5SyntaxCheck(chars: Array(text.unicodeScalars))
        do throws(Failure) {
            check.skipBlank()
            try check.value(depth: 0)
            check.skipBlank()
            if let extra = check.current { throw check.failure("unexpected \(Self.describe(extra)) after the top-level value") }
            return nil
        } catch {
            return error
        }
    }

    private init(chars: [Unicode.Scalar]) { self.chars = chars }

    private var current: Unicode.Scalar? { position < chars.count ? chars[position] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        position + offset < chars.count ? chars[position + offset] : nil
    }

    private mutating func advance() {
        if current == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        position += 1
    }

    private func failure(_ message: String) -> Failure {
        Failure(line: line, column: column, message: message)
    }

    static func describe(_ char: Unicode.Scalar?) -> String {
        guard let char else { return "end of file" }
        return char.properties.isWhitespace || char.value < 0x20 ? "character U+\(String(char.value, radix: 16, uppercase: true))" : "'\(char)'"
    }

    private mutating func skipBlank() {
        while let char = current {
            if char.properties.isWhitespace || char == "\u{FEFF}" {
                advance()
            } else if char == "/", peek(1) == "/" {
                while let next = current, next != "\n" { advance() }
            } else if char == "/", peek(1) == "*" {
                advance()
                advance()
                while current != nil, !(current == "*" && peek(1) == "/") { advance() }
                if current != nil {
                    advance()
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) {
        guard depth < Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        guard let char = current else { throw failure("expected a value, found end of file") }
        switch char {
        case "{": try object(depth: depth + 1)
        case "[": try array(depth: depth + 1)
        case "\"", "'": try string()
        default:
            if char == "-" || char == "+" || char == "." || char.properties.numericType != nil {
                try number()
            } else if Self.isIdentifierStart(char) {
                let word = identifier()
                guard ["true", "false", "null", "Infinity", "NaN"].contains(word) else {
                    throw failure("unexpected word '\(word)' where a value belongs (strings need quotes)")
                }
            } else {
                throw failure("unexpected \(Self.describe(char)) where a value belongs")
            }
        }
    }

    private mutating func object(depth: Int) throws(Failure) {
        advance()  // {
        skipBlank()
        if current == "}" {
            advance()
            return
        }
        while true {
            guard let char = current else { throw failure("unterminated object: expected a key or '}', found end of file") }
            if char == "\"" || char == "'" {
                try string()
            } else if Self.isIdentifierStart(char) {
                _ = identifier()
            } else {
                throw failure("expected a key, found \(Self.describe(char))")
            }
            skipBlank()
            guard current == ":" else { throw failure("expected ':' after the key, found \(Self.describe(current))") }
            advance()
            skipBlank()
            try value(depth: depth)
            skipBlank()
            if current == "," {
                advance()
                skipBlank()
                if current == "}" {
                    advance()
                    return
                }
            } else if current == "}" {
                advance()
                return
            } else {
                throw failure("expected ',' or '}' after a value, found \(Self.describe(current))")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) {
        advance()  // [
        skipBlank()
        if current == "]" {
            advance()
            return
        }
        while true {
            try value(depth: depth)
            skipBlank()
            if current == "," {
                advance()
                skipBlank()
                if current == "]" {
                    advance()
                    return
                }
            } else if current == "]" {
                advance()
                return
            } else {
                throw failure("expected ',' or ']' after a value, found \(Self.describe(current))")
            }
        }
    }

    private mutating func string() throws(Failure) {
        guard let quote = current else { return }
        let start = failure("unterminated string")
        advance()
        while let char = current {
            if char == quote {
                advance()
                return
            }
            if char == "\\" {
                advance()
                guard current != nil else { break }
                advance()  // any escape, including a line continuation
                continue
            }
            if char == "\n" { throw failure("unterminated string (a line break inside quotes needs a backslash)") }
            advance()
        }
        throw start
    }

    private mutating func number() throws(Failure) {
        if current == "+" || current == "-" { advance() }
        if let char = current, Self.isIdentifierStart(char) {
            let word = identifier()
            guard word == "Infinity" || word == "NaN" else { throw failure("invalid number '\(word)'") }
            return
        }
        var digits = 0
        while let char = current,
            char.properties.numericType != nil || char == "." || char == "x" || char == "X" || char == "e" || char == "E"
                || ("a"..."f").contains(char) || ("A"..."F").contains(char)
                || ((char == "+" || char == "-") && (chars[position - 1] == "e" || chars[position - 1] == "E"))
        {
            digits += 1
            advance()
        }
        if digits == 0 { throw failure("expected a number, found \(Self.describe(current))") }
    }

    private mutating func identifier() -> String {
        var word = String.UnicodeScalarView()
        while let char = current, Self.isIdentifierStart(char) || char.properties.numericType != nil {
            word.append(char)
            advance()
        }
        return String(word)
    }

    static func isIdentifierStart(_ char: Unicode.Scalar) -> Bool {
        char.properties.isAlphabetic || char == "_" || char == "$"
    }
}
