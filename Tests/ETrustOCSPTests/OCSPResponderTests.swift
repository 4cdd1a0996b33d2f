import ETrustCore
import ETrustOCSP
import ETrustValidation
import Foundation
import Testing

/// The responder side (parse a request, sign answers) against the client side and the openssl CLI.
@Suite("OCSP responses")
struct OCSPResponderTests {
    struct Fixture {
        let caKey: PrivateKey
        let ca: Certificate
        let leaf: Certificate

        init() throws {
            caKey = try PrivateKey.generate(.ecP256)
            let caName = try DistinguishedName(parsing: "CN=OCSP Test CA,O=etrust,C=TG")
            let caPub = try caKey.publicKey
            let now = Date()
            ca = try TBSCertificate(serial: [0x41, 1, 2, 3, 4, 5, 6, 7, 8], signatureAlgorithm: .ecdsaWithSHA256, issuer: caName,
                                    notBefore: now.addingTimeInterval(-3600), notAfter: now.addingTimeInterval(86_400 * 30), subject: caName,
                                    subjectPublicKeyInfo: caPub.subjectPublicKeyInfo,
                                    extensions: [.basicConstraints(ca: true, pathLength: 0), .keyUsage([.keyCertSign, .cRLSign, .digitalSignature]),
                                                 .subjectKeyIdentifier(caPub.keyIdentifier), .authorityKeyIdentifier(caPub.keyIdentifier)])
                .sign(with: try Signer(key: caKey))
            let leafKey = try PrivateKey.generate(.ecP256).publicKey
            leaf = try TBSCertificate(serial: [0x42, 9, 9, 9, 9, 9, 9, 9, 9], signatureAlgorithm: .ecdsaWithSHA256, issuer: caName,
                                      notBefore: now.addingTimeInterval(-3600), notAfter: now.addingTimeInterval(86_400), subject: try DistinguishedName(parsing: "CN=leaf"),
                                      subjectPublicKeyInfo: leafKey.subjectPublicKeyInfo,
                                      extensions: [.basicConstraints(ca: false, pathLength: nil), .keyUsage([.digitalSignature]),
                                                   .subjectKeyIdentifier(leafKey.keyIdentifier), .authorityKeyIdentifier(caPub.keyIdentifier)])
                .sign(with: try Signer(key: caKey))
        }
    }

    @Test("a request parses, names the issuer by its hashes, and a signed answer passes the client's checks",
          arguments: [OCSPCertificateStatus.good, .revoked(time: Date(timeIntervalSince1970: 1_790_000_000), reason: .keyCompromise), .unknown])
    func roundTrip(_ status: OCSPCertificateStatus) throws {
        let f = try Fixture()
        let request = try OCSPClient.request(for: f.leaf, issuer: f.ca, nonce: true)
        let parsed = try #require(OCSPResponder.parse(request.der))
        #expect(parsed.hasNonce)
        #expect(parsed.queries.count == 1)
        let q = parsed.queries[0]
        let hashes = try OCSPResponder.issuerHashes(of: f.ca)
        #expect(q.hashAlgorithm == "1.3.14.3.2.26")
        #expect(q.issuerNameHash == hashes.sha1.name)
        #expect(q.issuerKeyHash == hashes.sha1.key)
        #expect(q.serialHex == f.leaf.serialHex)
        let response = try OCSPResponder.sign(answers: [.init(query: q, status: status)], signerCertificate: f.ca, signer: f.caKey,
                                              includeCertificate: false, now: Date(), validity: 3600, nonceFrom: parsed)
        let trust = try TrustStore(anchors: [f.ca])
        let check = try OCSPClient.check(response: response, certificate: f.leaf, issuer: f.ca, trust: trust, request: request, at: Date())
        #expect(check.status == status)

        // openssl ocsp reads and verifies the same response.
        let dir = NSTemporaryDirectory() + "ocsp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(response).write(to: URL(fileURLWithPath: dir + "/resp.der"))
        try f.ca.pem.write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        try f.leaf.pem.write(toFile: dir + "/leaf.pem", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["ocsp", "-no_nonce", "-respin", dir + "/resp.der", "-CAfile", dir + "/ca.pem", "-issuer", dir + "/ca.pem", "-cert", dir + "/leaf.pem"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("Response verify OK"), "\(text)")
        switch status {
        case .good: #expect(text.contains(": good"), "\(text)")
        case .revoked: #expect(text.contains(": revoked") && text.contains("keyCompromise"), "\(text)")
        case .unknown: #expect(text.contains(": unknown"), "\(text)")
        }
    }

    @Test("garbage, trailing bytes and an empty body are not requests; error responses are the fixed DER")
    func malformed() throws {
        let f = try Fixture()
        let request = try OCSPClient.request(for: f.leaf, issuer: f.ca, nonce: false)
        #expect(OCSPResponder.parse([]) == nil)
        #expect(OCSPResponder.parse([0x30, 0x03, 0x02, 0x01, 0x01]) == nil)
        #expect(OCSPResponder.parse(request.der + [0x00]) == nil)
        #expect(OCSPResponder.parse(Array(request.der.dropLast())) == nil)
        let parsed = try #require(OCSPResponder.parse(request.der))
        #expect(!parsed.hasNonce)
        #expect(OCSPResponder.ErrorStatus.malformedRequest.der == [0x30, 0x03, 0x0a, 0x01, 0x01])
        #expect(OCSPResponder.ErrorStatus.unauthorized.der == [0x30, 0x03, 0x0a, 0x01, 0x06])
    }
}
