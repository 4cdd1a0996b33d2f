import ETrustCore
import ETrustTestSupport
import ETrustValidation
import Foundation

/// The rule tables of ProfileRuleTests.
enum ProfileRuleTables {
    static let sanOID = ExtensionOID.subjectAltName, ekuOID = ExtensionOID.extendedKeyUsage

    static let rfc5280: [RuleCase] = [
        R.rule("4.1.2.2 serial number not zero", "invalid_serial_number", R.leaf { $0.serial = [0] }),
        R.rule("4.1.2.2 serial number at most 20 octets", "invalid_serial_number", R.leaf { $0.serial = [0x01] + [UInt8](repeating: 7, count: 20) }),
        R.rule("4.1.2.5.2 no fractional seconds", "error_in_cert_not_after_field") { broken in
            let pki = try TestPKI.chain()
            var s = RuleSetup(pki)
            if broken { s.leaf = try TestPKI.fractionalNotAfter(pki.leaf, issuer: pki.intermediate).certificate }
            return s
        },
        R.rule("4.2.2.1 authorityInfoAccess parses", "invalid_extension", R.leaf {
            $0.set(ExtensionOID.authorityInfoAccess, R.ext(ExtensionOID.authorityInfoAccess, critical: false, [0x30, 0x03, 0x02, 0x01, 0x00]))
        }),
        R.rule("4.2.1.12 extendedKeyUsage not empty", "invalid_extension", R.leaf(.any) { $0.set(ekuOID, R.ext(ekuOID, critical: false, [0x30, 0x00])) }),
        R.rule("4.2.1.2 subjectKeyIdentifier in a CA", "missing_subject_key_identifier",
               R.intermediate { $0.set(ExtensionOID.subjectKeyIdentifier, nil) }),
        R.rule("4.2.1.9 basicConstraints critical in a CA", "ca_bcons_not_critical", R.intermediate {
            $0.set(ExtensionOID.basicConstraints, R.ext(ExtensionOID.basicConstraints, critical: false, Extension.basicConstraints(ca: true, pathLength: nil).value))
        }),
        R.rule("4.2.1.1 authorityKeyIdentifier in a leaf", "missing_authority_key_identifier",
               R.leaf { $0.set(ExtensionOID.authorityKeyIdentifier, nil) }),
        R.rule("4.2.1.1 authorityKeyIdentifier in an intermediate", "missing_authority_key_identifier",
               R.intermediate { $0.set(ExtensionOID.authorityKeyIdentifier, nil) }),
        R.rule("4.2.1.3 keyCertSign only in a CA", "ku_key_cert_sign_invalid_for_non_ca",
               R.leaf { $0.set(ExtensionOID.keyUsage, Extension.keyUsage([.digitalSignature, .keyCertSign])) }),
        R.rule("4.2.1.11 policyConstraints critical", "invalid_policy_extension", R.intermediate(
            good: { $0.set(ExtensionOID.policyConstraints, try Extension.policyConstraints(requireExplicitPolicy: 4, inhibitPolicyMapping: nil)) },
            { let pc = try Extension.policyConstraints(requireExplicitPolicy: 4, inhibitPolicyMapping: nil)
              $0.set(ExtensionOID.policyConstraints, R.ext(pc.oid, critical: false, pc.value)) })),
        R.rule("4.2.1.6 subjectAltName critical when the subject is empty", "empty_subject_san_not_critical") { broken in
            let pki = try TestPKI.chain(editLeaf: { t in
                t.subject = try DistinguishedName(der: [0x30, 0x00])
                t.set(sanOID, try Extension.subjectAltName([.dns("www.example.com")], critical: !broken))
            })
            return RuleSetup(pki)
        },
        R.rule("6.1.4 (k) no version 1 intermediate", "invalid_ca") { broken in
            let pki = try TestPKI.chain()
            guard broken else { return RuleSetup(pki) }
            let v1 = try TestPKI.version1("CN=Rule Intermediate,O=etrust tests,C=TG", issuer: pki.root, key: pki.intermediate.key)
            return RuleSetup((pki.root, v1, pki.leaf))
        },
        R.rule("4.2.1.9 no CA certificate as the end entity", "invalid_non_ca",
               R.leaf { $0.set(ExtensionOID.basicConstraints, Extension.basicConstraints(ca: true, pathLength: nil)) }),
        R.rule("4.2.1.10 nameConstraints only in a CA", "name_constraints_in_non_ca",
               R.leaf { $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")])) }),
        R.rule("4.2.1.10 dNSName constraint without a leading period", "unsupported_constraint_syntax", R.intermediate(
            good: { $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")])) },
            { $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns(".example.com")])) })),
        R.rule("4.2.1.10 permitted or excluded present", "invalid_name_constraints", R.intermediate(
            good: { $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")])) },
            { $0.set(ExtensionOID.nameConstraints, R.ext(ExtensionOID.nameConstraints, critical: true, [0x30, 0x00])) })),
        R.rule("4.2.1.10 no empty subtree list", "invalid_name_constraints", R.intermediate(
            good: { $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")])) },
            { $0.set(ExtensionOID.nameConstraints, R.ext(ExtensionOID.nameConstraints, critical: true, [0x30, 0x02, 0xa0, 0x00])) })),
        R.rule("4.2.1.6 dNSName in the preferred name syntax under a permitted subtree", "unsupported_name_syntax") { broken in
            let pki = try TestPKI.chain(leafSAN: [.dns(broken ? "a_b.example.com" : "ab.example.com")], editIntermediate: {
                $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")]))
            })
            return RuleSetup(pki)
        },
        R.rule("4.2.1.10 a wildcard is caught by the excluded subtree it covers", "excluded_violation") { broken in
            let pki = try TestPKI.chain(leafSAN: [.dns("*.example.com")], editIntermediate: {
                $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [.dns("example.com")],
                                                                             excluded: [.dns(broken ? "bad.example.com" : "x.bad.example.com")]))
            })
            return RuleSetup(pki, purpose: .any)
        },
        R.rule("5.2.3 a CRL has a cRLNumber", "missing_crl_number") { broken in
            let pki = try TestPKI.chain()
            var s = RuleSetup(pki, purpose: .any)
            s.request.revocation = .crl
            s.crls = [try crl(pki.root, number: true), try crl(pki.intermediate, number: !broken)]
            return s
        },
    ]

    static func crl(_ issuer: TestCertificate, number: Bool, nextUpdate: Date = Date().addingTimeInterval(86400)) throws -> CertificateRevocationList {
        var exts = [Extension.authorityKeyIdentifier(try issuer.key.publicKey.keyIdentifier)]
        if number { exts.append(Extension(oid: "2.5.29.20", critical: false, value: [0x02, 0x01, 0x01])) }
        let signer = try Signer(key: issuer.key)
        let b = CRLBuilder(issuer: issuer.subject, signatureAlgorithm: signer.algorithm, thisUpdate: Date().addingTimeInterval(-60),
                           nextUpdate: nextUpdate, extensions: exts)
        return try CertificateRevocationList(der: try b.sign(with: signer))
    }

    static let webPKI: [RuleCase] = [
        R.rule("BR 7.1.4.2 the host name is matched against SAN only, never the CN", "hostname_mismatch") { broken in
            var s = RuleSetup(try TestPKI.chain(leafSAN: [.ip([192, 0, 2, 1])]))
            s.request.parameters.hostname = broken ? "www.example.com" : "192.0.2.1"
            return s
        },
        R.rule("BR 7.1.4.2 an IP address in another spelling matches nothing", "hostname_mismatch") { broken in
            var s = RuleSetup(try TestPKI.chain(leafSAN: [.ip([192, 0, 2, 1])]))
            s.request.parameters.hostname = broken ? "192.000.002.001" : "192.0.2.1"
            return s
        },
        R.rule("RFC 6125 6.4.3 the host name matches a SAN", "hostname_mismatch") { broken in
            var s = RuleSetup(try TestPKI.chain())
            s.request.parameters.hostname = broken ? "ww.example.com" : "WWW.example.com"
            return s
        },
        R.rule("BR 3.2.2.6 no wildcard over a public suffix", "wildcard_over_public_suffix") { broken in
            RuleSetup(try TestPKI.chain(leafSAN: [.dns(broken ? "*.co.uk" : "*.example.co.uk")]))
        },
        R.rule("BR 7.1.2.7.12 a wildcard is the whole left-most label", "unsupported_name_syntax") { broken in
            RuleSetup(try TestPKI.chain(leafSAN: [.dns(broken ? "w*.example.com" : "*.example.com")]))
        },
        R.rule("BR 7.1.2.7.12 a subjectAltName in a server certificate", "missing_subject_alt_name", R.leaf { $0.set(sanOID, nil) }),
        R.rule("BR 7.1.2.7.10 extKeyUsage in the subscriber certificate", "invalid_purpose", R.leaf { $0.set(ekuOID, nil) }),
        R.rule("BR 7.1.2.7.10 anyExtendedKeyUsage is not enough", "invalid_purpose",
               R.leaf { $0.set(ekuOID, try Extension.extendedKeyUsage(["2.5.29.37.0"])) }),
        R.rule("BR 7.1.2.7.6 extKeyUsage not critical", "extended_key_usage_critical",
               R.leaf { $0.set(ekuOID, try Extension.extendedKeyUsage([TestPKI.serverAuth], critical: true)) }),
        R.rule("BR 7.1.2.1.2 no extKeyUsage in a root", "extended_key_usage_in_root") { broken in
            RuleSetup(try TestPKI.chain(editRoot: { if broken { $0.set(ekuOID, try Extension.extendedKeyUsage([TestPKI.serverAuth])) } }))
        },
        R.rule("BR 6.1.5 RSA of at least 2048 bits (leaf)", "ee_key_too_small",
               R.leafKey { try TestPKI.opensslSPKI(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]) }),
        R.rule("BR 6.1.5 RSA modulus a multiple of 8", "key_algorithm_not_allowed",
               R.leafKey { try TestPKI.opensslSPKI(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2052"]) }),
        R.rule("BR 6.1.5 no P-192", "key_algorithm_not_allowed",
               R.leafKey { try TestPKI.opensslSPKI(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-192"]) }),
        R.rule("BR 6.1.5 no DSA", "key_algorithm_not_allowed", R.leafKey { try TestPKI.opensslSPKI([], dsa: true) }),
        R.rule("BR 6.1.5 no Ed25519 for tls-server (tls-client, which the BR do not govern, accepts it)", "key_algorithm_not_allowed") { broken in
            let pki = try TestPKI.chain()
            let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: pki.intermediate, ca: false, key: try PrivateKey.generate(.ed25519))
            return RuleSetup((pki.root, pki.intermediate, leaf), purpose: broken ? .tlsServer : .tlsClient)
        },
        R.rule("BR 6.1.5 RSA of at least 2048 bits (intermediate)", "ca_key_too_small") { broken in
            let root = try TestPKI.make("CN=Rule Root,O=etrust tests,C=TG", ca: true)
            let bits = broken ? "1024" : "2048"
            let key = try rsaKey(bits)
            let intermediate = try TestPKI.make("CN=Rule Intermediate,O=etrust tests,C=TG", issuer: root, ca: true, key: key)
            let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: intermediate, ca: false)
            return RuleSetup((root, intermediate, leaf))
        },
    ]

    static func rsaKey(_ bits: String) throws -> PrivateKey {
        let dir = try TestSupport.temporaryDirectory("etrust-rsa")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try TestSupport.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", dir + "/k.pem"])
        guard r.status == 0 else { throw ETrustError.badInput(r.stderr) }
        return try PrivateKey.load(fromFile: dir + "/k.pem", passphrase: nil, allowUnencrypted: true)
    }

    static let requirements: [RuleCase] = [
        R.rule("--key-usage: the leaf allows each bit asked for", "key_usage_mismatch") { broken in
            var s = RuleSetup(try TestPKI.chain())
            s.request.parameters.requiredKeyUsage = broken ? [.keyEncipherment] : [.digitalSignature]
            return s
        },
        R.rule("--eku: the leaf lists each purpose asked for", "invalid_purpose") { broken in
            var s = RuleSetup(try TestPKI.chain(editLeaf: { if broken { $0.set(ekuOID, try Extension.extendedKeyUsage([TestPKI.serverAuth])) } }))
            s.request.parameters.requiredExtendedKeyUsages = [TestPKI.clientAuth]
            return s
        },
        R.rule("several --purpose: valid for each", "invalid_purpose") { broken in
            var s = RuleSetup(try TestPKI.chain(editLeaf: { if broken { $0.set(ekuOID, try Extension.extendedKeyUsage([TestPKI.serverAuth])) } }))
            s.request.parameters.morePurposes = [.tlsClient]
            return s
        },
        R.rule("--email matches an rfc822Name SAN", "email_mismatch") { broken in
            var s = RuleSetup(try TestPKI.chain(leafSAN: [.email("ama@example.org")]), purpose: .any)
            s.request.parameters.email = broken ? "kofi@example.org" : "ama@example.org"
            return s
        },
        R.rule("RFC 5280 4.1.2.5 validity includes its notAfter second", "certificate_has_expired") { broken in
            var s = RuleSetup(try TestPKI.chain(), purpose: .any)
            s.request.parameters.time = s.leaf.notAfter.addingTimeInterval(broken ? 1 : 0)
            return s
        },
        R.rule("RFC 5280 6.3.3 (a)(2) a CRL is fresh through its nextUpdate second", "crl_has_expired") { broken in
            let pki = try TestPKI.chain()
            var s = RuleSetup(pki, purpose: .any)
            let end = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) + 7200)
            s.request.revocation = .crl
            s.crls = [try crl(pki.root, number: true), try crl(pki.intermediate, number: true, nextUpdate: end)]
            s.request.parameters.time = end.addingTimeInterval(broken ? 1 : 0)
            return s
        },
    ]

    static let pathBuilding: [RuleCase] = [
        R.rule("an alternative intermediate when the first violates a name constraint", "excluded_violation") { broken in
            let root = try TestPKI.make("CN=Rule Root,O=etrust tests,C=TG", ca: true)
            let key = try PrivateKey.generate(.ecP256)
            let constrained = try TestPKI.make("CN=Rule Intermediate,O=etrust tests,C=TG", issuer: root, ca: true, key: key) {
                $0.set(ExtensionOID.nameConstraints, try R.nameConstraints(permitted: [], excluded: [.dns("example.com")]))
            }
            let open = try TestPKI.make("CN=Rule Intermediate,O=etrust tests,C=TG", issuer: root, ca: true, key: key)
            let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: open, ca: false)
            var s = RuleSetup((root, constrained, leaf))
            if !broken { s.intermediates = [constrained.certificate, open.certificate] }
            return s
        },
        R.rule("loop detection: two CAs certifying each other end the search; a third certificate gives the path",
               "unable_to_get_issuer_cert_locally") { broken in
            let root = try TestPKI.make("CN=Rule Root,O=etrust tests,C=TG", ca: true)
            let xKey = try PrivateKey.generate(.ecP256), yKey = try PrivateKey.generate(.ecP256)
            let ySelf = try TestPKI.make("CN=Loop Y,C=TG", ca: true, key: yKey)
            let xByY = try TestPKI.make("CN=Loop X,C=TG", issuer: ySelf, ca: true, key: xKey)
            let yByX = try TestPKI.make("CN=Loop Y,C=TG", issuer: xByY, ca: true, key: yKey)
            let yByRoot = try TestPKI.make("CN=Loop Y,C=TG", issuer: root, ca: true, key: yKey)
            let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: xByY, ca: false)
            var s = RuleSetup((root, xByY, leaf))
            s.intermediates = [xByY.certificate, yByX.certificate] + (broken ? [] : [yByRoot.certificate])
            return s
        },
        R.rule("--max-chain-depth bounds the intermediates", "certificate_chain_too_long") { broken in
            let pki = try TestPKI.chain()
            let second = try TestPKI.make("CN=Rule Second,O=etrust tests,C=TG", issuer: pki.intermediate, ca: true)
            let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: second, ca: false)
            var s = RuleSetup((pki.root, pki.intermediate, leaf))
            s.intermediates = [second.certificate, pki.intermediate.certificate]
            s.request.parameters.maxChainDepth = broken ? 1 : 2
            return s
        },
    ]
}
