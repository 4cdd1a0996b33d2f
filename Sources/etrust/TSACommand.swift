import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import Foundation

/// `etrust tsa`: the home's RFC 3161 time-stamping units (served by `etrust-ocspd --tsa`).
struct TSACommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tsa", abstract: "Time-stamping units (RFC 3161) of the home's CAs.",
                                                    subcommands: [Provision.self])

    struct Provision: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a CA's time-stamping unit certificate (profile timestamping, critical EKU timeStamping) and its key (on the CA host).",
            discussion: """
                The unit's key is encrypted under the signers' passphrase (--signer-passphrase-file or ETRUST_SIGNER_PASSPHRASE), \
                never the CA's, or generated in a token (--key-store pkcs11:token=LABEL). etrust-ocspd --tsa signs with the newest unit.
                """)
        @Option(help: "The CA (an intermediate: a root issues CA and OCSP certificates only).") var ca: String
        @Option(help: "Validity of the unit's certificate, e.g. 365d (default: the timestamping profile's).") var validity: String?
        @OptionGroup var signerKey: SignerKeyOptions
        @OptionGroup var options: HomeOptions

        func run() throws {
            let validityValue = try validity.map { try ValidityDuration(parsing: $0) }
            let (keyStore, signerPassphrase) = try signerKey.resolve()
            let record = try options.changing { authority in
                try TSASigning(authority: authority).provision(ca: ca, validity: validityValue, keyStore: keyStore, signerPassphrase: signerPassphrase)
            }
            let c = record.certificate
            if options.json {
                var o = c.jsonSummary
                o["ca"] = ca
                o["policy"] = record.policy
                o["certificate"] = c.pem
                try Output.json(o)
            } else {
                print("time-stamping unit of CA \(ca): \(c.serialHex) until \(RFC3339.format(c.notAfter)), policy \(record.policy)")
            }
        }
    }
}

/// Where a service signer's key (an OCSP responder's, a time-stamping unit's) is made: a file
/// encrypted under the signers' passphrase — never a CA's — or a token.
struct SignerKeyOptions: ParsableArguments {
    @Option(help: "A file holding the passphrase of the signer keys (responders, time-stamping units; or set ETRUST_SIGNER_PASSPHRASE).")
    var signerPassphraseFile: String?
    @Option(help: "file (default), or pkcs11:token=LABEL to generate the signer's key in a token (PIN: --pin-file or ETRUST_PKCS11_PIN).")
    var keyStore: String = "file"

    /// The key store, and the passphrase when the key is a file.
    func resolve() throws -> (keyStore: String, passphrase: [UInt8]?) {
        (keyStore, keyStore == "file" ? try SecretSource.signerPassphrase.read(file: signerPassphraseFile) : nil)
    }
}
