import ETrustCore
import Foundation

/// The auditor's report as one self-contained HTML page: inline CSS and SVG charts, no script,
/// no external reference. Each chart is an `<svg data-chart=NAME>` whose bars carry
/// `data-key` and `data-value`, so a reader (or a test) can check them against the JSON report.
extension AuditReport {
    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>etrust audit report</title>
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <style>
        \(AuditReport.css)
        </style></head><body>
        <h1>etrust audit report</h1>
        \(htmlBody)
        </body></html>

        """
    }

    /// The page's style sheet (the console uses it too).
    public static let css = """
        body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; max-width: 70em; }
        table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #bbb; padding: 0.25em 0.6em; font-size: 0.9em; }
        th { background: #eee; } .ok { color: #1e7d32; font-weight: bold; } .bad { color: #b00020; font-weight: bold; }
        svg.chart { display: block; margin: 0.5em 0 1.5em; } .legend span { margin-right: 1em; }
        """

    /// The report without its page: period, integrity, charts and tables (the console's overview).
    public var htmlBody: String {
        let days = daily.keys.sorted()
        var body: [String] = []
        body.append("<p>Period: \(esc(from.map(RFC3339.format) ?? "beginning")) to \(esc(to.map(RFC3339.format) ?? "now")). Generated \(esc(RFC3339.format(generatedAt))).</p>")
        body.append(verificationBlock)
        body.append("<h2>Issued, refused and revoked per day</h2>")
        body.append(AuditReport.groupedBars(name: "per-day", keys: days, series: [
            ("issued", "#2f6fb0", days.map { daily[$0]?.issued ?? 0 }),
            ("refused", "#c0392b", days.map { daily[$0]?.refused ?? 0 }),
            ("revoked", "#e69b00", days.map { daily[$0]?.revoked ?? 0 }),
        ]))
        body.append("<h2>Issued by CA</h2>" + AuditReport.bars(name: "issued-by-ca", issuedByCA))
        body.append("<h2>Issued by profile</h2>" + AuditReport.bars(name: "issued-by-profile", issuedByProfile))
        body.append("<h2>Refusals by rule</h2>" + AuditReport.bars(name: "refusals-by-rule", refusalsByRule))
        body.append("<h2>Revocations by reason</h2>" + AuditReport.bars(name: "revocations-by-reason", revocationsByReason))
        body.append("<h2>CRLs published per day</h2>" + AuditReport.bars(name: "crls-per-day",
                                                                         Dictionary(uniqueKeysWithValues: days.map { ($0, daily[$0]?.crls ?? 0) }),
                                                                         sorted: false))
        body.append(crlTable)
        body.append(caTable)
        return body.joined(separator: "\n")
    }

    private var verificationBlock: String {
        let v = verification
        let status = v.ok ? "<span class=\"ok\">the log verifies\(v.pending > 0 ? " up to its newest signed checkpoint" : "")</span>" : "<span class=\"bad\">the log does NOT verify: \(esc(v.failure ?? "?"))</span>"
        let checkpoint = v.checkpointSize.map { "checked against the signed checkpoint at size \($0), root \(esc(v.checkpointRoot ?? ""))" }
            ?? "no signed checkpoint"
        let pending = v.pending > 0
            ? " The \(v.pending) newest entries (this console's visits among them) await the next signed checkpoint, which the CA host's next command signs."
            : ""
        return "<h2>Integrity</h2><p id=\"verification\" data-verifies=\"\(v.ok)\" data-pending=\"\(v.pending)\">\(status): \(v.entries) entries, "
            + "\(v.checkpoints) checkpoints; \(checkpoint).\(pending)</p>"
    }

    private var crlTable: String {
        var rows = ["<h2>CRLs</h2><table id=\"crls\"><tr><th>time</th><th>CA</th><th>number</th><th>kind</th><th>entries</th></tr>"]
        for c in crls {
            rows.append("<tr><td>\(esc(RFC3339.format(c.time)))</td><td>\(esc(c.ca))</td><td>\(esc(c.number))</td><td>\(esc(c.kind))</td><td>\(c.entries)</td></tr>")
        }
        return rows.joined(separator: "\n") + "</table>"
    }

    private var caTable: String {
        var rows = ["<h2>Certification authorities</h2><table id=\"cas\"><tr><th>CA</th><th>subject</th><th>profile</th><th>key custody</th><th>valid from</th><th>valid until</th><th>status</th></tr>"]
        for c in cas {
            rows.append("<tr><td>\(esc(c.name))</td><td>\(esc(c.subject))</td><td>\(esc(c.profile))</td><td>\(esc(c.custody))</td>"
                        + "<td>\(esc(RFC3339.format(c.notBefore)))</td><td>\(esc(RFC3339.format(c.notAfter)))</td><td>\(esc(c.status))</td></tr>")
        }
        return rows.joined(separator: "\n") + "</table>"
    }

    // MARK: Charts

    /// Horizontal bars, one per key.
    static func bars(name: String, _ data: [String: Int], sorted: Bool = true) -> String {
        let keys = sorted ? data.keys.sorted { (data[$0]!, $1) > (data[$1]!, $0) } : data.keys.sorted()
        guard !keys.isEmpty else { return "<svg class=\"chart\" data-chart=\"\(name)\" width=\"300\" height=\"24\"><text x=\"0\" y=\"16\">(none)</text></svg>" }
        let maxValue = max(1, data.values.max() ?? 1)
        let rowHeight = 20, labelWidth = 260, barWidth = 360
        var out = ["<svg class=\"chart\" data-chart=\"\(name)\" width=\"\(labelWidth + barWidth + 60)\" height=\"\(keys.count * rowHeight + 8)\" font-size=\"11\">"]
        for (i, k) in keys.enumerated() {
            let v = data[k] ?? 0, y = i * rowHeight + 4
            let w = v == 0 ? 0 : max(1, v * barWidth / maxValue)
            out.append("<text x=\"\(labelWidth - 6)\" y=\"\(y + 13)\" text-anchor=\"end\">\(esc(String(k.prefix(44))))</text>")
            out.append("<rect data-key=\"\(esc(k))\" data-value=\"\(v)\" x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(w)\" height=\"\(rowHeight - 6)\" fill=\"#2f6fb0\"/>")
            out.append("<text x=\"\(labelWidth + w + 4)\" y=\"\(y + 13)\">\(v)</text>")
        }
        return (out + ["</svg>"]).joined(separator: "\n")
    }

    /// Vertical grouped bars over `keys` (days), one colour per series, with a legend.
    static func groupedBars(name: String, keys: [String], series: [(String, String, [Int])]) -> String {
        guard !keys.isEmpty else { return bars(name: name, [:]) }
        let maxValue = max(1, series.flatMap(\.2).max() ?? 1)
        let group = series.count * 10 + 8, height = 160, top = 10, left = 40
        let width = left + keys.count * group + 20
        var out = ["<div class=\"legend\">" + series.map { "<span style=\"color:\($0.1)\">■ \(esc($0.0))</span>" }.joined() + "</div>",
                   "<svg class=\"chart\" data-chart=\"\(name)\" width=\"\(width)\" height=\"\(height + 60)\" font-size=\"10\">",
                   "<line x1=\"\(left)\" y1=\"\(top + height)\" x2=\"\(width)\" y2=\"\(top + height)\" stroke=\"#888\"/>",
                   "<text x=\"\(left - 4)\" y=\"\(top + 8)\" text-anchor=\"end\">\(maxValue)</text>"]
        for (i, day) in keys.enumerated() {
            let x0 = left + i * group + 4
            for (j, s) in series.enumerated() {
                let v = s.2[i], h = v * height / maxValue
                out.append("<rect data-key=\"\(esc(day))/\(esc(s.0))\" data-value=\"\(v)\" x=\"\(x0 + j * 10)\" y=\"\(top + height - h)\" width=\"9\" height=\"\(h)\" fill=\"\(s.1)\"/>")
            }
            out.append("<text x=\"\(x0)\" y=\"\(top + height + 12)\" transform=\"rotate(45 \(x0) \(top + height + 12))\">\(esc(day))</text>")
        }
        return (out + ["</svg>"]).joined(separator: "\n")
    }
}

/// HTML/XML text escaping.
public func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
