import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// The console's HTML: one layout, forms and tables. No external resource, no inline script.
enum ConsolePage {
    struct BadRequest: Error { let message: String }

    static func page(_ title: String, _ body: String, status: Int = 200) -> ConsoleResponse {
        ConsoleResponse(status: status, body: """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title)) · etrust console</title>
        <style>
        \(AuditReport.css)
        nav a { margin-right: 1.2em; } .pending { color: #666; } pre { font-size: 0.8em; }
        </style></head><body>
        <nav><a href="/">overview</a><a href="/events">events</a><a href="/cas">CAs</a><a href="/crls">CRLs</a>
        <span style="color:#666">read-only auditor console</span></nav>
        <h1>\(esc(title))</h1>
        \(body)
        </body></html>

        """)
    }

    static func error(_ status: Int, _ message: String) -> ConsoleResponse {
        page(status == 404 ? "Not found" : status == 400 ? "Bad request" : "Error", "<p id=\"error\" class=\"bad\">\(esc(message))</p>",
             status: status)
    }

    static let loginForm = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>etrust console: sign in</title></head><body>
        <h1>etrust auditor console</h1>
        <form method="post" action="/login"><label>Access token <input id="token" name="token" type="password" autocomplete="off"></label>
        <button id="sign-in" type="submit">sign in</button></form>
        </body></html>

        """

    // MARK: Filters

    /// The events filter from a query, validated: a type etrust knows, a hexadecimal serial, RFC 3339 times.
    static func filter(_ q: [String: String]) throws -> EventFilter {
        func value(_ k: String) -> String? { q[k].flatMap { $0.isEmpty ? nil : $0 } }
        if let t = value("type"), !AuditEvent.types.contains(t) { throw BadRequest(message: "unknown event type '\(t)'") }
        func time(_ k: String) throws -> Date? {
            try value(k).map { s in
                guard let d = (try? RFC3339.parse(s)) ?? (try? RFC3339.parse(s + "T00:00:00Z")) else {
                    throw BadRequest(message: "'\(s)' is not a time (RFC 3339 or YYYY-MM-DD)")
                }
                return d
            }
        }
        return EventFilter(since: try time("from"), until: try time("to"), type: value("type"), serialHex: try value("serial").map(serial),
                           ca: value("ca"), profile: value("profile"))
    }

    /// A serial as the store keeps it (lower-case hex, no leading zeros), or a 400.
    static func serial(_ s: String) throws -> String {
        guard s.count <= 64, let bytes = Hex.decode(s) else { throw BadRequest(message: "'\(s)' is not a hexadecimal serial") }
        return Hex.encode(bytes.drop(while: { $0 == 0 }))
    }

    static func filterForm(_ q: [String: String]) -> String {
        func field(_ name: String, _ label: String) -> String {
            "<label>\(label) <input name=\"\(name)\" id=\"filter-\(name)\" value=\"\(esc(q[name] ?? ""))\" size=\"14\"></label>"
        }
        let types = ([""] + AuditEvent.types).map { t in
            "<option value=\"\(t)\"\(q["type"] == t ? " selected" : "")>\(t.isEmpty ? "any type" : t)</option>"
        }.joined()
        return "<form id=\"filter\" method=\"get\" action=\"/events\">" + field("from", "from") + field("to", "to")
            + "<select name=\"type\" id=\"filter-type\">\(types)</select>" + field("ca", "CA") + field("profile", "profile")
            + field("serial", "serial") + "<button id=\"apply\" type=\"submit\">filter</button></form>"
    }

    static func queryString(_ q: [String: String]) -> String {
        q.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { "\(url($0.key))=\(url($0.value))" }.joined(separator: "&amp;")
    }

    static func url(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    // MARK: Tables

    static func eventTable(_ events: [AuditEvent]) -> String {
        var rows = ["<table id=\"events\"><tr><th>#</th><th>time</th><th>type</th><th>CA</th><th>serial</th><th>profile</th><th>subject, rule or action</th></tr>"]
        for e in events {
            let serial = e.serialHex.map { s in
                e.ca.map { "<a href=\"/certificate/\(url($0))/\(url(s))\">\(esc(s))</a>" } ?? esc(s)
            } ?? ""
            rows.append("<tr class=\"event\" data-index=\"\(e.index ?? -1)\" data-serial=\"\(esc(e.serialHex ?? ""))\"><td>\(e.index ?? -1)</td>"
                        + "<td>\(RFC3339.format(e.time))</td><td>\(esc(e.type))</td><td>\(esc(e.ca ?? ""))</td><td>\(serial)</td>"
                        + "<td>\(esc(e.profile ?? ""))</td><td>\(esc(e.detail))</td></tr>")
        }
        return rows.joined(separator: "\n") + "</table>"
    }

    static func certificateFields(_ r: CertificateRecord, _ c: Certificate, now: Date) -> String {
        let fields: [(String, String)] = [
            ("subject", c.subject.description), ("issuer", c.issuer.description), ("serial", c.serialHex), ("CA", r.ca),
            ("profile", r.profile), ("status", r.status(at: now).rawValue + (r.revocationReason.map { " (reason \($0))" } ?? "")),
            ("not before", RFC3339.format(c.notBefore)), ("not after", RFC3339.format(c.notAfter)),
            ("subject alternative names", r.subjectAltNames.joined(separator: ", ")),
            ("SHA-256 fingerprint", Hex.encode(c.sha256Fingerprint)), ("requester", r.requester), ("issued at", RFC3339.format(r.issuedAt)),
        ]
        return "<table id=\"fields\">" + fields.map { "<tr><th>\(esc($0.0))</th><td id=\"field-\(url($0.0.replacingOccurrences(of: " ", with: "-")))\">\(esc($0.1))</td></tr>" }
            .joined(separator: "\n") + "</table>"
    }
}
