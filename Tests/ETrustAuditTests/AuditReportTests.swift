import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// `etrust audit report --format text|json|csv|html` (issue #17): the HTML is one self-contained
/// page whose chart data points equal the JSON counts; the CSV's sums equal them too.
@Suite("Audit report formats")
struct AuditReportTests {
    @Test("json counts; html charts (data-value per bar) equal them, no script or external reference; csv rows sum to them; --from/--to bound the period")
    func formats() throws {
        let pki = try TestSupport.makePKI()
        let dir = (pki.home as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = pki.authority
        var serials: [String] = []
        for i in 0..<4 {
            let csr = try TestSupport.csr(subject: "CN=Report \(i),O=etrust tests,C=TG")
            serials.append(try a.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing").0.serialHex)
        }
        try a.revoke(ca: "issuing", serial: serials[0], reason: .keyCompromise)
        try a.revoke(ca: "issuing", serial: serials[1], reason: .superseded)
        _ = try a.publishCRL(ca: "issuing")
        // A refusal: a validity over the profile's maximum.
        let refused = try TestSupport.csr(subject: "CN=Refused,O=etrust tests,C=TG")
        #expect(throws: ETrustError.self) {
            try a.issue(IssuanceRequest(source: .csr(refused), profile: "tls-client", validity: ValidityDuration(seconds: 100 * 365 * 86_400)), ca: "issuing")
        }
        _ = try a.checkpoint()

        let json = try TestSupport.etrust(["audit", "report", "--home", pki.home, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let o = try #require(json.json, "\(json.stdout)")
        let issuedByProfile = try #require(o["issuedByProfile"] as? [String: Int])
        #expect(issuedByProfile["tls-client"] == 4)
        let reasons = try #require(o["revocationsByReason"] as? [String: Int])
        #expect(reasons == ["keyCompromise": 1, "superseded": 1])
        let refusals = try #require(o["refusalsByRule"] as? [String: Int])
        #expect(refusals.values.reduce(0, +) == 1, "\(refusals)")
        #expect(o["verifies"] as? Bool == true)
        let daily = try #require(o["daily"] as? [String: [String: Int]])

        let htmlPath = dir + "/report.html"
        let html = try TestSupport.etrust(["audit", "report", "--home", pki.home, "--format", "html", "--out", htmlPath])
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOfFile: htmlPath, encoding: .utf8)
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href=") && !page.contains("http://") && !page.contains("https://"),
                "the page is self-contained")
        func values(_ chart: String) -> [String: Int] {
            guard let start = page.range(of: "data-chart=\"\(chart)\"") else { return [:] }
            let svg = page[start.upperBound...].prefix { _ in true }
            let end = svg.range(of: "</svg>").map { svg[..<$0.lowerBound] } ?? svg
            var out: [String: Int] = [:]
            for part in end.components(separatedBy: "<rect data-key=\"").dropFirst() {
                let key = String(part.prefix { $0 != "\"" })
                if let v = part.range(of: "data-value=\"").map({ part[$0.upperBound...].prefix { $0 != "\"" } }), let n = Int(v) { out[key] = n }
            }
            return out
        }
        #expect(values("issued-by-profile") == issuedByProfile)
        #expect(values("revocations-by-reason") == reasons)
        #expect(values("refusals-by-rule") == refusals)
        let perDay = values("per-day")
        for (day, counts) in daily {
            #expect(perDay["\(day)/issued"] == counts["issued"] && perDay["\(day)/revoked"] == counts["revoked"]
                    && perDay["\(day)/refused"] == counts["refused"], "\(day): \(perDay) vs \(counts)")
        }
        #expect(page.contains("data-verifies=\"true\""))

        let csv = try TestSupport.etrust(["audit", "report", "--home", pki.home, "--format", "csv"])
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first == "date,ca,profile,issued,refused,revoked,crls")
        let issuedSum = rows.dropFirst().compactMap { Int($0.split(separator: ",", omittingEmptySubsequences: false)[3]) }.reduce(0, +)
        #expect(issuedSum == (o["events"] as? [String: Int])?["issue"], "\(csv.stdout)")

        let future = try TestSupport.etrust(["audit", "report", "--home", pki.home, "--format", "json", "--from", "2099-01-01T00:00:00Z"])
        #expect((future.json?["events"] as? [String: Int])?.isEmpty == true, "\(future.stdout)")
        #expect(try TestSupport.etrust(["audit", "report", "--home", pki.home, "--format", "pdf"]).status == 2)
    }
}
