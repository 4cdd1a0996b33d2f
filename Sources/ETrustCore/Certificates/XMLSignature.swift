import Foundation

/// Enveloped XML signatures (XMLDSig with XAdES references) made and checked by `xmlsec1`
/// (Debian package xmlsec1): canonicalisation, digests and signature values are its, never ours.
public enum XMLSignature {
    /// The XAdES SignedProperties element carries the `Id` a Reference points to.
    static let idAttribute = ["--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"]

    static var tool: String {
        get throws {
            for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/xmlsec1") {
                return dir + "/xmlsec1"
            }
            throw ETrustError.environment("xmlsec1 is not installed (Debian package xmlsec1); it signs and verifies ETSI trusted lists",
                                          code: .notFound)
        }
    }

    /// Fills in the digests and the signature value of the template's ds:Signature. The key goes
    /// to xmlsec1 through a pipe (its stdin), never through a file or the command line.
    public static func sign(template: [UInt8], key: PrivateKey) throws -> [UInt8] {
        try withScratch { dir in
            let input = dir + "/template.xml", output = dir + "/signed.xml"
            try AtomicFile.write(template, to: input, mode: 0o600)
            let r = try run([try tool, "--sign", "--privkey-pem", "/dev/stdin"] + idAttribute + ["--output", output, input],
                            stdin: try key.plainPKCS8PEMForPipe())
            guard r.status == 0, let signed = FileManager.default.contents(atPath: output) else {
                throw ETrustError.environment("xmlsec1 could not sign: \(lastLine(r.stderr))")
            }
            return [UInt8](signed)
        }
    }

    /// Whether the document's one ds:Signature verifies with the public key of `signer`,
    /// every reference included. Only that key is used: the signature's KeyInfo is not trusted.
    public static func verify(_ document: [UInt8], signer: Certificate) throws -> (valid: Bool, detail: String) {
        try withScratch { dir in
            let input = dir + "/document.xml", cert = dir + "/signer.pem"
            try AtomicFile.write(document, to: input, mode: 0o600)
            try AtomicFile.write(signer.pem, to: cert)
            let r = try run([try tool, "--verify", "--pubkey-cert-pem", cert, "--enabled-key-data", "key-name",
                             "--enabled-reference-uris", "empty,same-doc"] + idAttribute + [input], stdin: [])
            // "SignedInfo References (ok/all): 1/2" says which part failed; the scratch path does not.
            let references = r.stderr.split(separator: "\n").first { $0.hasPrefix("SignedInfo References") }
            return (r.status == 0, references.map(String.init) ?? "xmlsec1: \(lastLine(r.stderr).replacingOccurrences(of: input, with: "the list"))")
        }
    }

    private static func lastLine(_ text: String) -> String {
        let lines = text.split(separator: "\n").map { String($0) }.filter { !$0.hasPrefix("func=") }
        return lines.last ?? text.split(separator: "\n").last.map(String.init) ?? "no output"
    }

    private static func withScratch<R>(_ body: (String) throws -> R) throws -> R {
        let dir = FilePath.join(NSTemporaryDirectory(), "etrust-xmlsec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    private static func run(_ argv: [String], stdin: [UInt8]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let input = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errors
        // xmlsec1 failing before it reads its stdin must be an error, not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        try p.run()
        if !stdin.isEmpty { try? input.fileHandleForWriting.write(contentsOf: Data(stdin)) }
        try? input.fileHandleForWriting.close()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: err, as: UTF8.self))
    }
}
