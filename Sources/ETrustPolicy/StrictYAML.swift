import ETrustCore
import Foundation
import Yams

/// A strict view of a YAML node: every mapping states its allowed keys, and every error names the
/// file, the line and the key path. Yams composes the node tree; this only walks it.
package struct StrictYAML {
    let node: Node
    let file: String
    let path: String

    package static func load(_ text: String, file: String) throws -> StrictYAML {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ETrustError(.invalidProfile, "\(file): empty document", category: .refused)
            }
            return StrictYAML(node: node, file: file, path: "")
        } catch let e as ETrustError {
            throw e
        } catch let e as YamlError {
            throw ETrustError(.invalidProfile, "\(file):\(StrictYAML.describe(e))", category: .refused)
        } catch {
            throw ETrustError(.invalidProfile, "\(file): \(error)", category: .refused)
        }
    }

    /// One line: "LINE: problem" (Yams' own text repeats the whole document).
    static func describe(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(mark.line): YAML syntax error: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "\(context.mark.line): duplicate key '\(duplicates.joined(separator: "', '"))'"
        case .reader(let problem, _, _, _):
            return " YAML error: \(problem)"
        default:
            return " YAML error: \(String(describing: e).split(separator: "\n").first ?? "")"
        }
    }

    var line: Int { (node.mark?.line ?? 0) }

    package func fail(_ message: String) -> ETrustError {
        ETrustError(.invalidProfile, "\(file):\(line): \(path.isEmpty ? "" : "'\(path)': ")\(message)", category: .refused)
    }

    private func child(_ n: Node, _ key: String) -> StrictYAML {
        StrictYAML(node: n, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// The mapping's entries, refusing keys not in `allowed` and duplicates.
    package func mapping(allowed: Set<String>) throws -> [String: StrictYAML] {
        guard case .mapping(let m) = node else { throw fail("expected a mapping") }
        var result: [String: StrictYAML] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw fail("mapping key is not a string") }
            let c = child(v, key)
            guard allowed.contains(key) else {
                let keyNode = StrictYAML(node: k, file: file, path: c.path)
                throw keyNode.fail("unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard result[key] == nil else { throw c.fail("duplicate key") }
            result[key] = c
        }
        return result
    }

    /// A mapping with arbitrary keys.
    package func entries() throws -> [(String, StrictYAML)] {
        guard case .mapping(let m) = node else { throw fail("expected a mapping") }
        return try m.map { k, v in
            guard let key = k.string else { throw fail("mapping key is not a string") }
            return (key, child(v, key))
        }
    }

    package func sequence() throws -> [StrictYAML] {
        guard case .sequence(let s) = node else { throw fail("expected a list") }
        return s.enumerated().map { i, n in child(n, "\(i)") }
    }

    package func string() throws -> String {
        guard case .scalar(let s) = node else { throw fail("expected a string") }
        return s.string
    }

    package func int(min: Int = Int.min, max: Int = Int.max) throws -> Int {
        guard case .scalar = node, let v = node.int else { throw fail("expected an integer") }
        guard v >= min, v <= max else { throw fail("must be between \(min) and \(max)") }
        return v
    }

    package func bool() throws -> Bool {
        guard case .scalar = node, let v = node.bool else { throw fail("expected true or false") }
        return v
    }

    package func strings() throws -> [String] {
        if case .scalar = node { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    package func duration() throws -> ValidityDuration {
        do { return try ValidityDuration(parsing: try string()) } catch let e as ETrustError where e.code != .invalidProfile {
            throw fail(e.reason)
        }
    }

    package func oid() throws -> String {
        let s = try string()
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            throw fail("'\(s)' is not a dotted OID")
        }
        return s
    }

    package func regex() throws -> NSRegularExpression {
        let s = try string()
        do { return try NSRegularExpression(pattern: s) } catch { throw fail("invalid regular expression '\(s)'") }
    }

    package func date() throws -> Date {
        let s = try string()
        if let d = try? RFC3339.parse(s) { return d }
        if let d = try? RFC3339.parse(s + "T00:00:00Z") { return d }
        throw fail("'\(s)' is not a date (YYYY-MM-DD or RFC 3339)")
    }
}
