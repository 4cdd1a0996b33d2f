import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// The time-stamping authority (issue #16): `etrust tsa provision` issues the unit, etrust-ocspd
/// serves POST /tsa, `openssl ts` asks and judges, every token is recorded.
@Suite("Time-stamping authority: tsa provision and POST /tsa")
struct TimeStampAuthorityTests {
    /// A fixture whose CA `issuing` has a time-stamping unit (provisioned through the library,
    /// its key under the signer passphrase).
    static func fixture() throws -> (OT.Fixture, TSASignerRecord) {
        let f = try OT.fixture(revoke: false)
        let unit = try TSASigning(authority: f.authority).provision(ca: "issuing", signerPassphrase: Array(OT.passphrase.utf8))
        return (f, unit)
    }

    /// A server with /tsa over the fixture's home (tokens recorded in a store of its own).
    static func server(_ f: OT.Fixture) throws -> (server: OCSPServer, port: Int) {
        try OT.startServer(f, before: { server, authority in
            server.timeStamps = try TimeStampService(authority: authority, ca: nil, store: try authority.home.openStore())
        })
    }

    @Test("etrust tsa provision: profile timestamping, critical EKU timeStamping only, the profile's policy; key 0600 under the signer passphrase; recorded and audited; pkilint clean")
    func provision() throws {
        let f = try OT.fixture(revoke: false, provision: false)
        defer { OT.cleanUp(f) }
        let noSecret = try TestSupport.etrust(["tsa", "provision", "--home", f.home, "--ca", "issuing"])
        #expect(noSecret.status == 2, "no signer passphrase: \(noSecret.stdout) \(noSecret.stderr)")
        let r = try TestSupport.etrust(["tsa", "provision", "--home", f.home, "--ca", "issuing", "--json"],
                                       environment: ["ETRUST_SIGNER_PASSPHRASE": "tsa-signer-secret"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let json = try #require(r.json, "\(r.stdout)")
        #expect(json["policy"] as? String == "0.4.0.2023.1.1")
        let pem = try #require(json["certificate"] as? String)
        let cert = try Certificate(bytes: Array(pem.utf8))
        let eku = try #require(cert.extension(ExtensionOID.extendedKeyUsage), "no EKU")
        #expect(eku.critical)
        let text = try TestSupport.openssl(["x509", "-noout", "-text", "-in", try write(pem, f.work + "/tsa.pem")])
        #expect(text.stdout.contains("X509v3 Extended Key Usage: critical") && text.stdout.contains("Time Stamping"), "\(text.stdout)")
        #expect(!text.stdout.contains("TLS Web") && !text.stdout.contains("OCSP Signing"), "\(text.stdout)")

        // Recorded, with its key file encrypted (0600) under the signer passphrase, not the CA's.
        let a = try OT.authority(f.home)
        let record = try #require(try a.store.currentTSASigner(ca: "issuing"))
        #expect(record.certificate == cert)
        #expect(record.keyReference.hasPrefix("file:keys/issuing-tsa-"))
        let keyPath = f.home + "/" + String(record.keyReference.dropFirst(5))
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8).contains("ENCRYPTED PRIVATE KEY"))
        #expect(throws: (any Error).self) { _ = try PrivateKey.load(fromFile: keyPath, passphrase: Array(OT.passphrase.utf8)) }
        #expect(try PrivateKey.load(fromFile: keyPath, passphrase: Array("tsa-signer-secret".utf8)).subjectPublicKeyInfo == cert.subjectPublicKeyInfo)
        let events = try a.auditLog.events().filter { $0.type == "tsa-signer" }
        #expect(events.count == 1 && events.first?.serialHex == cert.serialHex, "\(events)")

        // pkilint (RFC 5280): no ERROR or FATAL finding.
        let lint = try OT.venvTool("lint_pkix_cert")
        let l = try TestSupport.run(lint, ["lint", "-s", "ERROR", f.work + "/tsa.pem"])
        #expect(!(l.stdout + l.stderr).contains("(ERROR)") && !(l.stdout + l.stderr).contains("(FATAL)"), "\(l.stdout)\(l.stderr)")
        #expect(l.status == 0, "\(l.stdout)\(l.stderr)")
    }

    func write(_ text: String, _ path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("POST /tsa: openssl ts -query answered; openssl ts -verify accepts the tokens (-data, -digest, -queryfile with its nonce); the profile's policy, accuracy, ESSCertIDv2; certReq honoured")
    func opensslClients() throws {
        let (f, _) = try Self.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try Self.server(f)
        defer { server.shutdown(grace: 1) }
        let data = f.work + "/contract.txt"
        try "a contract between two citizens".write(toFile: data, atomically: true, encoding: .utf8)
        for (name, certReq) in [("with-cert", true), ("without-cert", false)] {
            let query = f.work + "/\(name).tsq", reply = f.work + "/\(name).tsr"
            let q = try TestSupport.openssl(["ts", "-query", "-data", data, "-sha256"] + (certReq ? ["-cert"] : []) + ["-out", query])
            try #require(q.status == 0, "\(q.stderr)")
            let r = try HTTP.request(port: port, "POST", "/tsa", body: try OT.bytes(query), contentType: "application/timestamp-query")
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "application/timestamp-reply")
            try OT.write(r.body, to: reply)
            let response = try TimeStamp.response(r.body)
            #expect(response.granted)
            #expect(response.info?.policy == "0.4.0.2023.1.1")
            #expect(response.info?.accuracyMicroseconds == 1_000_000)
            #expect(response.info?.nonceHex != nil)
            let token = try #require(response.token)
            try OT.write(token, to: f.work + "/\(name).token")
            let certs = try TestSupport.openssl(["pkcs7", "-inform", "DER", "-in", f.work + "/\(name).token", "-print_certs", "-noout"])
            #expect(certs.stdout.contains("Time-Stamping Unit") == certReq, "certReq \(certReq): \(certs.stdout)")
            let cms = try TestSupport.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", f.work + "/\(name).token"])
            #expect(cms.stdout.contains("id-smime-aa-signingCertificateV2"), "ESSCertIDv2 missing")

            // Judged by openssl: the TSA's certificate is in the token, or given with -untrusted.
            let unit = f.work + "/unit.pem"
            if !FileManager.default.fileExists(atPath: unit) {
                try (try #require(try OT.authority(f.home).store.currentTSASigner(ca: nil))).certificate.pem.write(toFile: unit, atomically: true, encoding: .utf8)
                try (try String(contentsOfFile: unit, encoding: .utf8) + f.issuing.pem).write(toFile: f.work + "/untrusted.pem", atomically: true, encoding: .utf8)
            }
            let common = ["-CAfile", f.rootPath, "-untrusted", f.work + "/untrusted.pem"]
            let withData = try OT.openssl(["ts", "-verify", "-in", reply, "-data", data] + common)
            #expect(withData.output.contains("Verification: OK"), "\(withData.output)")
            let digest = Hex.encode(Digest.sha256(try OT.bytes(data)))
            let withDigest = try OT.openssl(["ts", "-verify", "-in", reply, "-digest", digest] + common)
            #expect(withDigest.output.contains("Verification: OK"), "\(withDigest.output)")
            let withQuery = try OT.openssl(["ts", "-verify", "-in", reply, "-queryfile", query] + common)
            #expect(withQuery.output.contains("Verification: OK"), "nonce and imprint of the query: \(withQuery.output)")
            let other = try OT.openssl(["ts", "-verify", "-in", reply, "-digest", String(repeating: "ab", count: 32)] + common)
            #expect(!other.output.contains("Verification: OK"))
        }
        // etrust's own client agrees.
        let own = try TestSupport.etrust(["timestamp", "--in", data, "--url", "http://127.0.0.1:\(port)/tsa", "--out", f.work + "/own.tsr",
                                          "--anchor", f.rootPath, "--untrusted", f.issuingPath, "--json"])
        #expect(own.status == 0 && own.json?["policy"] as? String == "0.4.0.2023.1.1", "\(own.stdout) \(own.stderr)")
        // A request for an unknown policy, or a malformed one, is a rejection (RFC 3161 2.4.2), not an HTTP error.
        let (badPolicy, _) = try TimeStamp.request(digestOf: Array("x".utf8), policy: "1.2.3.4.5")
        let rejected = try HTTP.request(port: port, "POST", "/tsa", body: badPolicy, contentType: "application/timestamp-query")
        #expect(try rejected.status == 200 && !TimeStamp.response(rejected.body).granted)
        let garbage = try HTTP.request(port: port, "POST", "/tsa", body: [0x30, 0x03, 0x02, 0x01], contentType: "application/timestamp-query")
        #expect(try garbage.status == 200 && !TimeStamp.response(garbage.body).granted)
    }

    @Test("every token is recorded (serial, imprint, hash, genTime, policy) before its reply leaves; 200 concurrent requests get 200 distinct 128-bit serials")
    func recordedAndUnique() throws {
        let (f, unit) = try Self.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try Self.server(f)
        defer { server.shutdown(grace: 1) }
        nonisolated(unsafe) let store = try Home.open(f.home).openStore()
        let n = 200
        let results = NSLock()
        nonisolated(unsafe) var infos: [TimeStamp.Info] = []
        nonisolated(unsafe) var recordedBeforeReply = 0
        DispatchQueue.concurrentPerform(iterations: n) { i in
            guard let (req, _) = try? TimeStamp.request(digestOf: Array("document \(i)".utf8)),
                  let r = try? HTTP.request(port: port, "POST", "/tsa", body: req, contentType: "application/timestamp-query"),
                  let info = try? TimeStamp.response(r.body).info else { return }
            // The reply came: its record is committed already. (One store connection serves every
            // thread here, so lookups take the lock: a connection used by two threads at once fails.)
            results.withLock {
                let found = (try? store.timeStampTokens(imprintHex: Hex.encode(info.messageImprint)))?.contains { $0.serialHex == info.serialHex } ?? false
                infos.append(info)
                if found { recordedBeforeReply += 1 }
            }
        }
        #expect(infos.count == n)
        #expect(Set(infos.map(\.serialHex)).count == n, "serials repeat")
        #expect(infos.allSatisfy { $0.serialHex.count >= 30 }, "\(infos.map(\.serialHex).prefix(3))")
        #expect(recordedBeforeReply == n)
        #expect(try store.timeStampTokenCount() == n)
        let one = try #require(infos.first)
        let record = try #require(try store.timeStampTokens(imprintHex: Hex.encode(one.messageImprint)).first)
        #expect(record == TimeStampTokenRecord(serialHex: one.serialHex, signerID: unit.id, hashAlgorithm: "2.16.840.1.101.3.4.2.1",
                                               imprintHex: Hex.encode(one.messageImprint), genTime: record.genTime, policy: "0.4.0.2023.1.1"))
        #expect(abs(record.genTime.timeIntervalSince(one.genTime)) < 0.001)
    }
}
