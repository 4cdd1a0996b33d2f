import ETrustCore
import ETrustStore
import Foundation

/// The hierarchy of a home as an auditor draws it: roots, their subordinates, the
/// cross-certificates each CA issued, and each CA's OCSP responder and time-stamping unit certificates, with validity,
/// status and key custody. Rendered as text, Graphviz DOT, or a self-contained SVG.
public struct CATree: Sendable {
    public enum Status: String, Sendable { case valid, expired, revoked, notYetValid = "not yet valid" }

    /// A certificate that hangs off a CA without being one of the home's CAs.
    public struct Leaf: Sendable {
        public var kind: String            // "ocsp responder", "tsa unit", "cross-certificate"
        public var subject: String
        public var serialHex: String
        public var notAfter: Date
        public var status: Status
    }

    public struct Node: Sendable {
        public var name: String
        public var subject: String
        public var profile: String
        public var custody: String         // file, pkcs11, offline
        public var notBefore: Date
        public var notAfter: Date
        public var status: Status
        public var children: [Node]
        public var leaves: [Leaf]
    }

    public var roots: [Node]

    /// The home's tree at `now`.
    public static func build(_ authority: Authority, at now: Date) throws -> CATree {
        let records = try authority.caRecords()
        func status(_ c: Certificate, revoked: Bool) -> Status {
            revoked ? .revoked : now < c.notBefore ? .notYetValid : now > c.notAfter ? .expired : .valid
        }
        func node(_ r: CARecord) throws -> Node {
            let revoked = try r.parent.flatMap { try authority.store.certificate(ca: $0, serialHex: r.certificate.serialHex) }?.status == .revoked
            var leaves: [Leaf] = []
            if let signer = try authority.store.currentOCSPSigner(ca: r.name) {
                let c = signer.certificate
                leaves.append(Leaf(kind: "ocsp responder", subject: c.subject.description, serialHex: c.serialHex, notAfter: c.notAfter,
                                   status: status(c, revoked: false)))
            }
            if let unit = try authority.store.currentTSASigner(ca: r.name) {
                let c = unit.certificate
                leaves.append(Leaf(kind: "tsa unit", subject: c.subject.description, serialHex: c.serialHex, notAfter: c.notAfter,
                                   status: status(c, revoked: false)))
            }
            for x in try authority.certificates(matching: CertificateFilter(ca: r.name, profile: "cross-ca"), at: now) {
                let status: Status = x.status == .revoked ? .revoked : now < x.notBefore ? .notYetValid : now > x.notAfter ? .expired : .valid
                leaves.append(Leaf(kind: "cross-certificate", subject: x.subject, serialHex: x.serialHex, notAfter: x.notAfter, status: status))
            }
            let custody = r.keyReference.hasPrefix(KeyStore.offlinePrefix) ? "offline"
                : r.keyReference.hasPrefix("pkcs11:") ? "pkcs11" : "file"
            return Node(name: r.name, subject: r.certificate.subject.description, profile: r.profile, custody: custody,
                        notBefore: r.certificate.notBefore, notAfter: r.certificate.notAfter, status: status(r.certificate, revoked: revoked),
                        children: try records.filter { $0.parent == r.name }.map(node), leaves: leaves)
        }
        let names = Set(records.map(\.name))
        return CATree(roots: try records.filter { r in r.parent.map { !names.contains($0) } ?? true }.map(node))
    }

    // MARK: Text

    public var text: String {
        var out: [String] = []
        func walk(_ n: Node, _ prefix: String, _ last: Bool, _ top: Bool) {
            let branch = top ? "" : (last ? "└── " : "├── ")
            out.append("\(prefix)\(branch)\(n.name)  [\(n.status.rawValue), \(n.custody) key, \(n.profile)]  \(n.subject)  "
                       + "\(RFC3339.format(n.notBefore)) .. \(RFC3339.format(n.notAfter))")
            let inner = prefix + (top ? "" : (last ? "    " : "│   "))
            let items = n.leaves.count + n.children.count
            for (i, l) in n.leaves.enumerated() {
                out.append("\(inner)\(i + 1 == items ? "└── " : "├── ")\(l.kind) \(l.serialHex)  [\(l.status.rawValue)]  \(l.subject)  until \(RFC3339.format(l.notAfter))")
            }
            for (i, c) in n.children.enumerated() { walk(c, inner, n.leaves.count + i + 1 == items, false) }
        }
        for r in roots { walk(r, "", true, true) }
        return out.joined(separator: "\n")
    }

    // MARK: DOT

    /// Graphviz DOT: CAs as boxes (grey when not valid), leaves as ellipses, edges from issuer.
    public var dot: String {
        var lines = ["digraph etrust {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=10];"]
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func walk(_ n: Node) {
            let label = "\(n.name)\\n\(n.subject)\\n\(n.status.rawValue), \(n.custody) key\\nuntil \(RFC3339.format(n.notAfter))"
            lines.append("  \(q("ca:" + n.name)) [shape=box, style=\(n.status == .valid ? "solid" : "filled"), fillcolor=\"#dddddd\", label=\(q(label))];")
            for l in n.leaves {
                let id = "\(l.kind):\(n.name):\(l.serialHex)"
                lines.append("  \(q(id)) [shape=ellipse, label=\(q("\(l.kind)\\n\(l.subject)\\n\(l.status.rawValue), until \(RFC3339.format(l.notAfter))"))];")
                lines.append("  \(q("ca:" + n.name)) -> \(q(id)) [style=dashed];")
            }
            for c in n.children {
                walk(c)
                lines.append("  \(q("ca:" + n.name)) -> \(q("ca:" + c.name));")
            }
        }
        roots.forEach(walk)
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }

    // MARK: SVG

    /// A self-contained SVG (no scripts, no external references): one row per depth.
    public var svg: String {
        struct Box { var x: Double; var y: Double; var lines: [String]; var dim: Bool; var round: Bool }
        var boxes: [Box] = []
        var edges: [(Int, Int, Bool)] = []
        var column = 0.0
        let width = 260.0, height = 64.0, gapX = 20.0, gapY = 50.0
        func place(_ n: Node, depth: Int) -> Int {
            let me = boxes.count
            boxes.append(Box(x: 0, y: Double(depth) * (height + gapY) + 10, lines: [n.name, n.subject, "\(n.status.rawValue), \(n.custody) key",
                                                                                        "until \(RFC3339.format(n.notAfter))"],
                             dim: n.status != .valid, round: false))
            var xs: [Double] = []
            for l in n.leaves {
                let i = boxes.count
                boxes.append(Box(x: column * (width + gapX) + 10, y: Double(depth + 1) * (height + gapY) + 10,
                                 lines: [l.kind, l.subject, "\(l.status.rawValue), until \(RFC3339.format(l.notAfter))"], dim: l.status != .valid, round: true))
                edges.append((me, i, true))
                xs.append(boxes[i].x)
                column += 1
            }
            for c in n.children {
                let i = place(c, depth: depth + 1)
                edges.append((me, i, false))
                xs.append(boxes[i].x)
            }
            if xs.isEmpty { boxes[me].x = column * (width + gapX) + 10; column += 1 } else { boxes[me].x = (xs.min()! + xs.max()!) / 2 }
            return me
        }
        for r in roots { _ = place(r, depth: 0) }
        let w = max(width + 20, (boxes.map(\.x).max() ?? 0) + width + 10), h = (boxes.map(\.y).max() ?? 0) + height + 10
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"Helvetica, sans-serif\" font-size=\"10\">"]
        for (a, b, dashed) in edges {
            out.append("<line x1=\"\(boxes[a].x + width / 2)\" y1=\"\(boxes[a].y + height)\" x2=\"\(boxes[b].x + width / 2)\" y2=\"\(boxes[b].y)\" stroke=\"#555\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>")
        }
        for b in boxes {
            out.append("<g><rect x=\"\(b.x)\" y=\"\(b.y)\" width=\"\(width)\" height=\"\(height)\" rx=\"\(b.round ? 20 : 3)\" fill=\"\(b.dim ? "#e4e4e4" : "#ffffff")\" stroke=\"#333\"/>")
            for (i, line) in b.lines.enumerated() {
                let text = line.count > 48 ? String(line.prefix(47)) + "…" : line
                out.append("<text x=\"\(b.x + 8)\" y=\"\(b.y + 15 + Double(i) * 13)\"\(i == 0 ? " font-weight=\"bold\"" : "")>\(esc(text))</text>")
            }
            out.append("</g>")
        }
        return (out + ["</svg>"]).joined(separator: "\n") + "\n"
    }
}
