import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustValidation
import Foundation

struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trustlist", abstract: "Signed lists of the authorities an e-trust framework recognises, with assurance levels.",
        subcommands: [Create.self, Add.self, Withdraw.self, SignList.self, VerifyList.self, ShowList.self, ExportETSI.self, ImportETSI.self])

    static func read(_ path: String) throws -> TrustList {
        try TrustList.decode(try InputFile.readLarge(path), what: path)
    }

    static func write(_ list: TrustList, to path: String) throws {
        try AtomicFile.write(try list.encoded(), to: path)
    }

    /// The edit's one line of text, or with --json its one JSON object.
    static func report(_ json: Bool, _ text: String, _ object: [String: Any]) throws {
        if json { try Output.json(object) } else { print(text) }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new, empty trust list.")
        @Option(help: "The list file.") var out: String
        @Option(help: "The list's name.") var name: String = "e-trust framework trust list"
        @Option(help: "How long the list is valid (nextUpdate), e.g. 180d.") var nextUpdate: String = "180d"
        @Flag(help: "Print one JSON value on one line instead of text.") var json = false
        func run() throws {
            let d = try ValidityDuration(parsing: nextUpdate)
            let now = Date()
            let list = TrustList(name: name, issued: now, nextUpdate: now.addingTimeInterval(TimeInterval(d.seconds)))
            try TrustListCommand.write(list, to: out)
            try TrustListCommand.report(json, "created \(out)", ["list": out, "name": list.name, "sequence": list.sequence,
                                                                   "nextUpdate": list.nextUpdate, "authorities": 0])
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recognise a CA (or update its levels and services).")
        @Option(help: "The list file.") var list: String
        @Option(help: "The CA certificate.") var caCert: String
        @Option(help: "ISO 3166 country code.") var country: String
        @Option(help: "low, substantial or high.") var level: String
        @Option(help: "A policy OID at that level (repeatable; default: the CA certificate's policies).") var policy: [String] = []
        @Option(help: "OCSP responder URL (repeatable).") var ocsp: [String] = []
        @Option(help: "CRL URL (repeatable).") var crl: [String] = []
        @Option(help: "ETSI TS 119 612 AdditionalServiceInformation URI, e.g. http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures (repeatable).")
        var serviceInfo: [String] = []
        @Flag(help: "Print one JSON value on one line instead of text.") var json = false
        func run() throws {
            var l = try TrustListCommand.read(list)
            for uri in serviceInfo where !(uri.hasPrefix("http://") || uri.hasPrefix("https://") || uri.hasPrefix("urn:")) {
                throw ETrustError.badInput("--service-info '\(uri)' is not a URI", code: .invalidArgument)
            }
            let cert = try Certificate(bytes: try InputFile.read(caCert), what: caCert)
            guard cert.basicConstraints?.ca == true else { throw ETrustError.refused("\(caCert) is not a CA certificate", code: .invalidArgument) }
            try TrustListCommand.checkCountry(country, option: "--country")
            let lvl = try AssuranceLevel(parsing: level)
            var policies = policy
            if policies.isEmpty, let e = cert.extension(ExtensionOID.certificatePolicies) {
                policies = Extension.decodePolicyOIDs(e.value).filter { $0 != "2.5.29.32.0" }
            }
            guard !policies.isEmpty else { throw ETrustError.badInput("give the policy OIDs at that level with --policy", code: .invalidArgument) }
            let sha = Hex.encode(cert.sha256Fingerprint)
            let now = RFC3339.format(Date())
            if let i = l.authorities.firstIndex(where: { $0.sha256 == sha }) {
                l.authorities[i].levels.removeAll { $0.level == lvl.rawValue }
                l.authorities[i].levels.append(.init(level: lvl.rawValue, policies: policies))
                if l.authorities[i].status != "granted" { l.authorities[i].status = "granted"; l.authorities[i].history.append(.init(status: "granted", since: now)) }
                if !ocsp.isEmpty { l.authorities[i].services.ocsp = ocsp }
                if !crl.isEmpty { l.authorities[i].services.crl = crl }
                if !serviceInfo.isEmpty { l.authorities[i].additionalInformation = serviceInfo }
            } else {
                l.authorities.append(.init(name: cert.subject.description, country: country, certificate: Data(cert.der).base64EncodedString(),
                                           sha256: sha, status: "granted", history: [.init(status: "granted", since: now)],
                                           levels: [.init(level: lvl.rawValue, policies: policies)],
                                           services: .init(crl: crl.isEmpty ? nil : crl, ocsp: ocsp.isEmpty ? nil : ocsp),
                                           additionalInformation: serviceInfo.isEmpty ? nil : serviceInfo))
            }
            l.sequence += 1
            l.issued = now
            try TrustListCommand.write(l, to: list)
            try TrustListCommand.report(json, "recognised \(cert.subject) (\(country), \(lvl.rawValue)) in \(list)",
                                        ["list": list, "authority": cert.subject.description, "sha256": sha, "country": country,
                                         "level": lvl.rawValue, "policies": policies, "status": "granted", "sequence": l.sequence])
        }
    }

    struct Withdraw: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a CA's recognition from a time on.")
        @Option(help: "The list file.") var list: String
        @Option(help: "The CA certificate.") var caCert: String
        @Option(help: "Withdrawn from T (RFC 3339; default now).") var at: String?
        @Flag(help: "Print one JSON value on one line instead of text.") var json = false
        func run() throws {
            var l = try TrustListCommand.read(list)
            let cert = try Certificate(bytes: try InputFile.read(caCert), what: caCert)
            let sha = Hex.encode(cert.sha256Fingerprint)
            guard let i = l.authorities.firstIndex(where: { $0.sha256 == sha }) else {
                throw ETrustError.refused("\(cert.subject) is not in the list", code: .notFound)
            }
            let when = try at.map { try RFC3339.parse($0) } ?? Date()
            l.authorities[i].status = "withdrawn"
            l.authorities[i].history.append(.init(status: "withdrawn", since: RFC3339.format(when)))
            l.sequence += 1
            l.issued = RFC3339.format(Date())
            try TrustListCommand.write(l, to: list)
            try TrustListCommand.report(json, "withdrew \(cert.subject) from \(RFC3339.format(when))",
                                        ["list": list, "authority": cert.subject.description, "sha256": sha, "status": "withdrawn",
                                         "since": RFC3339.format(when), "sequence": l.sequence])
        }
    }

    struct SignList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sign", abstract: "Sign the list (detached CMS) with a trust-list-signing certificate of the home's CA.")
        @Option(help: "The list file.") var list: String
        @Option(help: "The signed list to write.") var out: String
        @Option(help: "The home's CA that issues the signer (default: the first root).") var signer: String?
        @OptionGroup var options: HomeOptions
        func run() throws {
            let bytes = try InputFile.readLarge(list)
            _ = try TrustList.decode(bytes, what: list)
            let signed = try options.changing { authority -> [UInt8] in
                let caName = try signer ?? (authority.caRecords().first { $0.parent == nil }?.name).orThrow("the home has no root CA")
                let (cert, key) = try authority.trustListSigner(ca: caName)
                let chain = try authority.chain(of: caName)
                return try CMSSignature.sign(bytes, certificate: cert, key: key, chain: chain, detached: true)
            }
            let wrapper = SignedTrustList(listBytes: bytes, signature: signed)
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write([UInt8](try e.encode(wrapper)) + [0x0a], to: out)
            try TrustListCommand.report(options.json, "signed \(list) -> \(out)", ["list": list, "out": out, "bytes": signed.count])
        }
    }

    struct VerifyList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify a signed list against its signer; exit 1 when not valid.")
        @Argument(help: "The signed list.") var file: String
        @Option(help: "The signer's certificate, or the CA certificate that issued it.") var signerCert: String
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let trusted = try Certificate(bytes: try InputFile.read(signerCert), what: signerCert)
            do {
                let v = try SignedTrustList.verifyAny(try InputFile.readLarge(file), signerCertificate: trusted, at: Date(), what: file)
                if json {
                    try Output.json(["valid": true, "name": v.list.name, "sequence": v.list.sequence, "nextUpdate": v.list.nextUpdate,
                                     "signer": v.signer.subject.description, "authorities": v.list.authorities.count])
                } else {
                    print("valid trust list '\(v.list.name)' #\(v.list.sequence), \(v.list.authorities.count) authorities, signed by \(v.signer.subject), next update \(v.list.nextUpdate)")
                }
            } catch let e as ETrustError where e.category == .refused {
                if json { try Output.json(["valid": false, "reason": e.reason]) } else { print("INVALID: \(e.reason)") }
                throw ExitCode(1)
            }
        }
    }

    struct ShowList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a trust list (signed or not).")
        @Argument var file: String
        @Flag(help: "Print the list as JSON.") var json = false
        func run() throws {
            var bytes = try InputFile.readLarge(file)
            if let w = try? JSONDecoder().decode(SignedTrustList.self, from: Data(bytes)), let d = Data(base64Encoded: w.list) { bytes = [UInt8](d) }
            let l = try TrustList.decode(bytes, what: file)
            if json {
                // One line, like every --json (the list file itself stays pretty-printed).
                let object = try JSONSerialization.jsonObject(with: Data(try l.encoded()))
                try Output.json(object)
                return
            }
            print("\(l.name) #\(l.sequence), issued \(l.issued), next update \(l.nextUpdate)")
            for a in l.authorities {
                print("  [\(a.status)] \(a.country) \(a.name)")
                for lv in a.levels { print("      \(lv.level): \(lv.policies.joined(separator: ", "))") }
            }
        }
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let v = self else { throw ETrustError.badInput(message, code: .notFound) }
        return v
    }
}
