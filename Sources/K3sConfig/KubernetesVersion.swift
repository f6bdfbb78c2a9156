/// A Kubernetes or k3s release version such as `v1.34.1+k3s1`, ordered by semantic-versioning
/// rules. The build suffix (`k3s1`) breaks ties, so `v1.34.1+k3s1 < v1.34.1+k3s2`.
public struct KubernetesVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// The part after `-`, such as `rc.1`; nil for a release.
    public var preRelease: String?
    /// The part after `+`, such as `k3s1`.
    public var build: String?

    public init(major: Int, minor: Int, patch: Int = 0, preRelease: String? = nil, build: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.preRelease = preRelease
        self.build = build
    }

    /// Parses `v1.34.1+k3s1`, `1.35.0`, `v1.34.0-rc.1+k3s1`, or a line of `k3s --version` output
    /// (`k3s version v1.34.1+k3s1 (abcdef12)`): the first word that reads as a version wins.
    /// `major.minor` alone means patch 0.
    public init?(parsing text: String) {
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if let version = Self.parseWord(word) {
                self = version
                return
            }
        }
        return nil
    }

    /// Parses like `init?(parsing:)` and throws a message naming the text when it is not a version.
    public static func parse(_ text: String) throws(K3sConfigError) -> KubernetesVersion {
        guard let version = KubernetesVersion(parsing: text) else {
            throw K3sConfigError(
                file: "Kubernetes version",
                message: "invalid version \"\(text)\"; expected a form like v1.34.1+k3s1 or 1.34.1"
            )
        }
        return version
    }

    /// `v1.34.1`, with `-preRelease` and `+build` when present.
    public var description: String {
        var text = "v\(major).\(minor).\(patch)"
        if let preRelease { text += "-\(preRelease)" }
        if let build { text += "+\(build)" }
        return text
    }

    /// `1.34`: the part that decides which features and API fields exist.
    public var minorRelease: String { "\(major).\(minor)" }

    /// True when this version is at least `major.minor`, whatever its patch or pre-release.
    public func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
        (self.major, self.minor) >= (major, minor)
    }

    public static func < (lhs: KubernetesVersion, rhs: KubernetesVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // A pre-release sorts before its release.
        switch (lhs.preRelease, rhs.preRelease) {
        case (nil, .some): return false
        case (.some, nil): return true
        case (.some(let left), .some(let right)) where left != right:
            return identifiersPrecede(left, right)
        default:
            break
        }
        return identifiersPrecede(lhs.build ?? "", rhs.build ?? "")
    }

    private static func parseWord(_ word: Substring) -> KubernetesVersion? {
        var text = word
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }

        var build: String?
        if let plus = text.firstIndex(of: "+") {
            build = String(text[text.index(after: plus)...])
            text = text[..<plus]
        }
        var preRelease: String?
        if let dash = text.firstIndex(of: "-") {
            preRelease = String(text[text.index(after: dash)...])
            text = text[..<dash]
        }

        let numbers = text.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 2 || numbers.count == 3 else { return nil }
        var values: [Int] = []
        for number in numbers {
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(number) else {
                return nil
            }
            values.append(value)
        }
        if preRelease?.isEmpty == true || build?.isEmpty == true { return nil }
        return KubernetesVersion(
            major: values[0], minor: values[1], patch: values.count == 3 ? values[2] : 0,
            preRelease: preRelease, build: build
        )
    }

    // Semantic-versioning order of dot-separated identifiers: numbers compare as numbers and sort
    // before words. Within a word, a trailing number compares as a number (`k3s2 < k3s10`).
    private static func identifiersPrecede(_ left: String, _ right: String) -> Bool {
        let leftParts = left.split(separator: ".", omittingEmptySubsequences: false)
        let rightParts = right.split(separator: ".", omittingEmptySubsequences: false)
        for (leftPart, rightPart) in zip(leftParts, rightParts) where leftPart != rightPart {
            switch (Int(leftPart), Int(rightPart)) {
            case (.some(let a), .some(let b)): return a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return naturalPrecedes(leftPart, rightPart)
            }
        }
        return leftParts.count < rightParts.count
    }

    private static func naturalPrecedes(_ left: Substring, _ right: Substring) -> Bool {
        let leftDigits = left.reversed().prefix { $0.isASCII && $0.isNumber }.count
        let rightDigits = right.reversed().prefix { $0.isASCII && $0.isNumber }.count
        if left.dropLast(leftDigits) == right.dropLast(rightDigits),
            let a = Int(left.suffix(leftDigits)), let b = Int(right.suffix(rightDigits)) {
            return a < b
        }
        return left < right
    }
}
