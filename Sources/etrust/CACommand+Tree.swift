import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

extension CA {
    /// `etrust ca tree`: the hierarchy with validity, status and key custody.
    struct Tree: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tree", abstract: "The CA hierarchy (roots, sub-CAs, cross-certificates, responder certificates): text, dot or svg.")
        @Option(help: "text, dot (Graphviz) or svg.") var format: String = "text"
        @Option(help: "Write to FILE instead of standard output.") var out: String?
        @Option(name: .long, help: "The CA home (default: $ETRUST_HOME or ./etrust-home).") var home: String?
        @Flag(help: "Print one JSON object (the tree).") var json = false

        func run() throws {
            guard ["text", "dot", "svg"].contains(format) else { throw ValidationError("--format must be text, dot or svg") }
            let path = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
            let authority = try Authority(home: try Home.open(path), passphrase: { throw ETrustError.environment("no key is needed to draw the tree") })
            let tree = try CATree.build(authority, at: Date())
            if json {
                try Output.json(["roots": tree.roots.map(Self.json)])
                return
            }
            let text = format == "dot" ? tree.dot : format == "svg" ? tree.svg : tree.text + "\n"
            if let out { try AtomicFile.write(Array(text.utf8), to: out) } else { print(text, terminator: "") }
        }

        static func json(_ n: CATree.Node) -> [String: Any] {
            ["name": n.name, "subject": n.subject, "profile": n.profile, "custody": n.custody, "status": n.status.rawValue,
             "notBefore": RFC3339.format(n.notBefore), "notAfter": RFC3339.format(n.notAfter), "children": n.children.map(json),
             "certificates": n.leaves.map { ["kind": $0.kind, "subject": $0.subject, "serial": $0.serialHex, "status": $0.status.rawValue,
                                             "notAfter": RFC3339.format($0.notAfter)] }]
        }
    }
}
