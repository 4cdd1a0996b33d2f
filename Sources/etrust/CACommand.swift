import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Certification authorities of the home.",
        subcommands: [Create.self, List.self, ShowCA.self, Export.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a self-signed root, or a subordinate signed by --parent.")
        @Argument(help: "The CA's name in this home.") var name: String
        @Option(help: "Subject DN (RFC 4514), e.g. 'CN=Togo Root CA,O=ANCE,C=TG'.") var subject: String
        @Option(help: "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519.") var key: String = "ec-p256"
        @Option(help: "The parent CA (omit for a root).") var parent: String?
        @Option(help: "The CA profile (default root-ca or sub-ca).") var profile: String?
        @Option(help: "Validity, e.g. 10y.") var validity: String?
        @Option(help: "file (default) or pkcs11:URI.") var keyStore: String = "file"
        @OptionGroup var options: HomeOptions

        func run() throws {
            var r = Authority.CACreation(name: name, subject: subject)
            r.key = try KeyAlgorithm(parsing: key)
            r.parent = parent
            r.profile = profile
            r.validity = try validity.map { try ValidityDuration(parsing: $0) }
            r.keyStore = keyStore
            let (record, path) = try options.changing { try $0.createCA(r) }
            if options.json {
                var o = record.certificate.jsonSummary
                o["name"] = record.name
                o["path"] = path
                o["profile"] = record.profile
                o["parent"] = record.parent ?? NSNull()
                o["certificate"] = record.certificate.pem
                try Output.json(o)
            } else {
                print(path)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the CAs of the home.")
        @OptionGroup var options: HomeOptions

        func run() throws {
            let authority = try options.openAuthority()
            let cas = try authority.store.cas()
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
        @OptionGroup var options: HomeOptions

        func run() throws {
            let authority = try options.openAuthority()
            let c = try authority.ca(name)
            if options.json {
                var o = c.certificate.jsonSummary
                o["name"] = c.name; o["parent"] = c.parent ?? NSNull(); o["profile"] = c.profile
                o["keyStore"] = c.keyReference.hasPrefix("file:") ? "file" : c.keyReference
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
        @OptionGroup var options: HomeOptions

        func run() throws {
            let authority = try options.openAuthority()
            let chain = try authority.chain(of: name)
            if der {
                guard let out else { throw ETrustError.badInput("--der needs --out FILE", code: .invalidArgument) }
                try AtomicFile.write(chain[0].der, to: out)
                return
            }
            let pem = chain.map(\.pem).joined()
            if let out { try AtomicFile.write(pem, to: out) } else { print(pem, terminator: "") }
        }
    }
}
