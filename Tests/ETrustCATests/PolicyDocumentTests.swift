import ETrustCA
import ETrustCore
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

/// `etrust policy document`: the RFC 3647 outline, filled from the loaded profiles.
@Suite struct PolicyDocumentTests {
    /// The document of a home with the shipped profiles, and those profiles as loaded.
    static func document() throws -> (PolicyDocument, [Profile], PKI) {
        let pki = try PKI()
        let profiles = try pki.authority.home.loadProfiles()
        let shipped = ProfileLoader.loadDirectory(TestSupport.packageRoot + "/Policies")
        #expect(shipped.1.isEmpty && Set(shipped.0.keys) == Set(profiles.keys), "the home holds the shipped profiles")
        let doc = PolicyDocument(config: pki.authority.home.config, profiles: profiles, cas: try pki.authority.caRecords())
        return (doc, profiles.values.sorted { $0.name < $1.name }, pki)
    }

    static func lines(_ doc: PolicyDocument, _ number: String) -> [String] {
        doc.sections.first { $0.number == number }?.lines ?? []
    }

    @Test func everyRFC3647HeadingIsThereInOrder() throws {
        let (doc, _, _) = try Self.document()
        let md = doc.markdown()
        #expect(RFC3647Outline.headings.count == 270, "RFC 3647 section 6 has 270 headings, 1 to 9.17")
        // Sections 1 to 9, each with its subsections, in the document's order.
        #expect(Set(RFC3647Outline.headings.filter { !$0.number.contains(".") }.map(\.number)) == Set((1...9).map(String.init)))
        for key in ["4.9.16", "6.2.11", "7.3.2", "9.16.5", "9.17", "5.4.8", "3.2.6"] {
            #expect(RFC3647Outline.headings.contains { $0.number == key }, "\(key) is missing from the outline")
        }
        var position = md.startIndex
        for h in RFC3647Outline.headings {
            let depth = h.number.split(separator: ".").count
            let line = "\n" + String(repeating: "#", count: min(depth + 1, 6)) + " \(h.number) \(h.title)\n"
            let found = try #require(md.range(of: line, range: position..<md.endIndex), "heading '\(line)' missing or out of order")
            position = found.upperBound
        }
        // Unfilled leaves are marked for the authority.
        #expect(Self.lines(doc, "9.1.1").isEmpty && md.contains("## 9 OTHER BUSINESS AND LEGAL MATTERS"))
        #expect(md.components(separatedBy: PolicyDocument.toWrite).count > 100)
    }

    @Test func profileValuesAreFilledIn() throws {
        let (doc, profiles, pki) = try Self.document()
        let validity = Self.lines(doc, "6.3.2"), keys = Self.lines(doc, "6.1.5"), certProfiles = Self.lines(doc, "7.1.2")
        let reasons = Self.lines(doc, "4.9.1"), crl = Self.lines(doc, "4.9.7"), oids = Self.lines(doc, "7.1.6").joined(separator: "\n")
        for p in profiles {
            let v = validity.first { $0.hasPrefix("- \(p.name): ") }
            #expect(v?.contains("default \(p.defaultValidity.text), at most \(p.maxValidity.text)") == true, "6.3.2 \(p.name): \(v ?? "absent")")
            let k = try #require(keys.first { $0.hasPrefix("- \(p.name): ") }, "6.1.5 lacks \(p.name)")
            for rule in p.keyRules {
                if rule.family == "rsa" { #expect(k.contains("RSA \(rule.minBits)-\(rule.maxBits)"), "\(k)") }
                for curve in rule.curves { #expect(k.contains(curve), "\(k)") }
            }
            let c = try #require(certProfiles.first { $0.hasPrefix("- \(p.name): ") }, "7.1.2 lacks \(p.name)")
            #expect(c.contains("cA \(p.isCA)"))
            for bit in p.keyUsage { #expect(c.contains(bit.name), "7.1.2 \(p.name) lacks \(bit.name)") }
            for policy in p.policies { #expect(oids.contains(policy.info.oid) && oids.contains(p.name)) }
            if p.biometrics != nil { #expect(c.contains("biometricInfo"), "\(c)") }
            let r = try #require(reasons.first { $0.hasPrefix("- \(p.name): ") })
            let allowed = p.revocationReasons ?? Set(RevocationReason.allCases)
            for reason in RevocationReason.allCases {
                #expect(r.contains(reason.name) == allowed.contains(reason) || (reason == .unspecified && r.contains("unspecified")), "4.9.1 \(p.name) \(reason.name): \(r)")
            }
            if p.isCA, let settings = p.crl {
                #expect(crl.contains { $0.contains(p.name) && $0.contains("thisUpdate + \(settings.period.text)") }, "4.9.7 \(p.name): \(crl)")
            }
        }
        // Custody and audit come from the home.
        #expect(Self.lines(doc, "6.2.1").contains { $0.contains("root") && $0.contains("\(pki.authority.home.config.keyIterations) iterations") }, "\(Self.lines(doc, "6.2.1"))")
        #expect(Self.lines(doc, "5.4.4").first?.contains("etrust.local") == true || Self.lines(doc, "5.4.4").first?.contains("origin") == true)
        #expect(Self.lines(doc, "1.3.1").count == 2)
    }

    @Test func htmlHasTheSameSectionsEscaped() throws {
        let (doc, _, _) = try Self.document()
        let html = doc.html()
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        for h in RFC3647Outline.headings {
            #expect(html.contains("id=\"s\(h.number)\">\(h.number) \(h.title.replacingOccurrences(of: "'", with: "&apos;"))<"), "\(h.number)")
        }
        #expect(!html.contains("<script"))
        #expect(html.components(separatedBy: "<ul>").count == html.components(separatedBy: "</ul>").count)
    }
}
