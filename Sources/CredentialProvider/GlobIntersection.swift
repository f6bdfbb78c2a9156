// Whether two host-part globs can match a common string, by a search over pairs of pattern
// positions (the product of the two patterns read as automata). Exact except where two
// character classes meet with a negation involved, which counts as overlapping.

enum GlobIntersection {
    static func isNonEmpty(_ first: GoGlob, _ second: GoGlob) -> Bool {
        let a = first.tokens
        let b = second.tokens

        var seen = Set<Int>()
        var pending = [(0, 0)]
        while let (i, j) = pending.popLast() {
            guard seen.insert(i * (b.count + 1) + j).inserted else { continue }
            if i == a.count && j == b.count { return true }

            // A star may match nothing.
            if i < a.count && a[i] == .star { pending.append((i + 1, j)) }
            if j < b.count && b[j] == .star { pending.append((i, j + 1)) }

            // Both consume one common character; a star stays where it is.
            guard i < a.count, j < b.count, canShareCharacter(a[i], b[j]) else { continue }
            pending.append((a[i] == .star ? i : i + 1, b[j] == .star ? j : j + 1))
        }
        return false
    }

    private static func canShareCharacter(_ first: GoGlob.Token, _ second: GoGlob.Token) -> Bool {
        switch (first, second) {
        case (.literal(let x), _):
            return accepts(second, x)
        case (_, .literal(let y)):
            return accepts(first, y)
        case (.characterClass(let x), .characterClass(let y)):
            guard !x.isNegated, !y.isNegated else { return true }
            return x.ranges.contains { r in y.ranges.contains { $0.overlaps(r) } }
        default:
            // A star or "?" against anything but a literal: some character fits both,
            // assuming a class is not empty.
            return true
        }
    }

    private static func accepts(_ token: GoGlob.Token, _ scalar: Unicode.Scalar) -> Bool {
        switch token {
        case .literal(let expected): expected == scalar
        case .anyCharacter, .star: scalar != "/"
        case .characterClass(let characterClass): characterClass.contains(scalar)
        }
    }
}
