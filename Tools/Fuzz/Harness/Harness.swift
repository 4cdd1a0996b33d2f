import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustValidation
import Foundation

/// The harnesses: each feeds the bytes to the public (or `package`) entry point that parses them
/// when they come from outside, and touches what the parse returns so lazily decoded fields are
/// decoded too.
enum Harness {
    static func certificate(_ bytes: [UInt8]) {
        guard let c = try? Certificate(bytes: bytes) else { return }
        _ = (c.subject.description, c.issuer.description, c.serialHex, c.extensions.count, c.pem)
        _ = try? c.publicKey.subjectPublicKeyBits
        _ = try? c.openSSLCertificate
    }

    static func csr(_ bytes: [UInt8]) {
        guard let r = try? CertificateSigningRequest(bytes: bytes) else { return }
        _ = (r.subject.description, r.pem, r.requestedExtensions.count)
        _ = try? r.requestedSubjectAltNames.count
    }

    static func crl(_ bytes: [UInt8]) {
        guard let l = try? CertificateRevocationList(bytes: bytes) else { return }
        _ = (l.issuer.description, l.entries.count, l.number)
        _ = l.verify(issuer: Fixture.shared.issuing, at: Fixture.shared.now)
    }

    static func distinguishedName(_ bytes: [UInt8]) {
        _ = try? DistinguishedName(parsing: String(decoding: bytes, as: UTF8.self)).description
        _ = try? DistinguishedName(der: bytes).description
    }

    static func policyYAML(_ bytes: [UInt8]) {
        _ = try? ProfileLoader.load(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
    }

    static func cms(_ bytes: [UInt8]) {
        _ = try? CMSSignature.verify(bytes, content: nil)
        _ = try? CMSSignature.verify(bytes, content: Array("etrust fuzz content\n".utf8))
    }

    static func pkcs12(_ bytes: [UInt8]) {
        _ = try? PKCS12.open(bytes, password: Array("fuzz-password".utf8))
    }

    static func trustList(_ bytes: [UInt8]) {
        _ = try? TrustList.decode(bytes, what: "fuzz")
        _ = try? SignedTrustList.verify(bytes, signerCertificate: Fixture.shared.issuing, at: Fixture.shared.now, what: "fuzz")
    }

    static func ocspResponse(_ bytes: [UInt8]) {
        let f = Fixture.shared
        _ = try? OCSPClient.check(response: bytes, certificate: f.good, issuer: f.issuing, trust: f.trust, request: f.request, at: f.now)
    }

    /// The bundle reader takes a path: the bytes go to one file in this process's temporary directory.
    static func auditBundle(_ bytes: [UInt8]) {
        FileManager.default.createFile(atPath: Scratch.bundle, contents: Data(bytes))
        _ = try? AuditBundle.verify(path: Scratch.bundle)
    }
}

enum Scratch {
    static let directory: String = {
        var template = Array((NSTemporaryDirectory() + "/etrust-fuzz-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        return String(cString: p)
    }()
    static let bundle = directory + "/bundle"
}
