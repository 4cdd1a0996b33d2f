import ETrustCore
import Foundation

extension ETSITrustListWriter {
    /// ds:Signature over the whole list (Reference URI="" with the enveloped-signature transform)
    /// and over the XAdES SignedProperties (SigningTime, SigningCertificateV2), digests empty.
    func signatureTemplate(_ x: inout XMLText) {
        x.open("ds:Signature", ["Id": "tsl-signature"])
        x.open("ds:SignedInfo")
        x.leaf("ds:CanonicalizationMethod", nil, ["Algorithm": ETSI.excC14N])
        x.leaf("ds:SignatureMethod", nil, ["Algorithm": signatureMethod])
        reference(&x, uri: "", type: nil, transforms: [ETSI.envelopedTransform, ETSI.excC14N], id: "tsl-reference")
        reference(&x, uri: "#tsl-signed-properties", type: ETSI.signedPropertiesType, transforms: [ETSI.excC14N], id: nil)
        x.close("ds:SignedInfo")
        x.leaf("ds:SignatureValue", "")
        x.open("ds:KeyInfo"); x.open("ds:X509Data")
        x.leaf("ds:X509Certificate", Data(signer.der).base64EncodedString())
        x.close("ds:X509Data"); x.close("ds:KeyInfo")
        x.open("ds:Object")
        x.open("xades:QualifyingProperties", ["Target": "#tsl-signature"])
        x.open("xades:SignedProperties", ["Id": "tsl-signed-properties"])
        x.open("xades:SignedSignatureProperties")
        x.leaf("xades:SigningTime", RFC3339.format(signingTime))
        x.open("xades:SigningCertificateV2"); x.open("xades:Cert"); x.open("xades:CertDigest")
        x.leaf("ds:DigestMethod", nil, ["Algorithm": ETSI.sha256])
        x.leaf("ds:DigestValue", Data(signer.sha256Fingerprint).base64EncodedString())
        x.close("xades:CertDigest"); x.close("xades:Cert"); x.close("xades:SigningCertificateV2")
        x.close("xades:SignedSignatureProperties")
        x.close("xades:SignedProperties")
        x.close("xades:QualifyingProperties")
        x.close("ds:Object")
        x.close("ds:Signature")
    }

    private var signatureMethod: String {
        if case .ec? = (try? signer.publicKey.kind) { return "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" }
        return "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    }

    private func reference(_ x: inout XMLText, uri: String, type: String?, transforms: [String], id: String?) {
        var attributes = ["URI": uri]
        if let type { attributes["Type"] = type }
        if let id { attributes["Id"] = id }
        x.open("ds:Reference", attributes)
        x.open("ds:Transforms")
        for t in transforms { x.leaf("ds:Transform", nil, ["Algorithm": t]) }
        x.close("ds:Transforms")
        x.leaf("ds:DigestMethod", nil, ["Algorithm": ETSI.sha256])
        x.leaf("ds:DigestValue", "")
        x.close("ds:Reference")
    }
}

/// Indented XML text, every value escaped; attributes in name order.
struct XMLText {
    var text = ""
    private var depth = 0

    mutating func line(_ s: String) { text += String(repeating: "  ", count: depth) + s + "\n" }

    private func attributes(_ a: [String: String]) -> String {
        a.keys.sorted().map { " \($0)=\"\(XMLTree.escape(a[$0]!))\"" }.joined()
    }

    mutating func open(_ name: String, _ a: [String: String] = [:]) { line("<\(name)\(attributes(a))>"); depth += 1 }

    mutating func close(_ name: String) { depth -= 1; line("</\(name)>") }

    /// An element with text content, or empty (`nil`).
    mutating func leaf(_ name: String, _ content: String?, _ a: [String: String] = [:]) {
        if let content { line("<\(name)\(attributes(a))>\(XMLTree.escape(content))</\(name)>") } else { line("<\(name)\(attributes(a))/>") }
    }
}
