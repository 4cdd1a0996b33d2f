import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustOCSP
import ETrustPolicy
import Foundation

struct OCSPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ocsp", abstract: "Delegated OCSP responders of the home's CAs.",
                                                    subcommands: [Provision.self])

    struct Provision: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue or rotate a CA's OCSP responder certificate and key, and pre-sign its responses (on the CA host).",
            discussion: """
                The responder key is encrypted under the responders' own passphrase (--signer-passphrase-file or \
                ETRUST_SIGNER_PASSPHRASE), never the CA's: etrust-ocspd starts with that one only. A current certificate \
                less than half-way through its validity is kept unless --rotate.
                """)
        @Option(help: "The CA.") var ca: String
        @Option(help: "Validity of a new responder certificate, e.g. 30d (default: the ocsp-signing profile's).") var validity: String?
        @Flag(help: "Issue a new responder certificate even if the current one is not half-way through.") var rotate = false
        @OptionGroup var signerKey: SignerKeyOptions
        @OptionGroup var options: HomeOptions

        func run() throws {
            let validityValue = try validity.map { try ValidityDuration(parsing: $0) }
            let (keyStore, signerPassphrase) = try signerKey.resolve()
            let result = try options.changing { authority in
                try OCSPSigning(authority: authority).provision(ca: ca, validity: validityValue, rotate: rotate, keyStore: keyStore,
                                                                signerPassphrase: signerPassphrase)
            }
            let c = result.certificate
            if options.json {
                var o = c.jsonSummary
                o["ca"] = ca
                o["issued"] = result.issued
                o["presigned"] = result.presigned
                o["certificate"] = c.pem
                try Output.json(o)
            } else if result.issued {
                print("OCSP responder of CA \(ca): \(c.serialHex) until \(RFC3339.format(c.notAfter)); \(result.presigned) response(s) pre-signed")
            } else {
                print("OCSP responder of CA \(ca): \(c.serialHex) until \(RFC3339.format(c.notAfter)) kept (not half-way through; --rotate to replace)")
            }
        }
    }
}
