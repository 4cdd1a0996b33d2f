import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustPolicy
import Foundation

// An offline root in three steps: `ca create NAME --external --csr-out F` (issuing host),
// `ca sign-subordinate --ca ROOT --csr F --out CERT` (root host), `ca activate NAME --cert CERT
// --chain ROOT.pem` (issuing host).
extension CA.Create {
    func runExternal() throws {
        guard external, let csrOut else { throw ETrustError.badInput("--external needs --csr-out FILE (and --csr-out needs --external)", code: .invalidArgument) }
        guard parent == nil else { throw ETrustError.badInput("--external and --parent exclude each other: the parent is in another home", code: .invalidArgument) }
        try OutputPath.checkWritableFile(csrOut)
        var r = Authority.CACreation(name: name, subject: subject)
        r.key = try KeyAlgorithm(parsing: key)
        r.profile = profile
        r.validity = try validity.map { try ValidityDuration(parsing: $0) }
        r.keyStore = keyStore
        let pending = try options.changing { try $0.cas.requestExternal(r) }
        try AtomicFile.write(pending.csr.pem, to: csrOut)
        if options.json {
            try Output.json(["name": name, "subject": pending.csr.subject.description, "profile": pending.profile, "csr": csrOut,
                             "status": "waiting for its certificate"])
        } else {
            print("\(csrOut): the request of CA \(name); sign it with 'etrust ca sign-subordinate' on the issuer's home, then 'etrust ca activate \(name)'")
        }
    }
}

extension CA {
    struct SignSubordinate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-subordinate", abstract: "Certify a subordinate CA from its request (on an offline root's home).")
        @Option(help: "The CA of this home that signs (the root).") var ca: String
        @Option(help: "The subordinate CA's request (PEM or DER).") var csr: String
        @Option(help: "The CA profile (default sub-ca).") var profile: String = "sub-ca"
        @Option(help: "Validity, e.g. 5y.") var validity: String?
        @Option(help: "The certificate (PEM).") var out: String
        @OptionGroup var options: HomeOptions

        func run() throws {
            let request = try CertificateSigningRequest(bytes: try InputFile.read(csr), what: csr)
            let validityValue = try validity.map { try ValidityDuration(parsing: $0) }
            try OutputPath.checkWritableFile(out)
            let certificate = try options.changing { try $0.cas.signSubordinate(ca: ca, csr: request, profile: profile, validity: validityValue) }
            try AtomicFile.write(certificate.pem, to: out)
            if options.json {
                var o = certificate.jsonSummary
                o["ca"] = ca
                o["profile"] = profile
                o["certificate"] = certificate.pem
                try Output.json(o)
            } else {
                print("certified \(certificate.subject) by \(ca) -> \(out)")
            }
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a CA created with --external usable: its certificate and the chain up to the root.")
        @Argument(help: "The CA's name in this home.") var name: String
        @Option(help: "The CA's certificate, signed by the other home.") var cert: String
        @Option(help: "The issuer's certificates up to the root (PEM, one or more).") var chain: String
        @OptionGroup var options: HomeOptions

        func run() throws {
            let certificate = try Certificate(bytes: try InputFile.read(cert), what: cert)
            let issuers = try Certificate.all(bytes: try InputFile.read(chain), what: chain)
            let record = try options.changing { try $0.cas.activate(name: name, certificate: certificate, chain: issuers) }
            if options.json {
                var o = record.certificate.jsonSummary
                o["name"] = record.name
                o["parent"] = record.parent ?? NSNull()
                o["profile"] = record.profile
                try Output.json(o)
            } else {
                print("CA \(record.name) is active under \(record.parent ?? "?"): \(FilePath.join(options.homePath, "certs/\(name).pem"))")
            }
        }
    }
}
