import ETrustCA
import ETrustCore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// The validation library on a PKI built through the CA library (TestSupport.makePKI): one
/// Validator, parsed once, reused for many validations with CRL checking.
@Suite("OwnCA: the Validator library")
struct OwnCALibraryTests {
    struct LibraryPKI {
        let home: String
        let root: Certificate, issuing: Certificate
        let good: [Certificate]
        let revoked: Certificate
        let crls: [CertificateRevocationList]
    }

    static func build() throws -> LibraryPKI {
        let (home, authority) = try TestSupport.makePKI()
        var good: [Certificate] = []
        for i in 0..<3 {
            let csr = try TestSupport.csr(subject: "CN=Library Citizen \(i),C=TG")
            good.append(try authority.issue(IssuanceRequest(source: .csr(csr), profile: "citizen-authentication"), ca: "issuing").0)
        }
        let (revoked, record) = try authority.issue(IssuanceRequest(source: .csr(try TestSupport.csr(subject: "CN=Library Revoked,C=TG")),
                                                                    profile: "citizen-authentication"), ca: "issuing")
        try authority.revoke(ca: "issuing", serial: record.serialHex, reason: .keyCompromise)
        let crls = try (authority.publishCRL(ca: "issuing") + authority.publishCRL(ca: "root")).map {
            try CertificateRevocationList(der: $0.der)
        }
        return LibraryPKI(home: home, root: try authority.ca("root").certificate, issuing: try authority.ca("issuing").certificate,
                          good: good, revoked: revoked, crls: crls)
    }

    var crlRequest: ValidationRequest {
        var r = ValidationRequest()
        r.revocation = .crl
        r.assuranceLevels = ["0.4.0.2042.1.1": .substantial]
        return r
    }

    @Test("500 validations against one Validator with CRL checking: all valid, revoked ones always revoked")
    func reuse() throws {
        let pki = try Self.build()
        defer { try? FileManager.default.removeItem(atPath: (pki.home as NSString).deletingLastPathComponent) }
        let validator = try Validator(anchors: [pki.root], intermediates: [pki.issuing], crls: pki.crls)
        #expect(validator.trust.crls.count == 2)
        var valid = 0
        for i in 0..<500 {
            let r = try validator.validate(pki.good[i % pki.good.count], crlRequest)
            if r.valid && r.errorCode == "ok" && r.path.count == 3 && r.policies == ["0.4.0.2042.1.1"] && r.assurance == .substantial
                && r.revocation.prefix(2).allSatisfy({ $0.status == "good" }) {
                valid += 1
            } else {
                Issue.record("validation \(i): \(r.valid) \(r.errorCode) \(r.reason)")
            }
            if i % 50 == 0 {
                let bad = try validator.validate(pki.revoked, crlRequest)
                #expect(bad.valid == false)
                #expect(bad.errorCode == "certificate_revoked")
            }
        }
        #expect(valid == 500)
        // The same answer as a Validator built for one call.
        let fresh = try Validator(anchors: [pki.root], intermediates: [pki.issuing], crls: pki.crls).validate(pki.good[0], crlRequest)
        let reused = try validator.validate(pki.good[0], crlRequest)
        #expect(fresh.valid == reused.valid && fresh.errorCode == reused.errorCode && fresh.policies == reused.policies)
        #expect(fresh.path.map(\.der) == reused.path.map(\.der))
    }

    @Test("one Validator used from several threads at once: every answer is right")
    func concurrentUse() throws {
        let pki = try Self.build()
        defer { try? FileManager.default.removeItem(atPath: (pki.home as NSString).deletingLastPathComponent) }
        let validator = try Validator(anchors: [pki.root], intermediates: [pki.issuing], crls: pki.crls)
        let request = crlRequest
        let certificates = pki.good + [pki.revoked]
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var wrong: [String] = []
        }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let c = certificates[i % certificates.count]
            let expectRevoked = i % certificates.count == certificates.count - 1
            let answer: String
            do {
                let r = try validator.validate(c, request)
                answer = r.valid ? "ok" : r.errorCode
            } catch {
                answer = "threw \(error)"
            }
            let expected = expectRevoked ? "certificate_revoked" : "ok"
            if answer != expected { box.lock.lock(); box.wrong.append("\(i): \(answer)"); box.lock.unlock() }
        }
        #expect(box.wrong.isEmpty, "\(box.wrong.prefix(10))")
    }

    @Test("CRL checking through the library: a missing CRL is unable_to_get_crl; crl-or-ocsp reports it for OCSP")
    func missingCRL() throws {
        let pki = try Self.build()
        defer { try? FileManager.default.removeItem(atPath: (pki.home as NSString).deletingLastPathComponent) }
        let issuingOnly = pki.crls.filter { $0.issuer.der == pki.issuing.subject.der }
        #expect(issuingOnly.count == 1)
        let validator = try Validator(anchors: [pki.root], intermediates: [pki.issuing], crls: issuingOnly)
        let r = try validator.validate(pki.good[0], crlRequest)
        #expect(r.valid == false)
        #expect(r.errorCode == "unable_to_get_crl")
        // Without revocation checking the same validator says valid.
        var none = crlRequest
        none.revocation = .none
        #expect(try validator.validate(pki.good[0], none).valid)
    }

    @Test("Validator refuses a trust anchor that is not a CA; validates at a given time")
    func anchorsAndTime() throws {
        let pki = try Self.build()
        defer { try? FileManager.default.removeItem(atPath: (pki.home as NSString).deletingLastPathComponent) }
        #expect(throws: ETrustError.self) { try Validator(anchors: [pki.good[0]]) }
        let validator = try Validator(anchors: [pki.root], intermediates: [pki.issuing])
        var request = ValidationRequest()
        request.parameters.time = pki.good[0].notAfter.addingTimeInterval(3600)
        let expired = try validator.validate(pki.good[0], request)
        #expect(expired.errorCode == "certificate_has_expired")
        request.parameters.time = pki.good[0].notBefore.addingTimeInterval(7200)
        #expect(try validator.validate(pki.good[0], request).valid)
    }
}
