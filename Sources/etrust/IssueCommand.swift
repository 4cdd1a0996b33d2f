import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustStore
import Foundation

struct Issue: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue certificates under a profile, from a CSR or a CSV batch.")
    @Option(help: "The issuing CA.") var ca: String
    @Option(help: "The profile (a batch row may name its own).") var profile: String?
    @Option(help: "A PKCS#10 request, PEM or DER.") var csr: String?
    @Option(help: "A CSV file of requests (columns csr, and optionally san, validity, profile).") var batch: String?
    @Option(help: "Subject DN overriding the request's (RFC 4514).") var subject: String?
    @Option(help: "Subject alternative names: dns:..,email:..,ip:..,uri:.. (repeatable).") var san: [String] = []
    @Option(help: "Validity, e.g. 90d.") var validity: String?
    @Option(help: "Output file (one CSR) or folder (batch).") var out: String?
    @Flag(help: "Write DER instead of PEM (one CSR with --out; the same as --format der).") var der = false
    @Option(help: "With --out: pem (default), der (the certificate alone) or p12 (with --generate-key: key, certificate and chain).")
    var format: String?
    @Flag(help: "Write (or print) the certificate followed by its chain up to the root (PEM or PKCS#12).") var chain = false
    @Flag(help: "Generate the subject's key (with --p12; --subject required); the CA keeps no copy.") var generateKey = false
    @Option(help: "PKCS#12 output (AES-256-CBC, PBKDF2) for --generate-key.") var p12: String?
    @Option(help: "A file holding the PKCS#12 password (else a prompt on a terminal).") var p12PasswordFile: String?
    @Option(help: "Key type generated with --generate-key.") var keyType: String = "ec-p256"
    @Flag(help: "With --batch and --out: a row whose key already has a certificate of this CA, issued since the CSV was last modified (a batch killed after its commit), gets that certificate's file instead of a second certificate.")
    var resume = false
    @Option(help: "biometricInfo (RFC 3739): TYPE=FILE[,uri=URI], TYPE picture, handwritten-signature or an OID; only FILE's SHA-256 goes in (repeatable).")
    var biometric: [String] = []
    @OptionGroup var exampleURL: ExampleURLOption
    @OptionGroup var options: HomeOptions

    func validate() throws {
        if generateKey {
            guard csr == nil else { throw ValidationError("--generate-key replaces --csr") }
            if batch == nil {
                guard subject != nil else { throw ValidationError("--generate-key needs --subject") }
                guard p12 != nil || format?.lowercased() == "p12" else { throw ValidationError("--generate-key needs --p12 OUT.p12 (or --out FILE --format p12)") }
            }
        } else {
            guard (csr == nil) != (batch == nil) else {
                throw ValidationError("give exactly one of --csr FILE or --batch FILE.csv")
            }
            if p12 != nil { throw ValidationError("--p12 goes with --generate-key") }
        }
        if batch == nil && profile == nil { throw ValidationError("--profile is required") }
        if resume {
            guard batch != nil, out != nil else { throw ValidationError("--resume goes with --batch FILE.csv and --out DIR") }
            guard !generateKey else { throw ValidationError("--resume cannot recover a --generate-key batch: its keys existed only in the killed process") }
        }
        if batch != nil && !biometric.isEmpty { throw ValidationError("--biometric goes with --csr or --generate-key, not --batch") }
        let f = try outputFormat
        if batch != nil && (chain || format != nil) { throw ValidationError("--chain and --format go with --csr or --generate-key, not --batch") }
        if f == "der" && chain { throw ValidationError("--chain needs PEM or p12: DER holds one certificate") }
        if f == "p12" {
            guard generateKey else { throw ValidationError("--format p12 needs --generate-key (the CA has no key of a CSR's subject)") }
            guard out != nil, p12 == nil else { throw ValidationError("--format p12 writes --out FILE (instead of --p12)") }
        }
    }

    /// pem, der or p12, from --format (or --der).
    var outputFormat: String {
        get throws {
            let f = format?.lowercased() ?? (der ? "der" : "pem")
            guard ["pem", "der", "p12"].contains(f) else { throw ValidationError("--format must be pem, der or p12") }
            if der && f != "der" { throw ValidationError("--der and --format \(f) disagree") }
            return f
        }
    }

    /// Where the PKCS#12 goes: --p12 FILE, or --out FILE with --format p12.
    var p12Path: String? { format?.lowercased() == "p12" ? out : p12 }

    /// The PKCS#12 password: --p12-password-file, else a prompt; never a flag value.
    func p12Password() throws -> [UInt8] { try SecretSource.p12Password.read(file: p12PasswordFile) }

    func run() throws {
        // Everything the command line states is checked before the home is touched.
        let sanOverride = try san.isEmpty ? nil : SANList.parse(san)
        let subjectOverride = try subject.map { try DistinguishedName(parsing: $0) }
        let validityValue = try validity.map { try ValidityDuration(parsing: $0) }
        let biometrics = try BiometricSample.entries(biometric)
        try exampleURL.check(homePath: options.homePath)
        if let batch {
            try runBatch(batch, sanOverride: sanOverride, subjectOverride: subjectOverride, validity: validityValue)
            return
        }
        let (request, generated, password) = try singleRequest(subject: subjectOverride)
        // The destination is checked before anything is recorded: a certificate is never
        // committed that cannot then be written out.
        if let out { try OutputPath.checkWritableFile(out) }
        let (certificate, record, chain) = try options.changing { authority -> (Certificate, CertificateRecord, [Certificate]) in
            var issuance = IssuanceRequest(source: .csr(request), profile: profile!, subject: subjectOverride,
                                           subjectAltNames: sanOverride, validity: validityValue)
            issuance.biometrics = biometrics
            let (c, r) = try authority.issue(issuance, ca: ca)
            if let key = generated {
                try authority.recordSubscriberKey(ca: ca, serialHex: r.serialHex, profile: r.profile, key: key)
            }
            return (c, r, try authority.chain(of: ca))
        }
        // Released only now: the record and its audit event are committed. A file that cannot be
        // written now names the committed serial, so that nobody retries into a second certificate.
        do {
            try release(certificate, record: record, chain: chain, key: generated, password: password)
        } catch let e as ETrustError {
            throw Self.committed(record.serialHex, ca: ca, failure: e, p12: generated != nil)
        }
    }

    /// The failure to write out a committed certificate, with its serial and how to get it.
    static func committed(_ serial: String, ca: String, failure e: ETrustError, p12: Bool) -> ETrustError {
        let fetch = p12 ? "its key existed only in this process: revoke it (etrust revoke --ca \(ca) --serial \(serial)) and issue again"
                        : "get it with: etrust show \(serial) --ca \(ca) --out FILE"
        var wrapped = ETrustError(e.code, "certificate \(serial) was issued and recorded, but \(e.reason); do not issue again, \(fetch)",
                                  category: e.category)
        wrapped.committedSerial = serial
        return wrapped
    }

    /// The request of a single issuance: the CSR, or one made here for a key generated here
    /// (card personalisation: the key leaves only inside the PKCS#12), with its password.
    private func singleRequest(subject: DistinguishedName?) throws -> (CertificateSigningRequest, PrivateKey?, [UInt8]) {
        guard generateKey else { return (try CertificateSigningRequest(bytes: try InputFile.read(csr!), what: csr!), nil, []) }
        let password = try p12Password()
        try OutputPath.checkWritableFile(p12Path!)
        let key = try PrivateKey.generate(try KeyAlgorithm(parsing: keyType))
        return (try CertificateSigningRequest.create(subject: subject!, key: key), key, password)
    }

    /// Writes the certificate (PEM, DER, or a PKCS#12 with the generated key; with --chain its
    /// issuers after it) and reports it.
    private func release(_ certificate: Certificate, record: CertificateRecord, chain: [Certificate], key: PrivateKey?, password: [UInt8]) throws {
        let format = try outputFormat
        if let key, let p12 = p12Path {
            let bytes = try PKCS12.create(key: key, certificate: certificate, chain: chain, password: password,
                                          friendlyName: certificate.subject.values(ofName: "CN").first)
            try AtomicFile.write(bytes, to: p12, mode: 0o600)
        }
        let pem = certificate.pem + (self.chain ? chain.map(\.pem).joined() : "")
        if let out, FaultInjection.fails("issue-write-out") { throw ETrustError.environment("\(out): cannot write (injected fault)") }
        if let out, format != "p12" {
            if format == "der" { try AtomicFile.write(certificate.der, to: out) } else { try AtomicFile.write(pem, to: out) }
        }
        if options.json {
            var o: [String: Any] = ["serial": record.serialHex, "subject": record.subject, "notBefore": RFC3339.format(record.notBefore),
                                    "notAfter": RFC3339.format(record.notAfter), "profile": record.profile, "certificate": certificate.pem,
                                    "ca": ca]
            if let p12 = p12Path { o["p12"] = p12 }
            if let out { o["out"] = out; o["format"] = format }
            if self.chain { o["chain"] = chain.map(\.pem) }
            try Output.json(o)
        } else if let out {
            print("issued \(record.serialHex) \(record.subject) -> \(out)\(self.chain ? " (with its chain)" : "")")
        } else {
            print(pem, terminator: "")
        }
    }
}

/// `--san dns:a.example,ip:10.0.0.1` (repeatable). A comma splits names only where the next
/// part starts with a type, so that a dirname's own commas survive.
enum SANList {
    static func parse(_ values: [String]) throws -> [GeneralName] {
        var names: [GeneralName] = []
        for v in values {
            var parts: [String] = []
            for piece in v.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                let lower = piece.trimmingCharacters(in: .whitespaces).lowercased()
                if parts.isEmpty || ["dns:", "email:", "ip:", "uri:", "dirname:"].contains(where: { lower.hasPrefix($0) }) {
                    parts.append(piece.trimmingCharacters(in: .whitespaces))
                } else {
                    parts[parts.count - 1] += "," + piece
                }
            }
            names += try parts.filter { !$0.isEmpty }.map { try GeneralName(parsing: $0) }
        }
        return names
    }
}

/// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF.
enum CSV {
    static func parse(_ text: String, what: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else { field.unicodeScalars.append(c) }
            } else {
                switch c {
                case "\"": inQuotes = true
                case ",": row.append(field); field = ""
                case "\r": break
                case "\n": row.append(field); rows.append(row); row = []; field = ""
                default: field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw ETrustError.badInput("\(what): unterminated quoted field", code: .malformedInput) }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// A progress bar on stderr, only on a terminal.
final class Progress {
    let total: Int
    let enabled: Bool
    init(total: Int, enabled: Bool) { self.total = total; self.enabled = enabled }
    func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
    }
    func finish() { if enabled && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) } }
}

enum OutputPath {
    static func checkWritableFile(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ETrustError.badInput("--out \(path) is a folder; give a file name", code: .invalidArgument) }
            guard access(path, W_OK) == 0 else { throw ETrustError.badInput("--out \(path) is not writable", code: .io) }
        }
        let dir = FilePath.directory(of: path)
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ETrustError.badInput("--out \(path): folder \(dir) does not exist", code: .notFound)
        }
        guard access(dir, W_OK) == 0 else { throw ETrustError.badInput("--out \(path): folder \(dir) is not writable", code: .io) }
    }
}
