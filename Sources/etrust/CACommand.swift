import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Certification authorities of the home.",
        subcommands: [Create.self, List.self, ShowCA.self, Export.self, CrossCertify.self, SignSubordinate.self, Activate.self, Tree.self])

    struct CrossCertify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cross-certify", abstract: "Certify another framework member's CA (cross-certificate) under the cross-ca profile.")
        @Option(help: "Our CA that signs.") var ca: String
        @Option(help: "Their CA certificate (PEM or DER).") var subjectCaCert: String
        @Option(help: "OUR_OID=THEIR_OID (repeatable): their policy counts as ours.") var policyMapping: [String] = []
        @Option(help: "Permitted subtree: dns:SUFFIX, email:SUFFIX, dirname:DN, ip:ADDR/PREFIX (repeatable).") var permitted: [String] = []
        @Option(help: "Excluded subtree (repeatable).") var excluded: [String] = []
        @Option(help: "policyConstraints requireExplicitPolicy.") var requireExplicitPolicy: Int?
        @Option(help: "policyConstraints inhibitPolicyMapping.") var inhibitPolicyMapping: Int?
        @Option(help: "basicConstraints pathLenConstraint.") var pathLength: Int?
        @Option(help: "Validity, e.g. 3y.") var validity: String?
        @Option(help: "The profile (default cross-ca).") var profile: String = "cross-ca"
        @Option(help: "Write the cross-certificate to FILE (else PEM on stdout).") var out: String?
        @OptionGroup var options: HomeOptions

        func run() throws {
            let theirs = try Certificate(bytes: try InputFile.read(subjectCaCert), what: subjectCaCert)
            var r = Authority.CrossCertification(subjectCA: theirs)
            r.policyMappings = try policyMapping.map { m in
                let parts = m.split(separator: "=")
                guard parts.count == 2, parts.allSatisfy({ $0.split(separator: ".").count >= 2 && $0.split(separator: ".").allSatisfy { $0.allSatisfy(\.isNumber) } }) else {
                    throw ETrustError.badInput("--policy-mapping '\(m)' must be OUR_OID=THEIR_OID", code: .invalidArgument)
                }
                return (String(parts[0]), String(parts[1]))
            }
            r.permitted = try permitted.map { try GeneralSubtree(parsing: $0) }
            r.excluded = try excluded.map { try GeneralSubtree(parsing: $0) }
            for (name, v) in [("--require-explicit-policy", requireExplicitPolicy), ("--inhibit-policy-mapping", inhibitPolicyMapping), ("--path-length", pathLength)] {
                if let v, v < 0 || v > 10 { throw ETrustError.badInput("\(name) must be 0 to 10", code: .invalidArgument) }
            }
            r.requireExplicitPolicy = requireExplicitPolicy
            r.inhibitPolicyMapping = inhibitPolicyMapping
            r.pathLength = pathLength
            r.validity = try validity.map { try ValidityDuration(parsing: $0) }
            r.profile = profile
            let certificate = try options.changing { try $0.crossCertify(ca: ca, r) }
            if let out { try AtomicFile.write(certificate.pem, to: out) }
            if options.json {
                var o = certificate.jsonSummary
                o["certificate"] = certificate.pem
                o["ca"] = ca
                try Output.json(o)
            } else if out == nil {
                print(certificate.pem, terminator: "")
            } else {
                print("cross-certified \(theirs.subject) by \(ca) -> \(out!)")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a self-signed root, or a subordinate signed by --parent.")
        @Argument(help: "The CA's name in this home.") var name: String
        @Option(help: "Subject DN (RFC 4514), e.g. 'CN=Togo Root CA,O=ANCE,C=TG'.") var subject: String
        @Option(help: "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519.") var key: String = "ec-p256"
        @Option(help: "The parent CA (omit for a root).") var parent: String?
        @Option(help: "The CA profile (default root-ca or sub-ca).") var profile: String?
        @Option(help: "Validity, e.g. 10y.") var validity: String?
        @Option(help: "file (default), or pkcs11:token=LABEL[;object=LABEL] to generate the key inside a PKCS#11 token (PIN: --pin-file or ETRUST_PKCS11_PIN).") var keyStore: String = "file"
        @Flag(help: "The certificate is signed by another home (an offline root): make the key here, write the request with --csr-out.")
        var external = false
        @Option(help: "With --external: where the certificate request goes (PEM).") var csrOut: String?
        @OptionGroup var custody: CustodyOptions
        @OptionGroup var exampleURL: ExampleURLOption
        @OptionGroup var options: HomeOptions

        func run() throws {
            try exampleURL.check(homePath: options.homePath)
            if external || csrOut != nil { return try runExternal() }
            var r = Authority.CACreation(name: name, subject: subject)
            r.key = try KeyAlgorithm(parsing: key)
            r.parent = parent
            r.profile = profile
            r.validity = try validity.map { try ValidityDuration(parsing: $0) }
            r.keyStore = keyStore
            r.custody = try custody.split()
            let (record, path) = try options.changing { try $0.createCA(r) }
            if options.json {
                var o = record.certificate.jsonSummary
                o["ceremony"] = options.homePath + "/" + KeyCeremony.relativePath(ca: record.name, date: record.createdAt)
                if let split = r.custody { o["shares"] = split.shareFiles(ca: record.name) }
                o["name"] = record.name
                o["path"] = path
                o["profile"] = record.profile
                o["parent"] = record.parent ?? NSNull()
                o["certificate"] = record.certificate.pem
                try Output.json(o)
            } else {
                print(path)
                if let split = r.custody {
                    print("the key is split \(split.threshold)-of-\(split.custodians); hand one share file to each custodian:")
                    for file in split.shareFiles(ca: record.name) { print("  \(file)") }
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the CAs of the home.")
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority()
            let cas = try authority.caRecords()
            if options.json {
                try Output.json(["cas": cas.map { c -> [String: Any] in
                    var o = c.certificate.jsonSummary
                    o["name"] = c.name; o["parent"] = c.parent ?? NSNull(); o["profile"] = c.profile
                    return o
                }])
            } else {
                for c in cas {
                    print("\(c.name)\t\(c.parent.map { "sub of \($0)" } ?? "root")\t\(c.certificate.subject)\tuntil \(RFC3339.format(c.certificate.notAfter))")
                }
            }
        }
    }

    struct ShowCA: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one CA.")
        @Argument var name: String
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority()
            let c = try authority.ca(name)
            if options.json {
                var o = c.certificate.jsonSummary
                o["name"] = c.name; o["parent"] = c.parent ?? NSNull(); o["profile"] = c.profile
                o["keyStore"] = c.keyReference.hasPrefix("file:") ? "file" : c.keyReference.hasPrefix(KeyStore.offlinePrefix) ? "offline" : c.keyReference
                o["key"] = c.keyReference
                if let split = c.keyReference.range(of: "#shares=") { o["custodians"] = String(c.keyReference[split.upperBound...]) }
                o["certificate"] = c.certificate.pem
                try Output.json(o)
            } else {
                print("name:     \(c.name)")
                print("parent:   \(c.parent ?? "(root)")")
                print("profile:  \(c.profile)")
                print("key:      \(c.keyReference)")
                print(try c.certificate.text)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The CA's certificate, then its issuers up to the root (PEM).")
        @Argument var name: String
        @Option(help: "Write to FILE instead of stdout.") var out: String?
        @Flag(help: "DER (the CA's certificate only).") var der = false
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority()
            let chain = try authority.chain(of: name)
            if der {
                guard let out else { throw ETrustError.badInput("--der needs --out FILE", code: .invalidArgument) }
                try AtomicFile.write(chain[0].der, to: out)
                if options.json { try Output.json(["name": name, "out": out, "format": "der", "subjects": [chain[0].subject.description]]) }
                return
            }
            let pem = chain.map(\.pem).joined()
            if let out { try AtomicFile.write(pem, to: out) }
            if options.json {
                var o: [String: Any] = ["name": name, "certificates": chain.map(\.pem), "subjects": chain.map(\.subject.description)]
                if let out { o["out"] = out }
                try Output.json(o)
            } else if out == nil {
                print(pem, terminator: "")
            }
        }
    }
}
