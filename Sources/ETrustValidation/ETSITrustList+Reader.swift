import ETrustCore
import Foundation

/// Reads a signed TS 119 612 list: its structure element by element, its XMLDSig/XAdES
/// signature through xmlsec1, its signer against the given certificate, and its NextUpdate.
public enum ETSITrustListReader {
    public struct Verified: Sendable {
        public var list: TrustList
        public var signer: Certificate
        public var signingTime: Date?
        /// Services of other types (TSA, OCSP, ...) that were not taken.
        public var skippedServices: Int
    }

    /// Whether the bytes look like XML rather than JSON.
    public static func looksLikeXML(_ bytes: [UInt8]) -> Bool {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        return start.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } == UInt8(ascii: "<")
    }

    public static func verify(_ bytes: [UInt8], signerCertificate trusted: Certificate, at time: Date, what: String) throws -> Verified {
        let root = try XMLTree.parse(bytes, what: what)
        let signature = try signatureParts(root, what: what)
        let (valid, detail) = try XMLSignature.verify(bytes, signer: signature.signer)
        guard valid else {
            throw ETrustError.refused("\(what): the XML signature does not verify (\(detail)): the list was changed after signing or not signed by its certificate",
                                      code: .badSignature)
        }
        try SignedTrustList.checkSigner(signature.signer, trusted: trusted, signingTime: signature.signingTime ?? time, what: what)
        let (list, skipped) = try read(root, what: what)
        try list.checkNotExpired(at: time, what: what)
        return Verified(list: list, signer: signature.signer, signingTime: signature.signingTime, skippedServices: skipped)
    }

    static func fail(_ what: String, _ message: String) -> ETrustError {
        ETrustError.badInput("\(what): not a TS 119 612 trusted list: \(message)", code: .malformedInput)
    }

    /// The one enveloped ds:Signature: it covers the whole document (URI "" with the enveloped
    /// transform) and the XAdES SignedProperties, whose SigningCertificateV2 names the signer.
    static func signatureParts(_ root: XMLTreeElement, what: String) throws -> (signer: Certificate, signingTime: Date?) {
        // Exactly one signature in the whole document, a child of the root: xmlsec1 verifies the
        // first it finds, and that must be the one read here (no signature wrapping).
        let signatures = root.children("Signature", ETSI.ds)
        let everywhere = root.count(where: { $0.name == "Signature" && $0.namespace == ETSI.ds })
        guard signatures.count == 1, everywhere == 1, let sig = signatures.first else {
            throw fail(what, "\(everywhere) ds:Signature elements (one expected, a child of the root)")
        }
        let refs = sig.child("SignedInfo", ETSI.ds)?.children("Reference", ETSI.ds) ?? []
        guard refs.contains(where: { $0.attributes["URI"] == "" && ($0.child("Transforms", ETSI.ds)?.children("Transform", ETSI.ds) ?? [])
                .contains { $0.attributes["Algorithm"] == ETSI.envelopedTransform } }) else {
            throw fail(what, "the signature does not cover the whole list (no Reference URI=\"\" with the enveloped-signature transform)")
        }
        guard let props = sig.child("Object", ETSI.ds)?.child("QualifyingProperties", ETSI.xades)?.child("SignedProperties", ETSI.xades),
              let spID = props.attributes["Id"], root.count(where: { $0.attributes["Id"] == spID }) == 1,
              refs.contains(where: { $0.attributes["URI"] == "#" + spID && $0.attributes["Type"] == ETSI.signedPropertiesType }) else {
            throw fail(what, "no signed XAdES SignedProperties (XAdES-BES)")
        }
        guard let certText = sig.at(["KeyInfo", "X509Data", "X509Certificate"], ETSI.ds)?.text,
              let der = Data(base64Encoded: certText, options: .ignoreUnknownCharacters) else {
            throw fail(what, "no signer certificate in ds:KeyInfo/ds:X509Data")
        }
        let signer = try Certificate(der: [UInt8](der), what: "\(what): signer certificate")
        let ssp = props.child("SignedSignatureProperties", ETSI.xades)
        guard let digest = ssp?.at(["SigningCertificateV2", "Cert", "CertDigest"], ETSI.xades) ?? ssp?.at(["SigningCertificate", "Cert", "CertDigest"], ETSI.xades),
              digest.child("DigestMethod", ETSI.ds)?.attributes["Algorithm"] == ETSI.sha256,
              let value = digest.child("DigestValue", ETSI.ds).flatMap({ Data(base64Encoded: $0.text) }) else {
            throw fail(what, "no SHA-256 SigningCertificateV2 in the SignedProperties")
        }
        guard [UInt8](value) == signer.sha256Fingerprint else {
            throw ETrustError.refused("\(what): SigningCertificateV2 does not name the certificate in KeyInfo", code: .badSignature)
        }
        let signingTime = try ssp?.child("SigningTime", ETSI.xades).map { try RFC3339.parse($0.text) }
        return (signer, signingTime)
    }
}

extension SignedTrustList {
    /// A signed etrust JSON list or a signed TS 119 612 XML list, told apart by their first byte.
    public static func verifyAny(_ bytes: [UInt8], signerCertificate trusted: Certificate, at time: Date, what: String) throws -> Verified {
        guard ETSITrustListReader.looksLikeXML(bytes) else { return try verify(bytes, signerCertificate: trusted, at: time, what: what) }
        let v = try ETSITrustListReader.verify(bytes, signerCertificate: trusted, at: time, what: what)
        return Verified(list: v.list, signer: v.signer, signingTime: v.signingTime)
    }
}
