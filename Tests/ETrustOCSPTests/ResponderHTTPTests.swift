import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// The in-process responder (OCSPServer on 127.0.0.1, port 0) judged by `openssl ocsp` and by
/// OCSPClient.check: POST and RFC 5019 GET, good / revoked / unknown, RFC 6960 2.2 revoked for
/// serials never issued, unauthorized, nonce, several certificates, caching headers.
@Suite("etrust-ocspd over HTTP (in-process)")
struct ResponderHTTPTests {
    func check(_ der: [UInt8], _ f: OT.Fixture, _ cert: Certificate, request: OCSPClient.Request? = nil) throws -> OCSPCheck {
        try OCSPClient.check(response: der, certificate: cert, issuer: f.issuing, trust: try TrustStore(anchors: [f.root]),
                             request: request, at: Date())
    }

    @Test("openssl ocsp over POST: Response verify OK, good, revoked with its reason")
    func postGoodAndRevoked() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }

        let good = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.goodPath], caFile: f.rootPath)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("Response verify OK"), "\(good.output)")
        #expect(good.output.contains("\(f.goodPath): good"), "\(good.output)")
        #expect(!good.output.contains("WARNING"), "\(good.output)")

        let revoked = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.revokedPath], caFile: f.rootPath)
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(revoked.output.contains("Response verify OK"), "\(revoked.output)")
        #expect(revoked.output.contains("\(f.revokedPath): revoked"), "\(revoked.output)")
        #expect(revoked.output.contains("Reason: keyCompromise"), "\(revoked.output)")
        #expect(revoked.output.contains("Revocation Time:"), "\(revoked.output)")
    }

    @Test("RFC 5019 GET: URL-encoded, unencoded and URL-safe base64 of the request are answered")
    func getVariants() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }

        for (cert, path, expected) in [(f.good, f.goodPath, OCSPCertificateStatus.good), (f.revoked, f.revokedPath, nil)] {
            // The request as openssl makes it (no nonce, SHA-1 CertID).
            let reqPath = f.work + "/req-\(cert.serialHex).der"
            let made = try OT.openssl(["ocsp", "-issuer", f.issuingPath, "-cert", path, "-url", "http://127.0.0.1:\(port)/ocsp",
                                       "-reqout", reqPath, "-no_nonce", "-CAfile", f.rootPath, "-timeout", "5"])
            #expect(made.status == 0, "\(made.output)")
            let der = try OT.bytes(reqPath)
            let b64 = Data(der).base64EncodedString()
            for encoded in [OT.base64URLEncoded(der), b64, OT.base64URLSafe(der)] {
                let r = try HTTP.request(port: port, "GET", "/ocsp/" + encoded)
                #expect(r.status == 200, "GET /ocsp/\(encoded): \(r.status)")
                #expect(r.header("Content-Type") == "application/ocsp-response")
                let c = try check(r.body, f, cert)
                if let expected {
                    #expect(c.status == expected, "GET /ocsp/\(encoded)")
                } else if case .revoked(_, let reason) = c.status {
                    #expect(reason == .keyCompromise)
                } else {
                    Issue.record("GET /ocsp/\(encoded): \(c.status), expected revoked")
                }
                // openssl agrees on the bytes served by GET.
                let respPath = f.work + "/resp.der"
                try OT.write(r.body, to: respPath)
                let judged = try OT.openssl(["ocsp", "-respin", respPath, "-issuer", f.issuingPath, "-cert", path, "-CAfile", f.rootPath])
                #expect(judged.output.contains("Response verify OK"), "\(judged.output)")
                #expect(judged.output.contains(expected == .good ? ": good" : ": revoked"), "\(judged.output)")
            }
        }
    }

    @Test("a serial never issued: unknown by default")
    func neverIssuedUnknown() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let r = try OT.openssl(["ocsp", "-issuer", f.issuingPath, "-serial", "0x7a11ce0000beef", "-url", "http://127.0.0.1:\(port)/ocsp",
                                "-CAfile", f.rootPath, "-timeout", "5", "-resp_text"])
        #expect(r.output.contains("Response verify OK"), "\(r.output)")
        #expect(r.output.contains("Cert Status: unknown"), "\(r.output)")
        #expect(!r.output.contains("1.3.6.1.5.5.7.48.1.9") && !r.output.contains("Extended OCSP Revoke"), "\(r.output)")
    }

    @Test("a serial never issued with unknownSerial = .revoked: certificateHold at 1970-01-01 and extended-revoke (RFC 6960 2.2)")
    func neverIssuedRevoked() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.unknownSerial = .revoked }
        defer { server.shutdown(grace: 1) }
        let respPath = f.work + "/never.der"
        let r = try OT.openssl(["ocsp", "-issuer", f.issuingPath, "-serial", "0x7a11ce0000beef", "-url", "http://127.0.0.1:\(port)/ocsp",
                                "-CAfile", f.rootPath, "-timeout", "5", "-no_nonce", "-respout", respPath])
        #expect(r.output.contains("Response verify OK"), "\(r.output)")
        #expect(r.output.contains(": revoked"), "\(r.output)")
        #expect(r.output.contains("Reason: certificateHold"), "\(r.output)")
        #expect(r.output.contains("Revocation Time: Jan  1 00:00:00 1970 GMT"), "\(r.output)")
        let text = try OT.openssl(["ocsp", "-respin", respPath, "-resp_text", "-noverify"])
        // OpenSSL 3.0 names 1.3.6.1.5.5.7.48.1.9 by its old short name "valid" (id-pkix-OCSP-valid).
        #expect(text.output.contains("Response Extensions:\n        valid:"), "\(text.output)")
        #expect(OT.contains(try OT.bytes(respPath), [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09, 0x04, 0x02, 0x05, 0x00]),
                "no extension 1.3.6.1.5.5.7.48.1.9 with value NULL")
        // Never cached as pre-signed bytes: such an answer is not a statement about a real certificate.
        let req = try requestFor(serial: "7a11ce0000beef", f)
        for _ in 0..<2 {
            let again = try HTTP.postOCSP(port: port, req)
            #expect(again.status == 200)
        }
        #expect(server.source.cacheHits == 0)
    }

    func requestFor(serial: String, _ f: OT.Fixture) throws -> [UInt8] {
        let path = f.work + "/req-\(serial).der"
        let r = try OT.openssl(["ocsp", "-issuer", f.issuingPath, "-serial", "0x" + serial, "-reqout", path, "-no_nonce"])
        try #require(FileManager.default.fileExists(atPath: path), "\(r.output)")
        return try OT.bytes(path)
    }

    @Test("a certificate of a CA the home does not hold: unauthorized (responseStatus 6)")
    func otherCAUnauthorized() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        // A throwaway CA made by openssl, unknown to the home.
        let otherKey = f.work + "/other.key", other = f.work + "/other.pem"
        let made = try OT.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=Other CA",
                                   "-days", "2", "-keyout", otherKey, "-out", other])
        try #require(made.status == 0, "\(made.output)")
        let r = try OT.openssl(["ocsp", "-issuer", other, "-serial", "0x1234", "-url", "http://127.0.0.1:\(port)/ocsp",
                                "-CAfile", f.rootPath, "-timeout", "5"])
        #expect(r.output.contains("unauthorized (6)"), "\(r.output)")
        // The raw bytes: OCSPResponse { responseStatus unauthorized }.
        let reqPath = f.work + "/other-req.der"
        _ = try OT.openssl(["ocsp", "-issuer", other, "-serial", "0x1234", "-reqout", reqPath])
        let raw = try HTTP.postOCSP(port: port, try OT.bytes(reqPath))
        #expect(raw.status == 200)
        #expect(raw.body == [0x30, 0x03, 0x0a, 0x01, 0x06])
    }

    @Test("a nonce is echoed (openssl checks it: no 'no nonce' warning); a request without one is answered without")
    func nonce() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let withNonce = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.goodPath], caFile: f.rootPath)
        #expect(withNonce.output.contains("Response verify OK"), "\(withNonce.output)")
        #expect(!withNonce.output.contains("WARNING: no nonce in response"), "\(withNonce.output)")
        #expect(!withNonce.output.contains("Nonce Verify error"), "\(withNonce.output)")

        // Through the library: a fresh nonce each time, echoed and checked by OCSPClient.check.
        for _ in 0..<2 {
            let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
            let r = try HTTP.postOCSP(port: port, req.der)
            let c = try check(r.body, f, f.good, request: req)
            #expect(c.status == .good)
            #expect(c.responder.contains("OCSP Responder"), "\(c.responder)")
        }
        #expect(server.source.cacheHits == 0, "a request with a nonce is never answered from pre-signed bytes")

        let none = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.goodPath], caFile: f.rootPath, extra: ["-no_nonce"])
        #expect(none.output.contains("Response verify OK"), "\(none.output)")
        #expect(none.output.contains(": good"), "\(none.output)")
    }

    @Test("several certificates in one request are answered together")
    func severalCertificates() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let r = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.goodPath, f.revokedPath], caFile: f.rootPath)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("Response verify OK"), "\(r.output)")
        #expect(r.output.contains("\(f.goodPath): good"), "\(r.output)")
        #expect(r.output.contains("\(f.revokedPath): revoked"), "\(r.output)")
        #expect(r.output.contains("Reason: keyCompromise"), "\(r.output)")
    }

    @Test("RFC 5019 caching: Cache-Control max-age, Last-Modified, Expires, ETag; the second request is served from the pre-signed bytes")
    func cachingHeaders() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        // No background refresh during the test: the first answer is signed live, the second is its bytes.
        let (server, port) = try OT.startServer(f) { $0.refreshInterval = 3600 }
        defer { server.shutdown(grace: 1) }
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        let reqPath = f.work + "/req.der"
        try OT.write(req.der, to: reqPath)

        func curl(_ n: Int) throws -> (headers: [String: String], body: [UInt8]) {
            let headersPath = f.work + "/h\(n).txt", bodyPath = f.work + "/b\(n).der"
            let r = try TestSupport.run("/usr/bin/curl", ["-s", "--max-time", "5", "-D", headersPath, "-o", bodyPath,
                                                          "-H", "Content-Type: application/ocsp-request", "--data-binary", "@" + reqPath,
                                                          "http://127.0.0.1:\(port)/ocsp"])
            try #require(r.status == 0, "curl: \(r.status) \(r.stderr)")
            var headers: [String: String] = [:]
            for line in try String(contentsOfFile: headersPath, encoding: .utf8).components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return (headers, try OT.bytes(bodyPath))
        }

        let first = try curl(1)
        let cacheControl = try #require(first.headers["cache-control"], "\(first.headers)")
        let maxAge = cacheControl.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst(8)) }
        let age = try #require(maxAge, "Cache-Control: \(cacheControl)")
        #expect(age > 0 && age <= Int(OCSPSigning.responseValidity), "max-age=\(age)")
        let lastModified = try #require(first.headers["last-modified"], "\(first.headers)")
        let expires = try #require(first.headers["expires"], "\(first.headers)")
        let etag = try #require(first.headers["etag"], "\(first.headers)")
        #expect(lastModified.hasSuffix(" GMT") && expires.hasSuffix(" GMT"), "\(lastModified) / \(expires)")
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count > 2, "\(etag)")
        // Expires and Last-Modified are the response's nextUpdate and thisUpdate.
        let c = try check(first.body, f, f.good)
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = TimeZone(identifier: "GMT")
        fmt.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(fmt.date(from: lastModified) == c.thisUpdate, "\(lastModified) vs \(c.thisUpdate)")
        #expect(fmt.date(from: expires) == c.nextUpdate, "\(expires) vs \(String(describing: c.nextUpdate))")

        let hitsBefore = try #require(OT.metric(try HTTP.metrics(port: port), "etrust_ocsp_presigned_hits_total"))
        let second = try curl(2)
        let hitsAfter = try #require(OT.metric(try HTTP.metrics(port: port), "etrust_ocsp_presigned_hits_total"))
        #expect(hitsAfter == hitsBefore + 1, "presigned hits \(hitsBefore) -> \(hitsAfter)")
        #expect(second.body == first.body, "the second answer is the same pre-signed bytes")
        #expect(second.headers["etag"] == etag)
        #expect(second.headers["last-modified"] == lastModified)
        // The same request by GET is the same bytes too.
        let get = try HTTP.request(port: port, "GET", "/ocsp/" + OT.base64URLEncoded(req.der))
        #expect(get.body == first.body)
        #expect(get.header("ETag") == etag)
    }
}
