import ETrustTestSupport
import Foundation
import Testing

/// `etrust inspect FILE --json` for every kind of file, judged by what `openssl` prints for the
/// same file: subject, serial, dates, extensions, fingerprints, and each kind's own fields.
@Suite("inspect")
struct InspectTests {
    struct Files {
        let home: String, work: String
        var leaf: String { work + "/leaf.pem" }
        var leafDER: String { work + "/leaf.der" }
        var chain: String { work + "/chain.pem" }
        var csr: String { work + "/leaf.csr.pem" }
        var crl: String { home + "/pub/crl/issuing.crl" }
        var cms: String { work + "/doc.p7s" }
        var p12: String { work + "/card.p12" }
        var ocspRequest: String { work + "/req.der" }
        var ocspResponse: String { work + "/resp.der" }
        var tsr: String { work + "/reply.tsr" }
        var token: String { work + "/token.der" }
    }

    static func run(_ tool: String, _ args: [String], in dir: String? = nil) throws -> String {
        let r = try TestSupport.run(tool, args, currentDirectory: dir)
        try #require(r.status == 0, "\(tool) \(args.joined(separator: " ")): \(r.stderr)")
        return r.stdout
    }

    static func openssl(_ args: [String], in dir: String? = nil) throws -> String { try run("/usr/bin/openssl", args, in: dir) }

    /// A home with a leaf, revoked (so the CRL has an entry); a CMS signature, a PKCS#12; an OCSP
    /// request and response and an RFC 3161 reply and token made by openssl's own CA tools.
    static func make() throws -> Files {
        let (home, work) = try E2E.pki("e2e-inspect")
        let f = Files(home: home, work: work)
        try E2E.makeCSR(in: work, name: "leaf", subject: "/CN=leaf.example.tg")
        let issued = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", f.csr,
                                     "--san", "dns:leaf.example.tg", "--out", f.leaf, "--json"])
        try #require(issued.status == 0, "\(issued.stderr)")
        _ = try openssl(["x509", "-in", f.leaf, "-outform", "DER", "-out", f.leafDER])
        try #require(E2E.etrust(["ca", "export", "issuing", "--home", home, "--out", f.chain]).status == 0)
        try #require(E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", try #require(issued.json?["serial"] as? String),
                                 "--reason", "keyCompromise"]).status == 0)
        try #require(E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
        try E2E.write("the document\n", to: work + "/doc.txt")
        try #require(E2E.etrust(["sign", "--cert", f.leaf, "--key", work + "/leaf.key", "--in", work + "/doc.txt", "--out", f.cms]).status == 0)
        try E2E.write("card-password\n", to: work + "/p12pass")
        let card = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-signing", "--generate-key",
                                   "--subject", "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCTG-1,C=TG", "--p12", f.p12,
                                   "--p12-password-file", work + "/p12pass"])
        try #require(card.status == 0, "\(card.stderr)")
        try makeOCSPAndTimestamp(f)
        return f
    }

    /// openssl as a tiny CA: an OCSP response for the leaf, and a time-stamping unit's reply.
    static func makeOCSPAndTimestamp(_ f: Files) throws {
        let w = f.work
        _ = try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                         "-subj", "/CN=Inspect Test CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: w)
        _ = try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
                         "-subj", "/CN=Inspect Test TSA"], in: w)
        try E2E.write("extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n", to: w + "/tsa.ext")
        _ = try openssl(["x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
                         "-extfile", "tsa.ext", "-out", "tsa.pem"], in: w)
        _ = try openssl(["ocsp", "-issuer", "ca.pem", "-cert", "tsa.pem", "-reqout", f.ocspRequest, "-no_nonce"], in: w)
        let serial = try openssl(["x509", "-in", "tsa.pem", "-noout", "-serial"], in: w).split(separator: "=").last!
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try E2E.write("V\t300101000000Z\t\t\(serial)\tunknown\t/CN=Inspect Test TSA\n", to: w + "/index.txt")
        _ = try openssl(["ocsp", "-index", "index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem", "-reqin", f.ocspRequest,
                         "-respout", f.ocspResponse], in: w)
        try E2E.write("""
            [ tsa ]
            default_tsa = tsa1
            [ tsa1 ]
            serial = \(w)/tsaserial
            signer_digest = sha256
            default_policy = 1.3.6.1.4.1.55555.1.2
            digests = sha256
            ess_cert_id_alg = sha256

            """, to: w + "/ts.cnf")
        try E2E.write("2a\n", to: w + "/tsaserial")
        _ = try openssl(["ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "q.tsq"], in: w)
        _ = try openssl(["ts", "-reply", "-config", "ts.cnf", "-queryfile", "q.tsq", "-signer", "tsa.pem", "-inkey", "tsa.key", "-out", f.tsr], in: w)
        _ = try openssl(["ts", "-reply", "-in", f.tsr, "-token_out", "-out", f.token], in: w)
    }

    static func inspect(_ path: String, _ extra: [String] = []) throws -> [String: Any] {
        let r = try E2E.etrust(["inspect", path, "--json"] + extra)
        try #require(r.status == 0, "inspect \(path): \(r.stderr)")
        try #require(E2E.lines(r.stdout).count == 1)
        return try #require(r.json, "\(r.stdout)")
    }

    static func objects(_ o: [String: Any]) -> [[String: Any]] { o["objects"] as? [[String: Any]] ?? [] }

    /// "Nov 30 07:28:27 2026 GMT" (openssl) -> RFC 3339.
    static func rfc3339(openssl text: String) -> String? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        let squeezed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        guard let d = f.date(from: squeezed) else { return nil }
        let out = ISO8601DateFormatter()
        return out.string(from: d)
    }

    static func value(_ text: String, after prefix: String) -> String? {
        for line in text.split(separator: "\n") {
            let l = line.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix(prefix) { return String(l.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    enum Hex {
        static func sha256(of path: String) throws -> String {
            let out = try InspectTests.openssl(["dgst", "-sha256", "-r", path])
            return String(out.split(separator: " ").first ?? "")
        }
    }

    static func bareHex(_ s: String?) -> String {
        String((s ?? "").lowercased().filter(\.isHexDigit).drop { $0 == "0" })
    }

    @Test("certificates (PEM, DER, a chain), a CSR and a CRL: subject, serial, dates, extensions, fingerprints as openssl prints them")
    func x509Objects() throws {
        let f = try Self.make()
        defer { E2E.cleanUp(f.home) }
        for (path, encoding) in [(f.leaf, "pem"), (f.leafDER, "der")] {
            let o = try Self.inspect(path)
            #expect(o["kind"] as? String == "certificate" && o["encoding"] as? String == encoding)
            let c = try #require(Self.objects(o).first)
            let form = encoding == "der" ? ["-inform", "DER"] : []
            let subject = try Self.openssl(["x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"] + form)
            #expect("subject=\(c["subject"] as? String ?? "")" == subject.trimmingCharacters(in: .whitespacesAndNewlines))
            let serial = try Self.openssl(["x509", "-in", path, "-noout", "-serial"] + form)
            #expect(Self.bareHex(c["serial"] as? String) == Self.bareHex(String(serial.dropFirst("serial=".count))))
            let dates = try Self.openssl(["x509", "-in", path, "-noout", "-startdate", "-enddate"] + form)
            #expect(Self.rfc3339(openssl: Self.value(dates, after: "notBefore=") ?? "") == c["notBefore"] as? String)
            #expect(Self.rfc3339(openssl: Self.value(dates, after: "notAfter=") ?? "") == c["notAfter"] as? String)
            let fp = try Self.openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"] + form)
            #expect(Self.bareHex(String(fp.split(separator: "=").last ?? "")) == Self.bareHex(c["sha256"] as? String))
            let text = try Self.openssl(["x509", "-in", path, "-noout", "-text"] + form)
            let extensions = try #require(c["extensions"] as? [[String: Any]])
            #expect(extensions.count >= 6, "\(extensions)")
            for e in extensions {
                let name = e["name"] as? String ?? "?"
                #expect(text.contains(name + ((e["critical"] as? Bool) == true ? ": critical" : ":")), "openssl does not show \(name)")
            }
            #expect((c["lint"] as? [String]) == [], "\(c["lint"] ?? "")")
        }
        let chain = try Self.inspect(f.chain)
        #expect(chain["kind"] as? String == "chain")
        #expect(Self.objects(chain).compactMap { $0["subject"] as? String } == [E2E.issuingSubject, E2E.rootSubject])

        let csr = try #require(Self.objects(try Self.inspect(f.csr)).first)
        let csrSubject = try Self.openssl(["req", "-in", f.csr, "-noout", "-subject", "-nameopt", "RFC2253"])
        #expect("subject=\(csr["subject"] as? String ?? "")" == csrSubject.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(csr["kind"] as? String == "csr")

        let crl = try #require(Self.objects(try Self.inspect(f.crl)).first)
        let crlText = try Self.openssl(["crl", "-inform", "DER", "-in", f.crl, "-noout", "-issuer", "-lastupdate", "-nextupdate", "-crlnumber",
                                        "-nameopt", "RFC2253"])
        #expect(Self.value(crlText, after: "issuer=") == crl["issuer"] as? String)
        #expect(Self.rfc3339(openssl: Self.value(crlText, after: "lastUpdate=") ?? "") == crl["thisUpdate"] as? String)
        #expect(Self.rfc3339(openssl: Self.value(crlText, after: "nextUpdate=") ?? "") == crl["nextUpdate"] as? String)
        #expect(Self.value(crlText, after: "crlNumber=").flatMap { Int($0.dropFirst(2), radix: 16) } == crl["number"] as? Int)
        let entries = try #require(crl["entries"] as? [[String: Any]])
        let leafSerial = try Self.openssl(["x509", "-in", f.leaf, "-noout", "-serial"])
        #expect(entries.map { Self.bareHex($0["serial"] as? String) } == [Self.bareHex(String(leafSerial.dropFirst("serial=".count)))])
        #expect(entries.first?["reason"] as? String == "keyCompromise")
    }

    @Test("CMS signature, PKCS#12, OCSP request and response, RFC 3161 reply and token: the fields openssl prints")
    func otherObjects() throws {
        let f = try Self.make()
        defer { E2E.cleanUp(f.home) }
        let cms = try #require(Self.objects(try Self.inspect(f.cms)).first)
        #expect(cms["kind"] as? String == "cms" && cms["detached"] as? Bool == false)
        var opensslSubjects: [String] = []
        _ = try Self.openssl(["cms", "-cmsout", "-in", f.cms, "-inform", "PEM", "-outform", "DER", "-out", f.work + "/doc.p7s.der"])
        let printed = try Self.openssl(["pkcs7", "-inform", "DER", "-in", f.work + "/doc.p7s.der", "-print_certs"])
        for (i, pem) in E2E.pemCertificates(printed).enumerated() {
            try E2E.write(pem, to: f.work + "/cms-\(i).pem")
            opensslSubjects.append(try E2E.subject(ofCertificate: f.work + "/cms-\(i).pem"))
        }
        let cmsSubjects = (cms["certificates"] as? [[String: Any]] ?? []).compactMap { $0["subject"] as? String }
        #expect(!cmsSubjects.isEmpty && cmsSubjects == opensslSubjects)
        let signer = try #require((cms["signers"] as? [[String: Any]])?.first)
        let leafSerial = try Self.openssl(["x509", "-in", f.leaf, "-noout", "-serial"])
        #expect(Self.bareHex(signer["serial"] as? String) == Self.bareHex(String(leafSerial.dropFirst("serial=".count))))

        let p12 = try #require(Self.objects(try Self.inspect(f.p12, ["--p12-password-file", f.work + "/p12pass"])).first)
        let p12Cert = try Self.openssl(["pkcs12", "-in", f.p12, "-nokeys", "-clcerts", "-passin", "file:" + f.work + "/p12pass"])
        try E2E.write(p12Cert, to: f.work + "/p12-cert.pem")
        let certificate = try #require(p12["certificate"] as? [String: Any])
        #expect(try E2E.subject(ofCertificate: f.work + "/p12-cert.pem") == certificate["subject"] as? String)
        #expect(p12["key"] as? String == "EC P-256")
        let noPassword = try E2E.etrust(["inspect", f.p12, "--json"])
        #expect(noPassword.status == 2 && noPassword.json?["category"] as? String == "usage")

        let request = try #require(Self.objects(try Self.inspect(f.ocspRequest)).first)
        let requestText = try Self.openssl(["ocsp", "-reqin", f.ocspRequest, "-req_text"])
        let requested = try #require((request["requests"] as? [[String: Any]])?.first)
        #expect(Self.bareHex(Self.value(requestText, after: "Serial Number:")) == Self.bareHex(requested["serial"] as? String))
        #expect(request["nonce"] as? Bool == false)

        let response = try #require(Self.objects(try Self.inspect(f.ocspResponse)).first)
        let responseText = try Self.openssl(["ocsp", "-respin", f.ocspResponse, "-resp_text", "-noverify"])
        #expect(Self.value(responseText, after: "OCSP Response Status:")?.hasPrefix(response["status"] as? String ?? "?") == true)
        let single = try #require((response["responses"] as? [[String: Any]])?.first)
        #expect(Self.value(responseText, after: "Cert Status:") == single["status"] as? String)
        #expect(Self.bareHex(Self.value(responseText, after: "Serial Number:")) == Self.bareHex(single["serial"] as? String))
        #expect(Self.rfc3339(openssl: Self.value(responseText, after: "Produced At:") ?? "") == response["producedAt"] as? String)

        for (path, kind, args) in [(f.tsr, "timestamp-response", [String]()), (f.token, "timestamp-token", ["-token_in"])] {
            let o = try #require(Self.objects(try Self.inspect(path)).first)
            #expect(o["kind"] as? String == kind)
            let text = try Self.openssl(["ts", "-reply", "-in", path, "-text"] + args)
            #expect(Self.value(text, after: "Policy OID:") == o["policy"] as? String)
            #expect(Self.bareHex(Self.value(text, after: "Serial number:")) == Self.bareHex(o["serial"] as? String))
            #expect(Self.rfc3339(openssl: Self.value(text, after: "Time stamp:") ?? "") == o["genTime"] as? String)
            #expect(Self.value(text, after: "Hash Algorithm:") == "sha256" && o["hashAlgorithm"] as? String == "2.16.840.1.101.3.4.2.1")
            #expect(o["messageImprint"] as? String == (try Hex.sha256(of: f.work + "/doc.txt")))
        }
    }
}
