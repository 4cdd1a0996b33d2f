import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustValidation
import Foundation

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign a document: CMS SignedData with signing-time and the signer's chain.")
    @Option(help: "The signer's certificate (PEM; may be followed by its chain).") var cert: String?
    @Option(help: "The signer's private key (PKCS#8 PEM or DER; encrypted keys use --passphrase-file or ETRUST_PASSPHRASE).") var key: String?
    @Option(help: "A PKCS#12 with the signer's key and certificate (instead of --cert and --key).") var p12: String?
    @Option(help: "A file holding the PKCS#12 password.") var p12PasswordFile: String?
    @Option(help: "A file holding the key's passphrase (or ETRUST_PASSPHRASE).") var passphraseFile: String?
    @Option(name: .customLong("in"), help: "The document.") var input: String
    @Option(help: "The signature file (.p7s).") var out: String
    @Flag(help: "A detached signature (the document is not inside).") var detached = false
    @Flag(help: "DER instead of PEM.") var der = false
    @Option(help: "Add a signature time-stamp (CAdES-B-T) from the RFC 3161 TSA at this http:// URL (e.g. http://HOST:PORT/tsa).")
    var timestampUrl: String?
    @Flag(help: "Print one JSON value on one line instead of text.") var json = false

    func run() throws {
        let content = try InputFile.readLarge(input)
        let signerCert: Certificate
        let signerKey: PrivateKey
        var chain: [Certificate] = []
        if let p12 {
            guard let file = p12PasswordFile else {
                throw ETrustError.badInput("--p12 needs --p12-password-file FILE", code: .missingPassphrase)
            }
            let password = try SecretSource.p12Password.read(file: file)
            let opened = try PKCS12.open(try InputFile.read(p12), password: password)
            (signerKey, signerCert, chain) = (opened.key, opened.certificate, opened.chain)
            if let cert { chain += try Certificate.all(bytes: try InputFile.read(cert), what: cert) }
        } else {
            guard let cert, let key else { throw ETrustError.badInput("give --cert and --key, or --p12", code: .invalidArgument) }
            let certs = try Certificate.all(bytes: try InputFile.read(cert), what: cert)
            signerCert = certs[0]
            chain = Array(certs.dropFirst())
            // A signer's key may be unencrypted; a passphrase is used only when one is given.
            let given = passphraseFile != nil || !(ProcessInfo.processInfo.environment["ETRUST_PASSPHRASE"] ?? "").isEmpty
            let passphrase = given ? try SecretSource.passphrase.read(file: passphraseFile) : nil
            signerKey = try PrivateKey.load(fromFile: key, passphrase: passphrase, allowUnencrypted: true)
        }
        guard try signerKey.subjectPublicKeyInfo == signerCert.subjectPublicKeyInfo else {
            throw ETrustError.badInput("the key does not belong to the certificate", code: .invalidArgument)
        }
        var signature = try CMSSignature.sign(content, certificate: signerCert, key: signerKey, chain: chain, detached: detached)
        // RFC 3161 appendix A: the token is over the signature value, in an unsigned attribute.
        var stamp: TimeStamp.Info?
        if let timestampUrl {
            let fetched = try TimeStamp.fetch(imprint: Digest.sha256(try CMSSignature.signatureValue(signature)), url: timestampUrl)
            signature = try CMSSignature.addingTimeStamp(signature, token: fetched.token)
            stamp = fetched.info
        }
        if der { try AtomicFile.write(signature, to: out) } else { try AtomicFile.write(PEM.encode(signature, label: "CMS"), to: out) }
        if json {
            try Output.json(["in": input, "out": out, "detached": detached, "format": der ? "der" : "pem",
                             "signer": signerCert.subject.description, "bytes": signature.count,
                             "timestamp": stamp.map { ["genTime": RFC3339.formatFractional($0.genTime), "tsa": $0.tsaName ?? "", "policy": $0.policy,
                                                       "serial": $0.serialHex] as [String: Any] as Any } ?? NSNull()])
        } else {
            print("signed \(input) -> \(out) (\(detached ? "detached" : "enveloping"), signer \(signerCert.subject))"
                  + (stamp.map { ", time-stamped \(RFC3339.formatFractional($0.genTime))" } ?? ""))
        }
    }
}

struct VerifySignature: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-signature",
        abstract: "Verify a CMS signature and its time-stamp, then the signer's certificate for document signing at the time-stamp's time (else the signing time); exit 0 valid, 1 not.")
    @Option(help: "The signature (.p7s, PEM or DER).") var signature: String
    @Option(help: "The signed document, for a detached signature.") var content: String?
    @OptionGroup var trust: TrustOptions
    @Option(name: .long, help: "The CA home whose root CAs and profile assurance levels are used by default.") var home: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let bytes = try InputFile.readLarge(signature)
        let der = try InputFile.derBlocks(bytes, labels: ["CMS", "PKCS7"], what: signature)[0]
        let document = try content.map { try InputFile.readLarge($0) }
        // A signer is judged with its revocation status: CRLs given, else OCSP (RFC 5280 6.3, RFC 6960).
        let request = try trust.request(defaultRevocation: .crlOrOCSP)
        let homePath = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? (FileManager.default.fileExists(atPath: "./etrust-home/etrust.yaml") ? "./etrust-home" : nil)
        let verdict = try SignatureValidation.judge(der, content: document, request: request) { signer, time in
            let (validator, levels, byAnchor) = try trust.validator(homePath: homePath, leaf: signer, time: time)
            return TrustContext(validator: validator, levels: levels, levelsByAnchor: byAnchor)
        }
        if json { try Output.json(verdict.json) } else { verdict.lines.forEach { print($0) } }
        if !verdict.valid { throw ExitCode(1) }
    }
}
