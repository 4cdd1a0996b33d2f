import ETrustTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The validation API of etrust-ocspd (issue #16): for the own-CA validation cases, the verdict of
/// POST /verify/certificate and /verify/signature is the CLI's `--json` verdict, field for field;
/// limits and refusals; the server checked against docs/openapi.yaml.
@Suite("OwnCA: the validation API answers the CLI's verdicts", .serialized)
struct OwnCAAPITests {
    let pki: OwnCAPKI
    init() throws { pki = try OwnCAPKI.get() }

    /// etrust-ocspd --verify-api over the shared home, on an ephemeral port read from its log.
    final class APIServer {
        let process = Process()
        let log: String
        private(set) var port = 0

        init(home: String, work: String, extra: [String] = []) throws {
            log = work + "/api-\(UUID().uuidString.prefix(6)).log"
            let ocspd = ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString).appendingPathComponent("etrust-ocspd")
            process.executableURL = URL(fileURLWithPath: ocspd)
            process.arguments = ["--home", home, "--listen", "127.0.0.1:0", "--verify-api", "--log-level", "notice"] + extra
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "ETRUST_HOME")
            env.removeValue(forKey: "ETRUST_PASSPHRASE")
            env["ETRUST_SIGNER_PASSPHRASE"] = "test-passphrase"
            process.environment = env
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let deadline = Date().addingTimeInterval(15)
            while port == 0 && Date() < deadline && process.isRunning {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    port = Int(text[range].split(separator: ":").last ?? "") ?? 0
                }
                usleep(50_000)
            }
            if port == 0 { stop(); throw OwnCA.Failure("etrust-ocspd --verify-api did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        }

        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }

        /// POSTs `body` with curl: (HTTP status, the body parsed as a JSON object when it is one).
        func post(_ path: String, _ body: [UInt8], work: String, headers: [String] = []) throws -> (status: Int, json: [String: Any]?) {
            let name = UUID().uuidString.prefix(8)
            let input = work + "/req-\(name).json", output = work + "/resp-\(name).json"
            try Data(body).write(to: URL(fileURLWithPath: input))
            defer { unlink(input); unlink(output) }
            var args = ["-s", "-o", output, "-w", "%{http_code}", "-H", "Content-Type: application/json", "--max-time", "30"]
            for h in headers { args += ["-H", h] }
            let r = try TestSupport.run("/usr/bin/curl", args + ["--data-binary", "@" + input, "http://127.0.0.1:\(port)\(path)"])
            let data = (try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data()
            return (Int(r.stdout) ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any])
        }

        func post(_ path: String, json: [String: Any], work: String) throws -> (status: Int, json: [String: Any]?) {
            try post(path, [UInt8](try JSONSerialization.data(withJSONObject: json)), work: work)
        }
    }

    /// A verdict as canonical JSON text (sorted keys): equal verdicts, equal texts.
    static func canonical(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func base64(_ path: String) throws -> String { try Data(contentsOf: URL(fileURLWithPath: path)).base64EncodedString() }

    /// The API body for the CLI's options (the same case, said in JSON).
    static func body(_ arguments: [String]) throws -> [String: Any] {
        var o: [String: Any] = [:]
        var i = 0
        func append(_ key: String, _ value: Any) { o[key] = ((o[key] as? [Any]) ?? []) + [value] }
        while i < arguments.count {
            let a = arguments[i], v = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch a {
            case "--crl": append("crls", try base64(v)); i += 2
            case "--intermediate": append("intermediates", try base64(v)); i += 2
            case "--policy": append("policies", v); i += 2
            case "--purpose": append("purpose", v); i += 2
            case "--revocation": o["revocation"] = v; i += 2
            case "--at": o["time"] = v; i += 2
            case "--min-assurance": o["minimumAssurance"] = v; i += 2
            case "--hostname": o["hostname"] = v; i += 2
            case "--content": o["content"] = try base64(v); i += 2
            case "--require-explicit-policy": o["requireExplicitPolicy"] = true; i += 1
            case "--inhibit-any-policy": o["inhibitAnyPolicy"] = true; i += 1
            default: throw OwnCA.Failure("no API field for \(a)")
            }
        }
        return o
    }

    /// The cases of the own-CA validation tests (OwnCAVerifyTests): certificate and CLI options.
    var cases: [(String, String, [String])] {
        let bothCRLs = ["--crl", pki.issuingCRL, "--crl", pki.rootCRL]
        let shards = pki.shardCRLs.flatMap { ["--crl", $0] } + ["--crl", pki.rootCRL, "--revocation", "crl"]
        return [
            ("good path", pki.auth.path, []),
            ("wrong purpose", pki.auth.path, ["--purpose", "tls-server"]),
            ("citizen-signing", pki.signing.path, []),
            ("tls-server with its name", pki.tls.path, ["--purpose", "tls-server", "--hostname", "www.example.tg"]),
            ("tls-server with another name", pki.tls.path, ["--purpose", "tls-server", "--hostname", "other.example.tg"]),
            ("crl good", pki.auth.path, bothCRLs + ["--revocation", "crl"]),
            ("crl revoked", pki.authRevoked.path, bothCRLs + ["--revocation", "crl"]),
            ("crl-or-ocsp revoked", pki.authRevoked.path, bothCRLs + ["--revocation", "crl-or-ocsp"]),
            ("crl missing", pki.auth.path, ["--crl", pki.issuingCRL, "--revocation", "crl"]),
            ("crl stale", pki.auth.path, bothCRLs + ["--revocation", "crl", "--at", OwnCA.rfc3339(Date().addingTimeInterval(8 * 86400))]),
            ("delta crl", pki.authLate.path, bothCRLs + ["--crl", pki.issuingDelta, "--revocation", "crl"]),
            ("shard good", pki.shardGood.path, shards),
            ("shard revoked", pki.shardRevoked.path, shards),
            ("expired", pki.auth.path, ["--at", OwnCA.rfc3339(pki.auth.notAfter.addingTimeInterval(86400))]),
            ("not yet valid", pki.auth.path, ["--at", OwnCA.rfc3339(pki.auth.notBefore.addingTimeInterval(-86400))]),
            ("policy not acceptable", pki.auth.path, ["--policy", "2.5.29.32.99", "--require-explicit-policy"]),
            ("policy acceptable", pki.auth.path, ["--policy", OwnCA.authPolicy, "--require-explicit-policy"]),
            ("inhibit any policy", pki.auth.path, ["--inhibit-any-policy", "--require-explicit-policy"]),
            ("no policies", pki.responder.path, []),
            ("assurance too low", pki.auth.path, ["--min-assurance", "high"]),
            ("assurance met", pki.signing.path, ["--min-assurance", "high"]),
        ]
    }

    @Test("one table, both routes: the API's verdict equals `etrust verify --json` / `verify-signature --json` for every own-CA case")
    func sameVerdicts() throws {
        let server = try APIServer(home: pki.home, work: pki.work)
        defer { server.stop() }
        var rows = 0
        for (name, certificate, options) in cases {
            let cli = try OwnCA.etrust(["verify", certificate, "--home", pki.home, "--json"] + options, in: pki.work)
            let expected = try #require(cli.json, "\(name): the CLI printed \(cli.stdout) \(cli.stderr)")
            var body = try Self.body(options)
            body["certificate"] = try Self.base64(certificate)
            let api = try server.post("/verify/certificate", json: body, work: pki.work)
            #expect(api.status == 200, "\(name): \(api)")
            #expect(try Self.canonical(api.json ?? [:]) == Self.canonical(expected), "\(name):\n CLI \(expected)\n API \(api.json ?? [:])")
            rows += 1
        }
        // Signatures: a detached signature by the citizen-signing certificate.
        let doc = pki.work + "/api-doc.txt", sig = pki.work + "/api-doc.p7s"
        try "Je consens.".write(toFile: doc, atomically: true, encoding: .utf8)
        try OwnCA.mustEtrust(["sign", "--cert", pki.signing.path, "--key", pki.work + "/signing.key", "--in", doc, "--out", sig, "--detached"],
                             in: pki.work)
        let bothCRLs = ["--crl", pki.issuingCRL, "--crl", pki.rootCRL]
        for options in [["--revocation", "none"], bothCRLs + ["--revocation", "crl"], ["--revocation", "none", "--min-assurance", "high"],
                        ["--revocation", "none", "--purpose", "tls-server"]] {
            let cli = try OwnCA.etrust(["verify-signature", "--signature", sig, "--content", doc, "--home", pki.home, "--json"] + options, in: pki.work)
            let expected = try #require(cli.json, "the CLI printed \(cli.stdout) \(cli.stderr)")
            var body = try Self.body(options + ["--content", doc])
            body["signature"] = try Self.base64(sig)
            let api = try server.post("/verify/signature", json: body, work: pki.work)
            #expect(api.status == 200, "\(options): \(api)")
            #expect(try Self.canonical(api.json ?? [:]) == Self.canonical(expected), "\(options):\n CLI \(expected)\n API \(api.json ?? [:])")
            rows += 1
        }
        // The document's digest instead of the document: the same verdict as the CLI's with the document.
        let digest = try OwnCA.mustOpenSSL(["dgst", "-sha256", "-r", doc]).stdout.split(separator: " ").first.map(String.init) ?? ""
        let withDocument = try #require(try OwnCA.etrust(["verify-signature", "--signature", sig, "--content", doc, "--home", pki.home,
                                                          "--revocation", "none", "--json"], in: pki.work).json)
        let byDigest = try server.post("/verify/signature", json: ["signature": try Self.base64(sig), "contentDigest": digest, "revocation": "none"],
                                       work: pki.work)
        #expect(byDigest.status == 200, "\(byDigest)")
        #expect(try Self.canonical(byDigest.json ?? [:]) == Self.canonical(withDocument), "\(byDigest.json ?? [:])\n\(withDocument)")
        let otherDigest = try server.post("/verify/signature", json: ["signature": try Self.base64(sig), "contentDigest": String(repeating: "ab", count: 32),
                                                                      "revocation": "none"], work: pki.work)
        #expect(otherDigest.json?["valid"] as? Bool == false && otherDigest.json?["errorCode"] as? String == "signature_invalid", "\(otherDigest)")
        // The content changed: signature_invalid on both routes.
        var tampered = try Self.body(["--revocation", "none"])
        tampered["signature"] = try Self.base64(sig)
        tampered["content"] = Data("Je refuse.".utf8).base64EncodedString()
        let refused = try server.post("/verify/signature", json: tampered, work: pki.work)
        #expect(refused.status == 200 && refused.json?["valid"] as? Bool == false && refused.json?["errorCode"] as? String == "signature_invalid",
                "\(refused)")
        #expect(rows == cases.count + 4)
    }

    @Test("refusals: anchors in the request, malformed JSON, unknown fields, undecodable fields (400 with a message); an oversize body 413 before it is read; too many intermediates 400")
    func refusals() throws {
        let server = try APIServer(home: pki.home, work: pki.work, extra: ["--verify-max-body", "65536"])
        defer { server.stop() }
        let cert = try Self.base64(pki.auth.path)
        for field in ["anchors", "trustAnchors", "anchor"] {
            let r = try server.post("/verify/certificate", json: ["certificate": cert, field: [try Self.base64(pki.root)]], work: pki.work)
            #expect(r.status == 400, "\(field): \(r)")
            #expect((r.json?["error"] as? String)?.contains("never from the request") == true, "\(r)")
        }
        let malformed = try server.post("/verify/certificate", Array("{\"certificate\": ".utf8), work: pki.work)
        #expect(malformed.status == 400 && (malformed.json?["error"] as? String)?.contains("JSON") == true, "\(malformed)")
        let unknown = try server.post("/verify/certificate", json: ["certificate": cert, "colour": "blue"], work: pki.work)
        #expect(unknown.status == 400 && (unknown.json?["error"] as? String)?.contains("colour") == true, "\(unknown)")
        let garbage = try server.post("/verify/certificate", json: ["certificate": "!!!"], work: pki.work)
        #expect(garbage.status == 400 && (garbage.json?["error"] as? String)?.isEmpty == false, "\(garbage)")
        let missing = try server.post("/verify/signature", json: [:], work: pki.work)
        #expect(missing.status == 400 && (missing.json?["error"] as? String)?.contains("signature") == true, "\(missing)")
        let many = try server.post("/verify/certificate", json: ["certificate": cert, "intermediates": Array(repeating: try Self.base64(pki.issuing), count: 9)],
                                   work: pki.work)
        #expect(many.status == 400, "\(many)")
        // 413: refused on its Content-Length, before the body is read.
        let big = [UInt8](repeating: 0x20, count: 70_000)
        let tooLarge = try server.post("/verify/certificate", big, work: pki.work)
        #expect(tooLarge.status == 413, "\(tooLarge)")
        // The server still answers.
        let ok = try server.post("/verify/certificate", json: ["certificate": cert], work: pki.work)
        #expect(ok.status == 200 && ok.json?["valid"] as? Bool == true, "\(ok)")
    }

    @Test("docs/openapi.yaml: every path and method it documents is answered, with the documented status and every required field of the documented schema")
    func openAPI() throws {
        let yaml = TestSupport.packageRoot + "/docs/openapi.yaml"
        let converted = try TestSupport.run("/usr/bin/python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", yaml])
        try #require(converted.status == 0, "python3-yaml reads docs/openapi.yaml: \(converted.stderr)")
        let doc = try #require(converted.json, "\(converted.stdout)")
        #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        func schema(_ ref: Any?) -> [String: Any]? {
            guard let r = (ref as? [String: Any])?["$ref"] as? String else { return ref as? [String: Any] }
            return schemas[String(r.split(separator: "/").last ?? "")]
        }
        let server = try APIServer(home: pki.home, work: pki.work)
        defer { server.stop() }
        let requests: [String: [String: Any]] = [
            "/verify/certificate": ["certificate": try Self.base64(pki.auth.path)],
            "/verify/signature": ["signature": try Self.base64(try signature()), "content": Data("x".utf8).base64EncodedString(), "revocation": "none"],
        ]
        #expect(Set(paths.keys) == Set(requests.keys), "documented: \(paths.keys.sorted())")
        for (path, methods) in paths {
            for (method, operation) in methods {
                #expect(method == "post", "\(path) \(method)")
                let op = try #require(operation as? [String: Any])
                let responses = try #require(op["responses"] as? [String: Any])
                let body = try #require(requests[path])
                let ok = try server.post(path, json: body, work: pki.work)
                #expect(ok.status == 200, "\(path): \(ok)")
                let okSchema = schema((((responses["200"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"])
                let required = try #require(okSchema?["required"] as? [String], "\(path): no schema for 200")
                for field in required { #expect(ok.json?[field] != nil, "\(path): 200 lacks \(field): \(ok.json ?? [:])") }
                let documented = Set(((okSchema?["properties"] as? [String: Any]) ?? [:]).keys)
                for field in (ok.json ?? [:]).keys { #expect(documented.contains(field), "\(path): \(field) is not documented") }
                #expect(responses["400"] != nil && responses["413"] != nil)
                let bad = try server.post(path, Array("not json".utf8), work: pki.work)
                #expect(bad.status == 400 && bad.json?["error"] is String, "\(path): \(bad)")
            }
        }
    }

    /// A detached signature by the citizen-signing certificate (DER file).
    func signature() throws -> String {
        let doc = pki.work + "/openapi-doc.txt", sig = pki.work + "/openapi-doc.p7s"
        try "x".write(toFile: doc, atomically: true, encoding: .utf8)
        try OwnCA.mustEtrust(["sign", "--cert", pki.signing.path, "--key", pki.work + "/signing.key", "--in", doc, "--out", sig, "--detached", "--der"],
                             in: pki.work)
        return sig
    }
}
