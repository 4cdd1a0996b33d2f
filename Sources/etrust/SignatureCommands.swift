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
        let signature = try CMSSignature.sign(content, certificate: signerCert, key: signerKey, chain: chain, detached: detached)
        if der { try AtomicFile.write(signature, to: out) } else { try AtomicFile.write(PEM.encode(signature, label: "CMS"), to: out) }
        if json {
            try Output.json(["in": input, "out": out, "detached": detached, "format": der ? "der" : "pem",
                             "signer": signerCert.subject.description, "bytes": signature.count])
        } else {
            print("signed \(input) -> \(out) (\(detached ? "detached" : "enveloping"), signer \(signerCert.subject))")
        }
    }
}

struct VerifySignature: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-signature",
        abstract: "Verify a CMS signature, then the signer's certificate at the signing time for document signing; exit 0 valid, 1 not.")
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
        var request = try trust.request(defaultRevocation: .crlOrOCSP)
        let homePath = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? (FileManager.default.fileExists(atPath: "./etrust-home/etrust.yaml") ? "./etrust-home" : nil)
        let verified: CMSSignature.Verified
        do {
            verified = try CMSSignature.verify(der, content: document)
        } catch let e as ETrustError where e.category == .refused {
            if json { try Output.json(["valid": false, "reason": e.reason, "errorCode": "signature_invalid"]) } else { print("INVALID: \(e.reason)") }
            throw ExitCode(1)
        }
        // The signer is judged as of the signing time (unless --at says otherwise), for document signing.
        request.parameters.purpose = .documentSigning
        if request.parameters.time == nil { request.parameters.time = verified.signingTime }
        let (validator, levels, byAnchor) = try trust.validator(homePath: homePath, leaf: verified.signer, time: request.parameters.time)
        request.assuranceLevels = levels
        request.assuranceLevelsByAnchor = byAnchor
        let extra = Validator(sharing: validator, moreIntermediates: verified.certificates.filter { $0 != verified.signer })
        let result = try extra.validate(verified.signer, request)
        if json {
            var o = result.json
            o["signer"] = verified.signer.subject.description
            o["signingTime"] = verified.signingTime.map { RFC3339.format($0) as Any } ?? NSNull()
            o["level"] = result.assurance?.rawValue ?? NSNull()
            o["status"] = result.revocation.first?.status ?? "not-checked"
            try Output.json(o)
        } else {
            print(result.valid ? "valid signature by \(verified.signer.subject)" : "INVALID: \(result.reason) [\(result.errorCode)]")
            if let t = verified.signingTime { print("signing time: \(RFC3339.format(t))") }
            if let a = result.assurance { print("assurance: \(a.rawValue)") }
        }
        if !result.valid { throw ExitCode(1) }
    }
}
