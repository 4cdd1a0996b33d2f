import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// The console's pages. Every value shown is escaped; every filter reaches the store as a bound
/// parameter after validation here.
extension ConsoleApp {
    func overview(_ r: ConsoleRequest) throws -> ConsoleResponse {
        let report = try AuditReport.build(authority, from: nil, to: nil, now: authority.clock.now())
        return ConsolePage.page("Overview", report.htmlBody)
    }

    func events(_ r: ConsoleRequest) throws -> ConsoleResponse {
        let filter = try ConsolePage.filter(r.query)
        let before = try r.query["before"].flatMap { $0.isEmpty ? nil : $0 }.map { s -> Int in
            guard let n = Int(s), n >= 0 else { throw ConsolePage.BadRequest(message: "'before' is not a log index") }
            return n
        }
        let started = Date()
        let rows = try authority.auditLog.page(matching: filter, before: before, limit: ConsoleApp.pageSize + 1)
        let elapsed = Date().timeIntervalSince(started)
        let shown = Array(rows.prefix(ConsoleApp.pageSize))
        var body = [ConsolePage.filterForm(r.query),
                    "<p id=\"query-time\" data-ms=\"\(Int(elapsed * 1000))\">\(shown.count) event(s) shown, newest first "
                        + "(query \(Int(elapsed * 1000)) ms).</p>",
                    ConsolePage.eventTable(shown)]
        if rows.count > ConsoleApp.pageSize, let last = shown.last?.index {
            var q = r.query
            q["before"] = String(last)
            body.append("<p><a id=\"older\" href=\"/events?\(ConsolePage.queryString(q))\">older events</a></p>")
        }
        return ConsolePage.page("Events", body.joined(separator: "\n"))
    }

    func certificate(ca: String, serial text: String) throws -> ConsoleResponse {
        let pem = text.hasSuffix(".pem")
        let serial = try ConsolePage.serial(pem ? String(text.dropLast(4)) : text)
        guard let record = try authority.store.certificate(ca: ca, serialHex: serial) else {
            return ConsolePage.error(404, "no certificate \(serial) of CA \(ca)")
        }
        let certificate = try Certificate(der: record.der)
        if pem {
            return ConsoleResponse(status: 200, contentType: "application/x-pem-file", body: certificate.pem,
                                   headers: [("Content-Disposition", "attachment; filename=\"\(ca)-\(serial).pem\"")])
        }
        let events = try authority.auditLog.page(matching: EventFilter(serialHex: serial), before: nil, limit: 200)
        let body = [ConsolePage.certificateFields(record, certificate, now: authority.clock.now()),
                    "<p><a id=\"pem\" href=\"/certificate/\(ConsolePage.url(ca))/\(serial).pem\">download PEM</a></p>",
                    "<h2>Inclusion proof of its issuance</h2>", proofSection(serial: serial),
                    "<h2>Its events</h2>", ConsolePage.eventTable(events.filter { $0.ca == ca }),
                    "<h2>Decoded</h2><pre>\(esc((try? certificate.text) ?? ""))</pre>"]
        return ConsolePage.page("Certificate \(serial)", body.joined(separator: "\n"))
    }

    /// The data the browser checks (entry, proof, signed checkpoint) and the place it says what it found.
    private func proofSection(serial: String) -> String {
        guard let proved = try? authority.audit.proveIssuance(serial: serial) else {
            return "<p id=\"proof-result\" class=\"bad\">no inclusion proof: the issuance is not covered by a signed checkpoint</p>"
        }
        let (entry, proof, note) = (proved.entry, proved.proof, proved.note)
        let data: [String: Any] = ["serial": serial, "index": proof.index, "size": proof.size, "entry": entry.payload, "note": note,
                                   "proof": proof.hashes.map { Data($0).base64EncodedString() }]
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return """
        <p>Entry \(proof.index) of the checkpoint at size \(proof.size). Your browser recomputes the leaf hash from the entry,
        the root from the proof (RFC 6962, SHA-256) and checks the checkpoint's Ed25519 signature with the audit key you pinned:
        it does not take the server's word.</p>
        <p>Pinned audit key: <code id="pinned-key">(none)</code></p>
        <form id="pin-form"><input id="audit-key" size="90" placeholder="the verifier key you keep (NAME+KEYID+BASE64)">
        <button id="pin-key" type="submit">pin this key</button></form>
        <p id="proof-result" class="pending">verifying in the browser…</p>
        <script type="application/json" id="proof-data">\(json.replacingOccurrences(of: "<", with: "\\u003c"))</script>
        <script src="/verify.js"></script>
        """
    }

    func cas() throws -> ConsoleResponse {
        let tree = try CATree.build(authority, at: authority.clock.now())
        var rows = ["<table id=\"ca-table\"><tr><th>CA</th><th>subject</th><th>profile</th><th>key custody</th><th>valid from</th><th>valid until</th><th>status</th></tr>"]
        func walk(_ n: CATree.Node) {
            rows.append("<tr><td>\(esc(n.name))</td><td>\(esc(n.subject))</td><td>\(esc(n.profile))</td><td>\(esc(n.custody))</td>"
                        + "<td>\(RFC3339.format(n.notBefore))</td><td>\(RFC3339.format(n.notAfter))</td><td>\(esc(n.status.rawValue))</td></tr>")
            n.children.forEach(walk)
        }
        tree.roots.forEach(walk)
        return ConsolePage.page("CAs and the hierarchy", rows.joined(separator: "\n") + "</table>\n<div id=\"tree\">\(tree.svg)</div>")
    }

    func crls() throws -> ConsoleResponse {
        var rows = ["<table id=\"crl-table\"><tr><th>CA</th><th>number</th><th>kind</th><th>this update</th><th>next update</th><th>entries</th><th>SHA-256</th></tr>"]
        for ca in try authority.caRecords() {
            guard let c = try authority.store.latestCRL(ca: ca.name, kinds: [.full, .shard, .delta], publishedOnly: true) else { continue }
            rows.append("<tr><td>\(esc(c.ca))</td><td>\(c.number)</td><td>\(c.kind.rawValue)</td><td>\(RFC3339.format(c.thisUpdate))</td>"
                        + "<td>\(RFC3339.format(c.nextUpdate))</td><td>\(c.entries)</td><td><code>\(esc(c.sha256))</code></td></tr>")
        }
        let history = try authority.auditLog.page(matching: EventFilter(type: "crl"), before: nil, limit: 100)
        return ConsolePage.page("CRLs", "<h2>Newest CRL of each CA</h2>" + rows.joined(separator: "\n") + "</table>"
                                + "<h2>CRL events (newest 100)</h2>" + ConsolePage.eventTable(history))
    }
}
