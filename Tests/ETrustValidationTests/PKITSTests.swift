import ETrustTestSupport
import Foundation
import Testing

/// NIST PKITS through `etrust verify` (issue #5): every case of PKITSCases.all, with the anchor
/// TrustAnchorRootCertificate, the case's intermediates and CRLs (plus TrustAnchorRootCRL),
/// `--revocation crl` and a fixed time inside the certificates' validity.
enum PKITSData {
    /// x509/PKITS_data of the `cryptography-vectors` package in the test venv (Tools/test.sh installs it).
    static let directory: Swift.Result<String, PKITSDataError> = {
        let python = TestSupport.venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(PKITSDataError(message: "no python in the test venv \(TestSupport.venv); run Tools/test.sh"))
        }
        let script = "import cryptography_vectors, os; print(os.path.dirname(cryptography_vectors.__file__))"
        guard let r = try? TestSupport.run(python, ["-c", script]), r.status == 0 else {
            return .failure(PKITSDataError(message: "cryptography-vectors is not installed in \(TestSupport.venv)"))
        }
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/x509/PKITS_data"
        guard FileManager.default.fileExists(atPath: dir + "/certs/TrustAnchorRootCertificate.crt") else {
            return .failure(PKITSDataError(message: "no PKITS data at \(dir)"))
        }
        return .success(dir)
    }()

    static func cert(_ dir: String, _ name: String) -> String { "\(dir)/certs/\(name).crt" }
    static func crl(_ dir: String, _ name: String) -> String { "\(dir)/crls/\(name).crl" }

    /// The validation time: PKITS certificates are valid from 2010 to 2030.
    static let time = "2020-01-01T00:00:00Z"
}

struct PKITSDataError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// What etrust said about one case.
struct PKITSOutcome {
    let status: Int32
    let valid: Bool?
    /// The JSON errorCode ("ok" when valid), or "exit N" when etrust printed no verdict.
    let errorCode: String
    let reason: String
    let policies: [String]
    let stderr: String

    /// nil when etrust agrees with PKITS, otherwise what differs.
    func problem(for c: PKITSCase) -> String? {
        let want: Int32 = c.expected == .valid ? 0 : 1
        guard let valid else {
            return "exit \(status) without a JSON verdict: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
        if status != want || valid != (c.expected == .valid) {
            return "expected \(c.expected.rawValue), etrust says \(valid ? "valid" : "invalid") (exit \(status), \(errorCode): \(reason))"
        }
        if c.expected == .valid && Set(policies) != Set(c.validPolicies) {
            return "valid, but for policies \(policies.sorted()) instead of \(c.validPolicies.sorted())"
        }
        return nil
    }
}

@Suite("NIST PKITS conformance of etrust verify")
struct PKITSTests {
    /// PKITS tests the path validation algorithm of RFC 5280 section 6, so it runs with
    /// `--profile-checks none` (its certificates break MUSTs of section 4 that the default
    /// profile layer enforces: see `strictProfile`).
    static func run(_ c: PKITSCase, dir: String, profileChecks: String = "none") throws -> PKITSOutcome {
        var args = ["verify", PKITSData.cert(dir, c.endEntity), "--anchor", PKITSData.cert(dir, "TrustAnchorRootCertificate")]
        for i in c.intermediates { args += ["--intermediate", PKITSData.cert(dir, i)] }
        for crl in ["TrustAnchorRootCRL"] + c.crls { args += ["--crl", PKITSData.crl(dir, crl)] }
        for p in c.initialPolicies { args += ["--policy", p] }
        if c.explicitPolicy { args.append("--require-explicit-policy") }
        if c.policyMappingInhibit { args.append("--inhibit-policy-mapping") }
        if c.anyPolicyInhibit { args.append("--inhibit-any-policy") }
        args += ["--revocation", "crl", "--at", PKITSData.time, "--profile-checks", profileChecks, "--json"]
        let r = try TestSupport.etrust(args, passphrase: nil)
        let json = r.json
        return PKITSOutcome(status: r.status, valid: json?["valid"] as? Bool, errorCode: json?["errorCode"] as? String ?? "exit \(r.status)",
                            reason: json?["reason"] as? String ?? "", policies: json?["policies"] as? [String] ?? [],
                            stderr: r.stderr)
    }

    @Test("PKITS case", arguments: PKITSCases.all)
    func pkitsCase(_ c: PKITSCase) throws {
        let dir = try PKITSData.directory.get()
        let outcome = try Self.run(c, dir: dir)
        let problem = outcome.problem(for: c)
        if let known = PKITSCases.knownFailures[c.id] {
            print("PKITS \(c.testDescription): known failure: \(known)")
            #expect(problem != nil, "PKITS \(c.testDescription) now passes: remove it from PKITSCases.knownFailures")
            let listedCode = String(known.prefix { $0 != ":" })
            if problem != nil {
                #expect(listedCode == outcome.errorCode,
                        "PKITS \(c.testDescription) fails differently than listed: \(problem ?? "")")
            }
        } else {
            #expect(problem == nil, "PKITS \(c.testDescription): \(problem ?? "")")
        }
    }

    @Test("every PKITS row passes: no known failures left")
    func noKnownFailures() {
        #expect(PKITSCases.knownFailures.isEmpty)
        #expect(PKITSCases.all.count == 247)
    }

    /// Under the default `rfc5280` profile layer, the PKITS paths whose CA certificates break
    /// section 4 (a non-critical basicConstraints in 4.6.4, non-critical policyConstraints in
    /// the policy tests) are refused for exactly that, and nothing PKITS calls invalid turns valid.
    @Test("PKITS under the rfc5280 profile layer: refused only for section 4 violations of its certificates")
    func strictProfile() throws {
        let dir = try PKITSData.directory.get()
        var refused: [String: String] = [:]
        for c in PKITSCases.all {
            let o = try Self.run(c, dir: dir, profileChecks: "rfc5280")
            if c.expected == .invalid {
                #expect(o.valid == false, "\(c.testDescription) turned valid under the profile layer")
            } else if o.valid != true {
                refused[c.id] = o.errorCode
            }
        }
        #expect(refused["4.6.4"] == "ca_bcons_not_critical")
        #expect(refused["4.8.6-1"] == "invalid_policy_extension")
        #expect(Set(refused.values).isSubset(of: ["ca_bcons_not_critical", "invalid_policy_extension"]), "\(refused)")
    }

    @Test("the PKITS table covers every end-entity certificate and names only files that exist")
    func tableIsComplete() throws {
        let dir = try PKITSData.directory.get()
        let fm = FileManager.default
        let ids = PKITSCases.all.map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate PKITS ids")
        for c in PKITSCases.all {
            for name in [c.endEntity] + c.intermediates {
                #expect(fm.fileExists(atPath: PKITSData.cert(dir, name)), "\(c.id): no certs/\(name).crt")
            }
            for name in c.crls { #expect(fm.fileExists(atPath: PKITSData.crl(dir, name)), "\(c.id): no crls/\(name).crl") }
        }
        let endEntities = Set(try fm.contentsOfDirectory(atPath: dir + "/certs").filter { $0.hasSuffix("EE.crt") }
            .map { String($0.dropLast(4)) })
        let covered = Set(PKITSCases.all.map(\.endEntity))
        #expect(endEntities.subtracting(covered).isEmpty, "end-entity certificates without a case: \(endEntities.subtracting(covered).sorted())")
        for id in PKITSCases.knownFailures.keys { #expect(ids.contains(id), "knownFailures lists \(id), which is no case") }
        // 224 PKITS tests of 4.1 to 4.16; 4.8, 4.10 and 4.12.3 add sub-parts.
        #expect(Set(PKITSCases.all.map(\.number)).count == 224)
    }
}
