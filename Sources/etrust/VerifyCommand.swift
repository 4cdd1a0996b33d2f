import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustPolicy
import ETrustValidation
import Foundation

/// The trust inputs shared by `verify` and (later) `verify-signature`.
struct TrustOptions: ParsableArguments {
    @Option(help: "A trust anchor (PEM bundle or DER); repeatable. Default: the home's root CAs.") var anchor: [String] = []
    @Option(help: "An untrusted intermediate certificate (PEM bundle or DER); repeatable.") var intermediate: [String] = []
    @Option(help: "A CRL (PEM or DER); repeatable. Every CRL given is used.") var crl: [String] = []
    @Option(help: "A signed trust list (etrust JSON or ETSI TS 119 612 XML): anchors and assurance levels from it only.") var trustList: String?
    @Option(help: "The trust list signer's certificate (or the CA certificate that issued it).") var trustListSigner: String?
    @Option(help: "An acceptable certificate policy OID (user-initial-policy-set); repeatable. Default {anyPolicy}.") var policy: [String] = []
    @Flag(help: "initial-explicit-policy (RFC 5280 6.1.1).") var requireExplicitPolicy = false
    @Flag(help: "initial-policy-mapping-inhibit.") var inhibitPolicyMapping = false
    @Flag(help: "initial-any-policy-inhibit.") var inhibitAnyPolicy = false
    @Option(help: "any, tls-server, tls-client, email, code-signing, document-signing, ocsp-signing, timestamping; repeatable (valid for each).")
    var purpose: [String] = []
    @Option(help: "An extendedKeyUsage the leaf must list (OID or serverAuth, clientAuth, ...); repeatable.") var eku: [String] = []
    @Option(help: "A keyUsage bit the leaf must allow (digitalSignature, keyEncipherment, ...); repeatable.") var keyUsage: [String] = []
    @Option(help: "At most N intermediate certificates between the leaf and the anchor (default 8).") var maxChainDepth: Int = 8
    @Option(help: "rfc5280, webpki or none (default: webpki for tls-server/tls-client, rfc5280 otherwise).") var profileChecks: String?
    @Flag(help: "Do not use the home's CA certificates as intermediates.") var noHomeIntermediates = false
    @Option(help: "The DNS name the certificate must match.") var hostname: String?
    @Option(help: "The e-mail address the certificate must match.") var email: String?
    @Option(help: "The IP address the certificate must match.") var ip: String?
    @Option(help: "Validate at time T (RFC 3339; default now).") var at: String?
    @Option(help: "none, crl, ocsp or crl-or-ocsp (default: none for verify, crl-or-ocsp for verify-signature).") var revocation: String?
    @Option(help: "OCSP responder URL (overrides the certificates' AIA).") var ocspUrl: String?
    @Option(help: "A saved or stapled OCSP response (DER); repeatable.") var ocspResponse: [String] = []
    @Flag(help: "Fetch missing issuers from the certificates' AIA caIssuers URLs (http only, bounded).") var fetchIssuers = false
    @Option(help: "Require a policy mapped to low, substantial or high (or higher).") var minAssurance: String?

    func request(defaultRevocation: RevocationMode = .none) throws -> ValidationRequest {
        var r = ValidationRequest()
        r.parameters.policies = policy
        for p in policy where p.split(separator: ".").count < 2 || !p.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            throw ETrustError.badInput("'\(p)' is not a policy OID", code: .invalidArgument)
        }
        r.parameters.requireExplicitPolicy = requireExplicitPolicy
        r.parameters.inhibitPolicyMapping = inhibitPolicyMapping
        r.parameters.inhibitAnyPolicy = inhibitAnyPolicy
        let purposes = try purpose.map { try Purpose(parsing: $0) }
        r.parameters.purpose = purposes.first ?? .any
        r.parameters.morePurposes = Array(purposes.dropFirst())
        try requirements(&r.parameters)
        r.parameters.hostname = hostname
        r.parameters.email = email
        r.parameters.ip = ip
        r.parameters.time = try at.map { try RFC3339.parse($0) }
        r.revocation = try revocation.map { try RevocationMode(parsing: $0) } ?? defaultRevocation
        r.ocspURL = ocspUrl
        r.ocspResponses = try ocspResponse.map { path in
            let bytes = try InputFile.read(path)
            return try InputFile.derBlocks(bytes, labels: ["OCSP RESPONSE"], what: path)[0]
        }
        r.fetchIssuers = fetchIssuers
        r.minimumAssurance = try minAssurance.map { try AssuranceLevel(parsing: $0) }
        return r
    }

    /// --eku, --key-usage, --max-chain-depth and --profile-checks.
    private func requirements(_ p: inout PathParameters) throws {
        p.requiredExtendedKeyUsages = try eku.map { name in
            guard let oid = ExtendedKeyUsage.oid(name) else {
                throw ETrustError.badInput("'\(name)' is neither an extended key usage name nor an OID", code: .invalidArgument)
            }
            return oid
        }
        p.requiredKeyUsage = Set(try keyUsage.map { name in
            guard let bit = KeyUsageBit(name: name) else {
                throw ETrustError.badInput("unknown key usage '\(name)' (\(KeyUsageBit.allCases.map(\.name).joined(separator: ", ")))",
                                           code: .invalidArgument)
            }
            return bit
        })
        guard (0...32).contains(maxChainDepth) else {
            throw ETrustError.badInput("--max-chain-depth must be between 0 and 32", code: .invalidArgument)
        }
        p.maxChainDepth = maxChainDepth
        p.profileChecks = try profileChecks.map { try ProfileChecks(parsing: $0) }
    }

    /// Anchors, intermediates and CRLs read from their files (or the home's roots, or a verified
    /// trust list). `leaf` and `time` decide whether a withdrawn authority still counts.
    func validator(homePath: String?, leaf: Certificate? = nil, time: Date? = nil) throws -> (Validator, [String: AssuranceLevel], [String: [String: AssuranceLevel]]?) {
        var byAnchor: [String: [String: AssuranceLevel]]? = nil
        var anchors: [Certificate] = []
        var levels: [String: AssuranceLevel] = [:]
        if trustList != nil || trustListSigner != nil {
            guard let trustList, let trustListSigner else {
                throw ETrustError.badInput("--trust-list and --trust-list-signer go together", code: .invalidArgument)
            }
            guard anchor.isEmpty else { throw ETrustError.badInput("--trust-list takes its anchors from the list only; drop --anchor", code: .invalidArgument) }
            let signer = try Certificate(bytes: try InputFile.read(trustListSigner), what: trustListSigner)
            let now = Date()
            let verified = try SignedTrustList.verifyAny(try InputFile.readLarge(trustList), signerCertificate: signer, at: now, what: trustList)
            let at = time ?? now
            for a in verified.list.authorities where a.status != "suspended" {
                // Withdrawn: no longer an anchor from the withdrawal on, nor for anything issued after it.
                if let w = a.withdrawnAt, at >= w || (leaf.map { $0.notBefore >= w } ?? false) { continue }
                anchors.append(try a.caCertificate())
            }
            byAnchor = verified.list.assuranceLevelsByAuthority
            guard !anchors.isEmpty else {
                throw ETrustError.refused("the trust list recognises no authority at \(RFC3339.format(at))", code: .notFound)
            }
        } else {
            for path in anchor { anchors += try Certificate.all(bytes: try InputFile.read(path), what: path) }
        }
        let home = homePath.flatMap { try? Home.open($0) }
        if anchors.isEmpty {
            guard let home else {
                throw ETrustError.badInput("no trust anchor: give --anchor FILE (or --home with root CAs)", code: .invalidArgument)
            }
            anchors = try HomeTrust.roots(try Authority(home: home, passphrase: { [] }))
            guard !anchors.isEmpty else { throw ETrustError.badInput("the home has no root CA to trust; give --anchor FILE", code: .invalidArgument) }
        }
        if trustList == nil, let home, let profiles = try? home.loadProfiles() { levels = HomeTrust.levels(profiles) }
        var intermediates: [Certificate] = []
        for path in intermediate { intermediates += try Certificate.all(bytes: try InputFile.read(path), what: path) }
        // Inside a home, its subordinate CAs are candidate issuers too (the path builder tries them).
        if let home, !noHomeIntermediates, let subordinates = try? HomeTrust.subordinates(Authority(home: home, passphrase: { [] })) {
            intermediates += subordinates.filter { !intermediates.contains($0) }
        }
        var crls: [CertificateRevocationList] = []
        for path in crl {
            let bytes = try InputFile.readLarge(path)
            for der in try InputFile.derBlocks(bytes, labels: ["X509 CRL"], what: path) { crls.append(try CertificateRevocationList(der: der, what: path)) }
        }
        return (try Validator(anchors: anchors, intermediates: intermediates, crls: crls), levels, byAnchor)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a certificate (RFC 5280 path, purpose, names, policies, revocation); exit 0 valid, 1 not.")
    @Argument(help: "The certificate (PEM or DER).") var certificate: String
    @OptionGroup var trust: TrustOptions
    @Option(name: .long, help: "The CA home whose root CAs and profile assurance levels are used by default.") var home: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "A biometric sample TYPE=FILE to match against the certificate's biometricInfo hash (repeatable); exit 1 when one does not match.")
    var biometric: [String] = []
    @Option(help: .hidden) var benchmarkRepeat: Int?

    func run() throws {
        let cert = try Certificate(bytes: try InputFile.read(certificate), what: certificate)
        var request = try trust.request()
        let homePath = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? (FileManager.default.fileExists(atPath: "./etrust-home/etrust.yaml") ? "./etrust-home" : nil)
        let (validator, levels, byAnchor) = try trust.validator(homePath: homePath, leaf: cert, time: request.parameters.time)
        request.assuranceLevels = levels
        request.assuranceLevelsByAnchor = byAnchor
        if let n = benchmarkRepeat {
            // Tools/bench-verify.sh: N validations through the library with one Validator, one thread.
            let start = DispatchTime.now()
            var valid = 0
            for _ in 0..<n where try validator.validate(cert, request).valid { valid += 1 }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            print("\(valid)/\(n) valid in \(String(format: "%.3f", seconds)) s: \(Int(Double(n) / seconds))/s")
            return
        }
        let verdict = try validator.validate(cert, request).verdict
        let samples = try BiometricSample.check(biometric, against: cert)
        let samplesMatch = samples.allSatisfy { $0["matches"] as? Bool == true }
        if json {
            var o = verdict.json
            if !samples.isEmpty { o["biometric"] = samples; o["biometricMatch"] = samplesMatch }
            try Output.json(o)
        } else {
            verdict.lines.forEach { print($0) }
            for s in samples {
                let verdict = s["present"] as? Bool != true ? "no such biometricInfo entry" : s["matches"] as? Bool == true ? "matches" : "DOES NOT MATCH"
                print("biometric \(s["type"]!): \(verdict)")
            }
        }
        if !verdict.valid || !samplesMatch { throw ExitCode(1) }
    }
}
