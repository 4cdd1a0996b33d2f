import SwiftASN1

enum ASN1Errors {
    /// swift-asn1's error text without its source location ("truncatedASN1Field: ASN1.swift:202").
    static func describe(_ error: Error) -> String {
        if let e = error as? ASN1Error {
            switch e.code {
            case .truncatedASN1Field: return "truncated DER"
            case .invalidASN1Object: return "invalid DER object"
            case .unexpectedFieldType: return "unexpected DER field"
            case .invalidASN1IntegerEncoding: return "invalid DER integer"
            case .unsupportedFieldLength: return "unsupported DER length"
            case .invalidPEMDocument: return "invalid PEM"
            default: return "malformed DER"
            }
        }
        return "\(error)".split(separator: ":").first.map(String.init) ?? "malformed DER"
    }
}

extension ASN1Errors {
    /// The error of a parse that failed: an ETrustError as it is, anything else as bad input
    /// naming what was read and what it should have been.
    static func invalid(_ error: Error, what: String, kind: String) -> ETrustError {
        if let e = error as? ETrustError { return e }
        return ETrustError.badInput("\(what): not a valid \(kind) (\(describe(error)))")
    }
}
