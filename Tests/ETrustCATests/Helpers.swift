import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// A throwaway home with a root and an issuing CA (TestSupport.makePKI) and paths into it; the
/// folder holding it is removed when the value goes away.
final class PKI {
    let home: String
    let authority: Authority
    /// makePKI's temporary folder (the home is inside it); scratch files go here too.
    var folder: String { (home as NSString).deletingLastPathComponent }

    static let passphrase = "test-passphrase"

    init(clock: ETrustClock = SystemClock(), batchCommitSize: Int? = nil) throws {
        let made = try TestSupport.makePKI(clock: clock)
        home = made.home
        if let batchCommitSize {
            let configPath = made.home + "/etrust.yaml"
            let text = try String(contentsOfFile: configPath, encoding: .utf8)
            #expect(text.contains("batchCommitSize: 500"))
            try text.replacingOccurrences(of: "batchCommitSize: 500", with: "batchCommitSize: \(batchCommitSize)")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            authority = try Authority(home: try Home.open(made.home), clock: clock,
                                      passphrase: { Array(PKI.passphrase.utf8) })
            #expect(authority.home.config.batchCommitSize == batchCommitSize)
        } else {
            authority = made.authority
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    var certsDirectory: String { home + "/certs" }
    var keysDirectory: String { home + "/keys" }
    var rootPEM: String { certsDirectory + "/root.pem" }
    var issuingPEM: String { certsDirectory + "/issuing.pem" }

    func caCertificate(_ name: String) throws -> Certificate {
        try #require(try authority.store.ca(named: name)).certificate
    }

    func keyFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: keysDirectory).sorted()
    }

    /// Writes `certificate` as PEM into a fresh folder and returns its path.
    func write(_ certificate: Certificate, name: String = "leaf.pem") throws -> String {
        let dir = folder + "/out-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try certificate.pem.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `openssl verify -x509_strict -CAfile root.pem -untrusted issuing.pem LEAF` (the independent judge).
    func opensslVerify(_ leaf: Certificate, purpose: String? = nil, at: Date? = nil) throws -> TestSupport.Result {
        let path = try write(leaf)
        var args = ["verify", "-x509_strict", "-CAfile", rootPEM, "-untrusted", issuingPEM]
        if let purpose { args += ["-purpose", purpose] }
        if let at { args += ["-attime", String(Int(at.timeIntervalSince1970))] }
        return try TestSupport.openssl(args + [path])
    }

    /// SHA-256 of the certificate's DER as OpenSSL computes it, lower-case hex without colons.
    func opensslFingerprint(_ certificate: Certificate) throws -> String {
        let r = try TestSupport.openssl(["x509", "-in", try write(certificate), "-noout", "-fingerprint", "-sha256"])
        let value = r.stdout.split(separator: "=").last.map(String.init) ?? ""
        return value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
    }

    /// `openssl x509 -text` of the certificate.
    func opensslText(_ certificate: Certificate) throws -> String {
        try TestSupport.openssl(["x509", "-in", try write(certificate), "-noout", "-text"]).stdout
    }

    func events(ofType type: String) throws -> [AuditEvent] {
        try authority.auditLog.events().filter { $0.type == type }
    }

    func allCertificateRecords() throws -> [CertificateRecord] {
        try authority.store.certificates(matching: CertificateFilter(), at: Date())
    }
}

enum Fixtures {
    static func utc(_ text: String) -> Date { try! RFC3339.parse(text) }

    static func dn(_ text: String) throws -> DistinguishedName { try DistinguishedName(parsing: text) }

    static var emptyDN: DistinguishedName { try! DistinguishedName(der: [0x30, 0x00]) }

    static func request(_ profile: String, subject: String, csrSubject: String? = nil, sans: [String]? = nil,
                        csrSANs: [String] = [], validity: String? = nil, key: KeyAlgorithm = .ecP256) throws -> IssuanceRequest {
        var extensions: [Extension] = []
        if !csrSANs.isEmpty { extensions.append(try .subjectAltName(try csrSANs.map { try GeneralName(parsing: $0) }, critical: false)) }
        let csr = try TestSupport.csr(subject: csrSubject ?? subject, key: key, extensions: extensions)
        return IssuanceRequest(source: .csr(csr), profile: profile, subject: try dn(subject),
                               subjectAltNames: try sans.map { try $0.map { try GeneralName(parsing: $0) } },
                               validity: try validity.map { try ValidityDuration(parsing: $0) })
    }
}
