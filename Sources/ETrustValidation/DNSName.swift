import ETrustCore

/// DNS names as RFC 5280 4.2.1.6 wants them in certificates: the preferred name syntax of
/// RFC 1034 3.5 as modified by RFC 1123 2.1.
enum DNSName {
    /// Letters, digits and hyphens, labels of 1 to 63 octets that neither start nor end with a
    /// hyphen, at most 253 octets, the last label not all digits (RFC 3696 2: no IPv4 address in
    /// another spelling). With `wildcard`, "*" may be the whole left-most label (RFC 6125 6.4.3,
    /// BR 7.1.2.7.12), followed by at least two labels.
    static func isValid(_ name: String, wildcard: Bool) -> Bool {
        var labels = name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if wildcard, labels.count > 2, labels[0].elementsEqual("*".utf8) { labels.removeFirst() }
        guard name.utf8.count <= 253, let last = labels.last, !last.allSatisfy(isDigit) else { return false }
        return labels.allSatisfy(isLDHLabel)
    }

    /// A dNSName of a name constraint (RFC 5280 4.2.1.10): empty (every name) or a DNS name; a
    /// leading period is the URI form and invalid here.
    static func isValidConstraint(_ base: String) -> Bool {
        base.isEmpty || isValid(base, wildcard: false)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static func isLDHLabel(_ label: Substring.UTF8View.SubSequence) -> Bool {
        guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
        return label.allSatisfy { c in isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a) || c == UInt8(ascii: "-") }
    }

    /// `name` is `base` with exactly one more label on the left (case-insensitive): a name that
    /// "*.base" stands for.
    static func isOneLabelUnder(_ name: String, _ base: String) -> Bool {
        let n = name.lowercased(), b = base.lowercased()
        guard !b.isEmpty, n.hasSuffix("." + b) else { return false }
        let label = n.dropLast(b.count + 1)
        return !label.isEmpty && !label.contains(".")
    }
}

/// The ICANN section of the Public Suffix List (PublicSuffixData), for BR 3.2.2.6.
enum PublicSuffixes {
    private struct Rules: Sendable {
        var exact = Set<String>(), wildcardParents = Set<String>(), exceptions = Set<String>()
    }
    private static let rules: Rules = {
        var r = Rules()
        for line in PublicSuffixData.rules.split(separator: "\n") {
            if line.hasPrefix("!") { r.exceptions.insert(String(line.dropFirst())) }
            else if line.hasPrefix("*.") { r.wildcardParents.insert(String(line.dropFirst(2))) }
            else { r.exact.insert(String(line)) }
        }
        return r
    }()

    /// Whether `domain` is a public (registry-controlled) suffix, such as "com" or "co.uk"; any
    /// single label counts (the list's implicit "*" rule).
    static func isPublicSuffix(_ domain: String) -> Bool {
        let d = domain.lowercased()
        guard let dot = d.firstIndex(of: ".") else { return true }
        if rules.exceptions.contains(d) { return false }
        return rules.exact.contains(d) || rules.wildcardParents.contains(String(d[d.index(after: dot)...]))
    }
}
