/// Word counting and chunking shared by every dialect, so usage numbers, stream chunks and
/// `max_tokens` truncation all agree: one "token" is one whitespace-separated word.
enum Words {
    @inline(__always)
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }

    static func count(_ text: String) -> Int {
        var words = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            if isSpace(scalar) {
                inWord = false
            } else if !inWord {
                inWord = true
                words += 1
            }
        }
        return words
    }

    /// Splits `text` into one piece per word, each keeping the whitespace that follows it (the
    /// first also keeps any leading whitespace), so `chunks(text).joined() == text`.
    static func chunks(_ text: String) -> [String] {
        let scalars = text.unicodeScalars
        var pieces: [String] = []
        var start = scalars.startIndex
        var seenWord = false
        var inTrailingSpace = false
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if isSpace(scalars[index]) {
                if seenWord { inTrailingSpace = true }
            } else {
                if inTrailingSpace {
                    pieces.append(String(scalars[start..<index]))
                    start = index
                    inTrailingSpace = false
                }
                seenWord = true
            }
            index = scalars.index(after: index)
        }
        if start < scalars.endIndex { pieces.append(String(scalars[start...])) }
        return pieces
    }

    /// Splits tool-call arguments into up to three fragments (two or more whenever the text has
    /// two characters), the way providers stream partial JSON.
    static func fragments(_ text: String) -> [String] {
        let characters = Array(text)
        guard characters.count >= 2 else { return [text] }
        let count = min(3, characters.count)
        let size = (characters.count + count - 1) / count
        return stride(from: 0, to: characters.count, by: size).map { start in
            String(characters[start..<min(start + size, characters.count)])
        }
    }
}
