import ETrustTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers of the `etrust verify` suites on paths issued by etrust's own CA: homes built with the
/// `etrust` binary, OCSP responses made by the openssl CLI acting as the CA's responder, and a
/// loopback HTTP server that records every request (so that "verify fetches nothing" is observed,
/// not assumed).
enum OwnCA {
    typealias Result = TestSupport.Result

    static let rootSubject = "CN=OwnCA Root,O=etrust tests,C=TG"
    static let issuingSubject = "CN=OwnCA Issuing,O=etrust tests,C=TG"
    static let citizensSubject = "CN=OwnCA Citizens,O=etrust tests,C=TG"

    static let authPolicy = "0.4.0.2042.1.1"        // citizen-authentication, level substantial
    static let signingPolicy = "0.4.0.194112.1.2"   // citizen-signing, level high
    static let tlsPolicy = "2.23.140.1.2.1"         // tls-server, no level

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    // MARK: Running tools

    /// Runs `etrust` (ETRUST_PASSPHRASE set) in `directory`, a folder without `./etrust-home`,
    /// so that only the homes the test names are used.
    @discardableResult
    static func etrust(_ arguments: [String], in directory: String) throws -> Result {
        try TestSupport.run(TestSupport.etrustBinary, arguments, environment: ["ETRUST_PASSPHRASE": "test-passphrase"],
                            currentDirectory: directory)
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> Result {
        try TestSupport.openssl(arguments)
    }

    /// `openssl` that must succeed.
    @discardableResult
    static func mustOpenSSL(_ arguments: [String]) throws -> Result {
        let r = try openssl(arguments)
        guard r.status == 0 else { throw Failure("openssl \(arguments.joined(separator: " ")) failed: \(r.stderr)") }
        return r
    }

    /// `etrust` that must succeed.
    @discardableResult
    static func mustEtrust(_ arguments: [String], in directory: String) throws -> Result {
        let r = try etrust(arguments, in: directory)
        guard r.status == 0 else { throw Failure("etrust \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r
    }

    // MARK: Homes

    /// `etrust init`, cheap key encryption, and `publicBaseURL` (the {base} of CDP and AIA URLs).
    static func initHome(_ home: String, publicBaseURL: String, in work: String) throws {
        try mustEtrust(["init", "--home", home, "--public-url", publicBaseURL], in: work)
        let path = home + "/etrust.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.contains("pbkdf2Iterations: 600000"), text.contains("publicBaseURL: \(publicBaseURL)") else {
            throw Failure("etrust.yaml no longer has the expected defaults:\n\(text)")
        }
        try text.replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A root (`root`) and an issuing CA (`issuing`, profile sub-ca) created with the CLI.
    static func createRootAndIssuing(_ home: String, in work: String) throws {
        try mustEtrust(["ca", "create", "root", "--home", home, "--subject", rootSubject, "--key", "ec-p256"], in: work)
        try mustEtrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", issuingSubject,
                        "--key", "ec-p256"], in: work)
    }

    struct Issued: Sendable {
        let path: String
        let serial: String
        let notBefore: Date
        let notAfter: Date
    }

    /// A CSR made by openssl (P-256), issued with `etrust issue --json`; the PEM goes to work/NAME.pem.
    static func issue(_ home: String, work: String, name: String, ca: String, profile: String, subject: String,
                      san: [String] = []) throws -> Issued {
        let key = work + "/\(name).key", csr = work + "/\(name).csr"
        try mustOpenSSL(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
                         "-keyout", key, "-out", csr])
        var args = ["issue", "--home", home, "--ca", ca, "--profile", profile, "--csr", csr, "--json"]
        for s in san { args += ["--san", s] }
        let r = try mustEtrust(args, in: work)
        guard let json = r.json, let serial = json["serial"] as? String, let pem = json["certificate"] as? String,
              let nb = (json["notBefore"] as? String).flatMap(parseTime), let na = (json["notAfter"] as? String).flatMap(parseTime) else {
            throw Failure("etrust issue --json printed \(r.stdout)")
        }
        let path = work + "/\(name).pem"
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        return Issued(path: path, serial: serial, notBefore: nb, notAfter: na)
    }

    // MARK: Time

    static func parseTime(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    // MARK: Judging `etrust verify`

    /// What `etrust verify --json` answered.
    struct Verdict: CustomStringConvertible {
        let result: Result
        let json: [String: Any]

        var status: Int32 { result.status }
        var valid: Bool? { json["valid"] as? Bool }
        var errorCode: String? { json["errorCode"] as? String }
        var reason: String { json["reason"] as? String ?? "" }
        var path: [String] { json["path"] as? [String] ?? [] }
        var policies: [String] { json["policies"] as? [String] ?? [] }
        var assurance: String? { json["assurance"] as? String }
        var revocationMode: String? { (json["revocation"] as? [String: Any])?["mode"] as? String }
        var revocation: [[String: Any]] { (json["revocation"] as? [String: Any])?["certificates"] as? [[String: Any]] ?? [] }
        var description: String { "exit \(result.status): \(result.stdout) \(result.stderr)" }

        /// The revocation entry for a subject.
        func revocation(of subject: String) -> [String: Any]? {
            revocation.first { $0["subject"] as? String == subject }
        }
    }

    /// `etrust verify CERT ARGS --json`; fails the test unless it printed one JSON object and
    /// exited 0 or 1.
    static func verify(_ certificate: String, _ arguments: [String], in work: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> Verdict {
        let r = try etrust(["verify", certificate] + arguments + ["--json"], in: work)
        let json = try #require(r.json, "etrust verify printed no JSON object (exit \(r.status)): \(r.stdout) \(r.stderr)",
                                sourceLocation: sourceLocation)
        #expect(r.status == 0 || r.status == 1, "etrust verify exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        // The exit status and the JSON agree.
        #expect((r.status == 0) == (json["valid"] as? Bool == true), "exit \(r.status) but \(r.stdout)", sourceLocation: sourceLocation)
        return Verdict(result: r, json: json)
    }

    /// RFC 4514 subject of a PEM certificate, by openssl (the independent judge of `path`).
    static func subject(of pemPath: String) throws -> String {
        let r = try mustOpenSSL(["x509", "-in", pemPath, "-noout", "-subject", "-nameopt", "RFC2253"])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "subject=", with: "")
    }

    /// The serial as the openssl CLI prints it (upper-case hex, whole bytes): the key of index.txt.
    static func opensslSerial(of pemPath: String) throws -> String {
        let r = try mustOpenSSL(["x509", "-in", pemPath, "-noout", "-serial"])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    // MARK: OCSP by the openssl CLI

    /// The CA's key, decrypted for `openssl ocsp -rkey`.
    static func decryptKey(home: String, ca: String, to path: String) throws {
        try mustOpenSSL(["pkey", "-in", home + "/keys/\(ca).key.pem", "-passin", "pass:test-passphrase", "-out", path])
    }

    /// An openssl `ca` database (index.txt) made from `etrust list --ca CA --json`: V and R lines.
    static func writeIndex(home: String, ca: String, to path: String, in work: String) throws {
        let r = try mustEtrust(["list", "--home", home, "--ca", ca, "--json"], in: work)
        guard let certs = r.json?["certificates"] as? [[String: Any]], !certs.isEmpty else {
            throw Failure("etrust list --ca \(ca) --json printed \(r.stdout)")
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyMMddHHmmss'Z'"
        let reasons = ["unspecified": "unspecified", "keyCompromise": "keyCompromise", "cACompromise": "CACompromise",
                       "affiliationChanged": "affiliationChanged", "superseded": "superseded",
                       "cessationOfOperation": "cessationOfOperation", "certificateHold": "certificateHold"]
        let codeNames = [0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
                         5: "cessationOfOperation", 6: "certificateHold"]
        var lines: [String] = []
        for c in certs {
            guard let hex = c["serial"] as? String, let status = c["status"] as? String,
                  let notAfter = (c["notAfter"] as? String).flatMap(parseTime) else { throw Failure("unexpected list entry \(c)") }
            var serial = hex.uppercased()
            if serial.count % 2 == 1 { serial = "0" + serial }
            while serial.hasPrefix("00") && serial.count > 2 { serial.removeFirst(2) }
            let subject = "/" + ((c["subject"] as? String) ?? "CN=unknown")
            switch status {
            case "revoked":
                guard let at = (c["revokedAt"] as? String).flatMap(parseTime) else { throw Failure("revoked entry without revokedAt: \(c)") }
                var revocation = f.string(from: at)
                // `etrust list --json` gives the reason code (RFC 5280 CRLReason), `etrust revoke --json` its name.
                let code = c["revocationReason"] as? Int
                let name = (c["revocationReason"] as? String) ?? code.flatMap { codeNames[$0] }
                if let reason = name.flatMap({ reasons[$0] }) { revocation += "," + reason }
                lines.append("R\t\(f.string(from: notAfter))\t\(revocation)\t\(serial)\tunknown\t\(subject)")
            default:
                lines.append("V\t\(f.string(from: notAfter))\t\t\(serial)\tunknown\t\(subject)")
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// An OCSP response for `certificate` (issued by `issuer`), made by `openssl ocsp` acting as
    /// the responder: `-rsigner`/`-rkey` sign it, `-CA` is the issuer the index belongs to.
    static func ocspResponse(certificate: String, issuer: String, index: String, signer: String, signerKey: String,
                             ca: String, ndays: Int = 1, out: String) throws {
        let req = out + ".req"
        try mustOpenSSL(["ocsp", "-issuer", issuer, "-cert", certificate, "-reqout", req, "-no_nonce"])
        try mustOpenSSL(["ocsp", "-index", index, "-rsigner", signer, "-rkey", signerKey, "-CA", ca, "-reqin", req,
                         "-respout", out, "-ndays", String(ndays)])
        guard FileManager.default.fileExists(atPath: out) else { throw Failure("openssl ocsp wrote no \(out)") }
    }

    /// The status openssl itself reads in a response (the judge that the response says what we think).
    static func opensslStatus(response: String, certificate: String, issuer: String) throws -> String {
        let r = try openssl(["ocsp", "-respin", response, "-issuer", issuer, "-cert", certificate, "-noverify"])
        return r.stdout
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

// MARK: - The shared PKI

/// One home, built once per test process with the CLI and only read afterwards:
/// root -> issuing (sub-ca, delta CRLs) and root -> citizens (sub-ca-partitioned, 16 shards),
/// leaves of several profiles, revocations, published CRLs and OCSP responses made by openssl.
/// Its publicBaseURL points at a loopback sink that answers 404 at once, so that an OCSP lookup
/// of a certificate's AIA (allowed when OCSP is asked for) stays on 127.0.0.1 and fails fast.
final class OwnCAPKI: Sendable {
    let dir: String
    let home: String
    let work: String
    let sink: LoopbackServer

    let root: String, issuing: String, citizens: String
    let auth: OwnCA.Issued           // citizen-authentication, email SAN
    let authRevoked: OwnCA.Issued    // revoked before the full CRL (keyCompromise)
    let authLate: OwnCA.Issued       // revoked after the full CRL: only the delta CRL lists it
    let tls: OwnCA.Issued            // tls-server, dns:www.example.tg + ip:8.8.8.8
    let signing: OwnCA.Issued        // citizen-signing (nonRepudiation, QC statements)
    let shardGood: OwnCA.Issued      // citizen-authentication under the partitioned CA
    let shardRevoked: OwnCA.Issued
    let responder: OwnCA.Issued      // ocsp-signing (delegated responder of `issuing`)

    let issuingCRL: String, issuingDelta: String, rootCRL: String
    let shardCRLs: [String]

    let issuingKey: String, rootKey: String
    let issuingIndex: String, rootIndex: String
    /// OCSP responses (nextUpdate +1 day) signed by the CA that issued the certificate.
    let ocspAuthGood: String, ocspAuthRevoked: String, ocspTLSGood: String, ocspIssuing: String
    /// A response for `auth` signed by a throwaway self-signed responder.
    let ocspAuthRogue: String
    /// Responses for `auth` signed by the delegated responder, by the root (not the issuer) and
    /// by the tls-server leaf (a sibling, not authorized).
    let ocspAuthDelegated: String, ocspAuthByRoot: String, ocspAuthBySibling: String

    static let shared: Swift.Result<OwnCAPKI, any Error> = Swift.Result { try OwnCAPKI() }

    static func get() throws -> OwnCAPKI { try shared.get() }

    // One piece (about 80 lines): the PKI is built in one sequence of etrust commands, each step
    // using the files of the one before.
    private init() throws {
        dir = try TestSupport.temporaryDirectory("ownca-pki")
        home = dir + "/home"
        work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        sink = try LoopbackServer(lifetime: 1800)
        try OwnCA.initHome(home, publicBaseURL: "http://127.0.0.1:\(sink.port)", in: work)
        try OwnCA.createRootAndIssuing(home, in: work)
        try OwnCA.mustEtrust(["ca", "create", "citizens", "--home", home, "--parent", "root", "--profile", "sub-ca-partitioned",
                              "--subject", OwnCA.citizensSubject, "--key", "ec-p256"], in: work)
        root = home + "/certs/root.pem"
        issuing = home + "/certs/issuing.pem"
        citizens = home + "/certs/citizens.pem"

        auth = try OwnCA.issue(home, work: work, name: "auth", ca: "issuing", profile: "citizen-authentication",
                               subject: "/C=TG/CN=Ama Mensah", san: ["email:ama.mensah@example.tg"])
        authRevoked = try OwnCA.issue(home, work: work, name: "auth-revoked", ca: "issuing", profile: "citizen-authentication",
                                      subject: "/C=TG/CN=Kofi Revoked")
        authLate = try OwnCA.issue(home, work: work, name: "auth-late", ca: "issuing", profile: "citizen-authentication",
                                   subject: "/C=TG/CN=Esi Late")
        tls = try OwnCA.issue(home, work: work, name: "tls", ca: "issuing", profile: "tls-server", subject: "/CN=www.example.tg",
                              san: ["dns:www.example.tg", "ip:8.8.8.8"])
        signing = try OwnCA.issue(home, work: work, name: "signing", ca: "issuing", profile: "citizen-signing",
                                  subject: "/C=TG/serialNumber=IDCTG-1234567/GN=Ama/SN=Mensah/CN=Ama Mensah")
        shardGood = try OwnCA.issue(home, work: work, name: "shard-good", ca: "citizens", profile: "citizen-authentication",
                                    subject: "/C=TG/CN=Yao Shard")
        shardRevoked = try OwnCA.issue(home, work: work, name: "shard-revoked", ca: "citizens", profile: "citizen-authentication",
                                       subject: "/C=TG/CN=Akua Shard")
        responder = try OwnCA.issue(home, work: work, name: "responder", ca: "issuing", profile: "ocsp-signing",
                                    subject: "/C=TG/O=etrust tests/CN=OwnCA OCSP Responder")

        // Revocations and CRLs: the full CRL of `issuing` lists authRevoked, its delta authLate.
        try OwnCA.mustEtrust(["revoke", "--home", home, "--ca", "issuing", "--serial", authRevoked.serial, "--reason", "keyCompromise"], in: work)
        try OwnCA.mustEtrust(["crl", "--home", home, "--ca", "issuing"], in: work)
        try OwnCA.mustEtrust(["revoke", "--home", home, "--ca", "issuing", "--serial", authLate.serial, "--reason", "keyCompromise"], in: work)
        try OwnCA.mustEtrust(["crl", "--home", home, "--ca", "issuing", "--delta"], in: work)
        try OwnCA.mustEtrust(["revoke", "--home", home, "--ca", "citizens", "--serial", shardRevoked.serial, "--reason", "keyCompromise"], in: work)
        try OwnCA.mustEtrust(["crl", "--home", home, "--ca", "citizens"], in: work)
        try OwnCA.mustEtrust(["crl", "--home", home, "--ca", "root"], in: work)
        issuingCRL = home + "/pub/crl/issuing.crl"
        issuingDelta = home + "/pub/crl/issuing-delta.crl"
        rootCRL = home + "/pub/crl/root.crl"
        let crlDir = home + "/pub/crl"
        shardCRLs = (0..<16).map { "\(crlDir)/citizens-\($0).crl" }
        for f in [issuingCRL, issuingDelta, rootCRL] + shardCRLs where !FileManager.default.fileExists(atPath: f) {
            throw OwnCA.Failure("etrust crl did not publish \(f)")
        }

        // OCSP responses by openssl acting as the CAs' responder, from the etrust database.
        issuingKey = work + "/issuing-key.pem"
        rootKey = work + "/root-key.pem"
        try OwnCA.decryptKey(home: home, ca: "issuing", to: issuingKey)
        try OwnCA.decryptKey(home: home, ca: "root", to: rootKey)
        issuingIndex = work + "/issuing-index.txt"
        rootIndex = work + "/root-index.txt"
        try OwnCA.writeIndex(home: home, ca: "issuing", to: issuingIndex, in: work)
        try OwnCA.writeIndex(home: home, ca: "root", to: rootIndex, in: work)
        ocspAuthGood = work + "/ocsp-auth-good.der"
        ocspAuthRevoked = work + "/ocsp-auth-revoked.der"
        ocspTLSGood = work + "/ocsp-tls-good.der"
        ocspIssuing = work + "/ocsp-issuing.der"
        ocspAuthRogue = work + "/ocsp-auth-rogue.der"
        for (cert, out) in [(auth.path, ocspAuthGood), (authRevoked.path, ocspAuthRevoked), (tls.path, ocspTLSGood)] {
            try OwnCA.ocspResponse(certificate: cert, issuer: issuing, index: issuingIndex, signer: issuing, signerKey: issuingKey,
                                   ca: issuing, out: out)
        }
        try OwnCA.ocspResponse(certificate: issuing, issuer: root, index: rootIndex, signer: root, signerKey: rootKey, ca: root,
                               out: ocspIssuing)
        let rogueKey = work + "/rogue-key.pem", rogueCert = work + "/rogue.pem"
        try OwnCA.mustOpenSSL(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-subj", "/CN=Rogue OCSP Responder", "-keyout", rogueKey, "-out", rogueCert, "-days", "30"])
        try OwnCA.ocspResponse(certificate: auth.path, issuer: issuing, index: issuingIndex, signer: rogueCert, signerKey: rogueKey,
                               ca: issuing, out: ocspAuthRogue)
        ocspAuthDelegated = work + "/ocsp-auth-delegated.der"
        ocspAuthByRoot = work + "/ocsp-auth-by-root.der"
        ocspAuthBySibling = work + "/ocsp-auth-by-sibling.der"
        try OwnCA.ocspResponse(certificate: auth.path, issuer: issuing, index: issuingIndex, signer: responder.path,
                               signerKey: work + "/responder.key", ca: issuing, out: ocspAuthDelegated)
        try OwnCA.ocspResponse(certificate: auth.path, issuer: issuing, index: issuingIndex, signer: root, signerKey: rootKey,
                               ca: issuing, out: ocspAuthByRoot)
        try OwnCA.ocspResponse(certificate: auth.path, issuer: issuing, index: issuingIndex, signer: tls.path,
                               signerKey: work + "/tls.key", ca: issuing, out: ocspAuthBySibling)
    }
}

// MARK: - A loopback HTTP server that records requests

/// A tiny HTTP/1.0 server on 127.0.0.1 (an ephemeral port), one connection at a time, on its own
/// thread. It records "METHOD PATH" of every request (or "(no request)" for a connection that
/// sent none), serves files below `root` for GET, and lets `handler` answer anything else
/// (404 by default). It stops by itself after `lifetime` seconds, or on `stop()`.
final class LoopbackServer: @unchecked Sendable {
    typealias Handler = @Sendable (_ method: String, _ path: String, _ body: [UInt8]) -> (status: Int, contentType: String, body: [UInt8])?

    let port: UInt16
    private let listener: Int32
    private let root: String?
    private let handler: Handler?
    private let deadline: Date
    private let lock = NSLock()
    private var log: [String] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(root: String? = nil, lifetime: TimeInterval = 120, handler: Handler? = nil) throws {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw OwnCA.Failure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw OwnCA.Failure("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: actual.sin_port)
        listener = fd
        self.root = root
        self.handler = handler
        deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request so far, in order.
    var requests: [String] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    func stop() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        if !already { _ = finished.wait(timeout: .now() + 5) }
    }

    private var shouldStop: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopping || Date() > deadline
    }

    private func record(_ line: String) {
        lock.lock(); log.append(line); lock.unlock()
    }

    private func serve() {
        defer { close(listener); finished.signal() }
        while !shouldStop {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ fd: Int32) {
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int? = nil
        while headerEnd == nil && data.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
            if data.count >= 4 {
                for i in 0...(data.count - 4) where Array(data[i..<(i + 4)]) == separator { headerEnd = i; break }
            }
        }
        guard let headerEnd else {
            record(data.isEmpty ? "(no request)" : "(incomplete request)")
            return
        }
        let head = String(decoding: data[0..<headerEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = (lines.first ?? "").split(separator: " ").map(String.init)
        let method = parts.first ?? "?", path = parts.count > 1 ? parts[1] : "?"
        record("\(method) \(path)")
        var body = Array(data[(headerEnd + 4)...])
        let contentLength = lines.dropFirst().compactMap { line -> Int? in
            let kv = line.split(separator: ":", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-length" else { return nil }
            return Int(kv[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        while body.count < min(contentLength, 1 << 20) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            body += buffer[0..<n]
        }
        var answer: (status: Int, contentType: String, body: [UInt8]) = (404, "text/plain", Array("not found\n".utf8))
        if let handler, let a = handler(method, path, body) {
            answer = a
        } else if method == "GET", let root, !path.contains(".."), path.hasPrefix("/"),
                  let file = FileManager.default.contents(atPath: root + path) {
            answer = (200, "application/pkix-cert", [UInt8](file))
        }
        let text = answer.status == 200 ? "OK" : "Not Found"
        let header = "HTTP/1.0 \(answer.status) \(text)\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
        let out = Array(header.utf8) + answer.body
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}
