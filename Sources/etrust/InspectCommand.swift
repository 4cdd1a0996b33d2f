import ArgumentParser
import ETrustCommandLine
import ETrustCore
import Foundation

/// `etrust inspect FILE`: any certificate (or chain), CSR, CRL, CMS signature, PKCS#12, OCSP
/// request or response, or RFC 3161 timestamp, PEM or DER; decoded by OpenSSL.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a file holds: certificate(s), CSR, CRL, CMS signature, PKCS#12, OCSP request or response, timestamp.",
        discussion: "PEM or DER is detected. Certificates and CRLs are also linted (RFC 5280).")
    @Argument(help: "The file.") var file: String
    @Option(help: "A file holding the PKCS#12 password (else a prompt on a terminal).") var p12PasswordFile: String?
    @Flag(help: "Print one JSON value on one line instead of text.") var json = false

    static let pemLabels: Set<String> = [
        "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", "X509 CRL",
        "CMS", "PKCS7", "PKCS #7 SIGNED DATA", "PKCS12", "OCSP REQUEST", "OCSP RESPONSE", "TS RESPONSE", "TIMESTAMP TOKEN",
    ]

    func run() throws {
        let bytes = try InputFile.readLarge(file)
        let pem = PEM.looksLikePEM(bytes)
        let blocks = try InputFile.derBlocks(bytes, labels: Self.pemLabels, what: file)
        var objects: [InspectedObject] = []
        for (i, der) in blocks.enumerated() {
            guard let kind = PKIObjectInspector.kind(of: der) else {
                let which = blocks.count > 1 ? " (block \(i + 1))" : ""
                throw ETrustError.badInput("\(file)\(which): not a certificate, CSR, CRL, CMS signature, PKCS#12, OCSP request or response, or timestamp",
                                           code: .malformedInput)
            }
            objects.append(try InspectedObject(der: der, kind: kind, p12Password: kind == .pkcs12 ? p12Password : nil))
        }
        let kind = objects.count > 1 && objects.allSatisfy { $0.kind == .certificate } ? "chain" : objects[0].kind.rawValue
        if json {
            try Output.json(["file": file, "encoding": pem ? "pem" : "der", "kind": kind, "objects": objects.map(\.fields)])
            return
        }
        print("\(file): \(kind) (\(pem ? "PEM" : "DER")\(objects.count > 1 ? ", \(objects.count) objects" : ""))")
        for o in objects { print(o.text, terminator: o.text.hasSuffix("\n") ? "" : "\n") }
    }

    var p12Password: () throws -> [UInt8] { { try SecretSource.p12Password.read(file: p12PasswordFile) } }
}

/// One decoded object: its JSON fields and its text (OpenSSL's print, fingerprints, lint findings).
struct InspectedObject {
    let kind: PKIObjectKind
    var fields: [String: Any]
    var text: String

    init(der: [UInt8], kind: PKIObjectKind, p12Password: (() throws -> [UInt8])?) throws {
        self.kind = kind
        fields = ["kind": kind.rawValue, "sha256": Hex.encode(Digest.sha256(der)), "size": der.count]
        text = try PKIObjectInspector.text(of: der, kind: kind)
        switch kind {
        case .certificate: try describeCertificate(Certificate(der: der))
        case .csr: try describeCSR(try CertificateSigningRequest(der: der))
        case .crl: describeCRL(try CertificateRevocationList(der: der))
        case .cms: describeCMS(try PKIObjectInspector.cms(der))
        case .timestampToken, .timestampResponse: try describeTimestamp(der)
        case .ocspRequest: describeOCSPRequest(try PKIObjectInspector.ocspRequest(der))
        case .ocspResponse: describeOCSPResponse(try PKIObjectInspector.ocspResponse(der))
        case .pkcs12: try describePKCS12(der, password: p12Password)
        }
    }

    static func extensions(_ list: [Extension]) -> [[String: Any]] {
        list.map { ["oid": $0.oid, "name": PKIObjectInspector.longName(ofOID: $0.oid), "critical": $0.critical] }
    }

    static func certificateSummary(_ c: Certificate) -> [String: Any] {
        var o = c.jsonSummary
        o["sha1"] = Hex.encode(Digest.sha1(c.der))
        return o
    }

    mutating func addLint(_ findings: [String]) {
        fields["lint"] = findings
        text += findings.isEmpty ? "lint: no finding\n" : findings.map { "lint: \($0)\n" }.joined()
    }

    mutating func describeCertificate(_ c: Certificate) throws {
        fields.merge(Self.certificateSummary(c)) { $1 }
        fields["version"] = c.version
        fields["publicKey"] = try c.publicKey.kind.description
        fields["signatureAlgorithm"] = c.signatureAlgorithm.description
        fields["subjectAltNames"] = c.subjectAltNames.map(\.description)
        fields["extensions"] = Self.extensions(c.extensions)
        fields["isCA"] = c.basicConstraints?.ca ?? false
        text += "SHA-256 fingerprint: \(Hex.encode(c.sha256Fingerprint))\nSHA-1 fingerprint: \(Hex.encode(Digest.sha1(c.der)))\n"
        addLint(InspectLint.certificate(c))
    }

    mutating func describeCSR(_ r: CertificateSigningRequest) throws {
        fields["subject"] = r.subject.description
        fields["publicKey"] = r.publicKey.kind.description
        fields["signatureAlgorithm"] = r.signatureAlgorithm.description
        fields["extensions"] = Self.extensions(r.requestedExtensions)
        fields["subjectAltNames"] = try r.requestedSubjectAltNames.map(\.description)
    }

    mutating func describeCRL(_ crl: CertificateRevocationList) {
        fields["issuer"] = crl.issuer.description
        fields["number"] = crl.number.map { $0 as Any } ?? NSNull()
        fields["thisUpdate"] = RFC3339.format(crl.thisUpdate)
        fields["nextUpdate"] = crl.nextUpdate.map { RFC3339.format($0) as Any } ?? NSNull()
        fields["deltaBase"] = crl.deltaBase.map { $0 as Any } ?? NSNull()
        fields["entries"] = crl.entries.map { e -> [String: Any] in
            ["serial": e.serialHex, "revocationDate": RFC3339.format(e.revocationDate), "reason": e.reason.map { $0.name as Any } ?? NSNull()]
        }
        fields["extensions"] = Self.extensions(crl.extensions)
        fields["signatureAlgorithm"] = crl.signatureAlgorithm.description
        addLint(InspectLint.crl(crl))
    }

    mutating func describeCMS(_ cms: PKIObjectInspector.CMSFields) {
        fields["contentType"] = cms.contentType
        fields["encapsulatedContentType"] = cms.encapsulatedContentType ?? NSNull()
        fields["detached"] = cms.detached
        fields["signers"] = cms.signers.map { s -> [String: Any] in
            ["issuer": s.issuer ?? NSNull(), "serial": s.serialHex ?? NSNull(), "keyIdentifier": s.keyIdentifier.map { Hex.encode($0) as Any } ?? NSNull()]
        }
        fields["certificates"] = cms.certificates.map(Self.certificateSummary)
    }

    mutating func describeTimestamp(_ der: [UInt8]) throws {
        let t = try PKIObjectInspector.timestamp(der, kind: kind)
        if let s = t.status { fields["status"] = s }
        fields["genTime"] = t.genTime.map { RFC3339.format($0) as Any } ?? NSNull()
        fields["serial"] = t.serialHex ?? NSNull()
        fields["policy"] = t.policy ?? NSNull()
        fields["hashAlgorithm"] = t.hashAlgorithm ?? NSNull()
        fields["messageImprint"] = Hex.encode(t.messageImprint)
        fields["nonce"] = t.nonceHex ?? NSNull()
        if kind == .timestampToken { describeCMS(try PKIObjectInspector.cms(der)) }
    }

    static func certID(_ id: PKIObjectInspector.CertID) -> [String: Any] {
        ["hashAlgorithm": id.hashAlgorithm, "serial": id.serialHex, "issuerNameHash": Hex.encode(id.issuerNameHash),
         "issuerKeyHash": Hex.encode(id.issuerKeyHash)]
    }

    mutating func describeOCSPRequest(_ r: PKIObjectInspector.OCSPRequestFields) {
        fields["requests"] = r.requests.map(Self.certID)
        fields["nonce"] = r.hasNonce
        fields["signed"] = r.signed
    }

    mutating func describeOCSPResponse(_ r: PKIObjectInspector.OCSPResponseFields) {
        fields["status"] = r.status
        fields["producedAt"] = r.producedAt.map { RFC3339.format($0) as Any } ?? NSNull()
        fields["responses"] = r.responses.map { s -> [String: Any] in
            var o = Self.certID(s.certID)
            o["status"] = s.status
            o["thisUpdate"] = s.thisUpdate.map { RFC3339.format($0) as Any } ?? NSNull()
            o["nextUpdate"] = s.nextUpdate.map { RFC3339.format($0) as Any } ?? NSNull()
            if let t = s.revocationTime { o["revocationTime"] = RFC3339.format(t) }
            if let reason = s.reason { o["reason"] = RevocationReason(rawValue: reason)?.name ?? String(reason) }
            return o
        }
        fields["certificates"] = r.certificates.map(Self.certificateSummary)
    }

    mutating func describePKCS12(_ der: [UInt8], password: (() throws -> [UInt8])?) throws {
        guard let password else { return }
        let opened = try PKCS12.open(der, password: try password())
        fields["key"] = try opened.key.kind.description
        fields["certificate"] = Self.certificateSummary(opened.certificate)
        fields["chain"] = opened.chain.map(Self.certificateSummary)
        text = "PKCS#12: a \(try opened.key.kind) key, the certificate of \(opened.certificate.subject)"
            + (opened.chain.isEmpty ? "" : " and \(opened.chain.count) chain certificate(s)") + "\n"
            + (try opened.certificate.text)
    }
}

/// A few RFC 5280 checks any relying party would make of a certificate or CRL someone sent.
enum InspectLint {
    static func certificate(_ c: Certificate, now: Date = Date()) -> [String] {
        var f: [String] = []
        if c.serial.first.map({ $0 & 0x80 != 0 }) == true { f.append("RFC 5280 4.1.2.2: the serial number is negative") }
        if c.serial.count > 20 { f.append("RFC 5280 4.1.2.2: the serial number is longer than 20 octets") }
        if c.version != 3 && !c.extensions.isEmpty { f.append("RFC 5280 4.1.2.1: extensions need version 3") }
        if c.notAfter <= c.notBefore { f.append("RFC 5280 4.1.2.5: notAfter is not after notBefore") }
        if c.notAfter < now { f.append("expired on \(RFC3339.format(c.notAfter))") }
        if c.notBefore > now { f.append("not valid before \(RFC3339.format(c.notBefore))") }
        if c.subject.isEmpty && c.extension(ExtensionOID.subjectAltName)?.critical != true {
            f.append("RFC 5280 4.2.1.6: an empty subject needs a critical subjectAltName")
        }
        if !c.isSelfIssued && c.extension(ExtensionOID.authorityKeyIdentifier) == nil {
            f.append("RFC 5280 4.2.1.1: no authorityKeyIdentifier")
        }
        if c.basicConstraints?.ca == true {
            if c.keyUsage?.contains(.keyCertSign) != true { f.append("RFC 5280 4.2.1.3: a CA certificate without keyCertSign") }
            if c.subjectKeyIdentifier == nil { f.append("RFC 5280 4.2.1.2: a CA certificate without subjectKeyIdentifier") }
        }
        for e in c.extensions where e.critical && PKIObjectInspector.longName(ofOID: e.oid) == e.oid {
            f.append("unrecognised critical extension \(e.oid)")
        }
        return f
    }

    static func crl(_ crl: CertificateRevocationList, now: Date = Date()) -> [String] {
        var f: [String] = []
        if crl.number == nil { f.append("RFC 5280 5.2.3: no cRLNumber") }
        if crl.extensions.first(where: { $0.oid == ExtensionOID.authorityKeyIdentifier }) == nil {
            f.append("RFC 5280 5.2.1: no authorityKeyIdentifier")
        }
        guard let next = crl.nextUpdate else { f.append("RFC 5280 5.1.2.5: no nextUpdate"); return f }
        if next <= crl.thisUpdate { f.append("RFC 5280 5.1.2.5: nextUpdate is not after thisUpdate") }
        if next < now { f.append("stale: nextUpdate \(RFC3339.format(next)) has passed") }
        return f
    }
}
