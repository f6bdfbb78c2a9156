// Shell-style patterns with the syntax and meaning of Go's `path/filepath.Match` on Linux.
// The kubelet applies them to each dot-separated part of a `matchImages` host.
// `*` matches any run of non-"/" characters, `?` one non-"/" character, and `[...]` a class
// (ranges `a-z`, negation `[^...]`), while `\` quotes the next character. Since Go 1.16 a
// malformed pattern never matches (Match returns ErrBadPattern), which this type keeps by
// rejecting the whole pattern up front.

struct GoGlob: Sendable {
    enum Token: Equatable, Sendable {
        case literal(Unicode.Scalar)
        case anyCharacter
        case star
        case characterClass(CharacterClass)
    }

    struct CharacterClass: Equatable, Sendable {
        var isNegated: Bool
        var ranges: [ClosedRange<UInt32>]

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let inRange = ranges.contains { $0.contains(scalar.value) }
            return inRange != isNegated
        }
    }

    /// Go's `filepath.ErrBadPattern` text.
    struct BadPattern: Error, Equatable, Sendable {
        var message: String { "syntax error in pattern" }
    }

    let tokens: [Token]

    init(_ pattern: String) throws(BadPattern) {
        tokens = try Self.tokenize(Array(pattern.unicodeScalars))
    }

    /// Returns whether `text` matches the whole pattern.
    func matches(_ text: String) -> Bool {
        // Dynamic programming over (token, text prefix) without recursion, so neither many
        // stars nor long input can blow up time or the stack. `row[j]` is true when the
        // tokens seen so far match the first `j` characters.
        let scalars = Array(text.unicodeScalars)
        var row = [Bool](repeating: false, count: scalars.count + 1)
        row[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: scalars.count + 1)
            if token == .star {
                next[0] = row[0]
            }
            for (offset, scalar) in scalars.enumerated() {
                let j = offset + 1
                switch token {
                case .star:
                    next[j] = row[j] || (next[j - 1] && scalar != "/")
                case .literal(let expected):
                    next[j] = row[j - 1] && scalar == expected
                case .anyCharacter:
                    next[j] = row[j - 1] && scalar != "/"
                case .characterClass(let characterClass):
                    next[j] = row[j - 1] && characterClass.contains(scalar)
                }
            }
            row = next
        }
        return row[scalars.count]
    }

    /// Whether the pattern contains `*`, `?` or a class.
    var hasWildcards: Bool {
        tokens.contains { if case .literal = $0 { false } else { true } }
    }

    private static func tokenize(_ scalars: [Unicode.Scalar]) throws(BadPattern) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*":
                if tokens.last != .star { tokens.append(.star) }
            case "?":
                tokens.append(.anyCharacter)
            case "\\":
                guard index < scalars.count else { throw BadPattern() }
                tokens.append(.literal(scalars[index]))
                index += 1
            case "[":
                tokens.append(.characterClass(try parseClass(scalars, &index)))
            default:
                tokens.append(.literal(scalar))
            }
        }
        return tokens
    }

    // Parses the class body after "[": at least one range, then "]".
    private static func parseClass(_ scalars: [Unicode.Scalar], _ index: inout Int) throws(BadPattern) -> CharacterClass {
        var characterClass = CharacterClass(isNegated: false, ranges: [])
        if index < scalars.count && scalars[index] == "^" {
            characterClass.isNegated = true
            index += 1
        }
        var rangeCount = 0
        while true {
            if index < scalars.count && scalars[index] == "]" && rangeCount > 0 {
                index += 1
                return characterClass
            }
            let low = try classCharacter(scalars, &index)
            var high = low
            if scalars[index] == "-" {
                index += 1
                high = try classCharacter(scalars, &index)
            }
            rangeCount += 1
            // Go accepts an inverted range such as "z-a", which matches nothing.
            if low.value <= high.value {
                characterClass.ranges.append(low.value...high.value)
            }
        }
    }

    // One class character (Go's `getEsc`): not "-" or "]" unquoted, and never the pattern's end.
    private static func classCharacter(_ scalars: [Unicode.Scalar], _ index: inout Int) throws(BadPattern) -> Unicode.Scalar {
        guard index < scalars.count, scalars[index] != "-", scalars[index] != "]" else { throw BadPattern() }
        if scalars[index] == "\\" {
            index += 1
            guard index < scalars.count else { throw BadPattern() }
        }
        let scalar = scalars[index]
        index += 1
        guard index < scalars.count else { throw BadPattern() }
        return scalar
    }
}
