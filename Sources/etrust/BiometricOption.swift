import ETrustCore
import Foundation

/// `--biometric TYPE=FILE[,uri=URI]`: TYPE is picture, handwritten-signature or an OID; only the
/// SHA-256 of FILE is used (RFC 3739 3.2.2), never its content.
struct BiometricSample {
    var kind: BiometricData.Kind
    var path: String
    var uri: String?

    init(parsing text: String, allowURI: Bool) throws {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ETrustError.badInput("--biometric '\(text)': give TYPE=FILE (TYPE: picture, handwritten-signature or an OID)", code: .invalidArgument)
        }
        kind = try BiometricData.Kind(parsing: String(text[..<eq]))
        var rest = String(text[text.index(after: eq)...])
        if let r = rest.range(of: ",uri=", options: .backwards) {
            guard allowURI else { throw ETrustError.badInput("--biometric: uri= goes with issue, not verify", code: .invalidArgument) }
            let u = String(rest[r.upperBound...])
            guard u.allSatisfy({ $0.isASCII && !$0.isWhitespace }), u.contains(":") else {
                throw ETrustError.badInput("--biometric: sourceDataUri '\(u)' is not an ASCII URI", code: .invalidArgument)
            }
            uri = u
            rest = String(rest[..<r.lowerBound])
        }
        guard !rest.isEmpty else { throw ETrustError.badInput("--biometric '\(text)': the FILE is missing", code: .invalidArgument) }
        path = rest
    }

    func read() throws -> [UInt8] {
        let bytes = try InputFile.readLarge(path)
        guard !bytes.isEmpty else { throw ETrustError.badInput("--biometric \(path): the sample is empty", code: .invalidArgument) }
        return bytes
    }

    /// The entries of the certificate, one a --biometric.
    static func entries(_ values: [String]) throws -> [BiometricData] {
        try values.map { v in
            let s = try BiometricSample(parsing: v, allowURI: true)
            return BiometricData(kind: s.kind, sample: try s.read(), sourceDataURI: s.uri)
        }
    }

    /// Whether each presented sample matches the certificate's entry of its type, as JSON objects.
    static func check(_ values: [String], against certificate: Certificate) throws -> [[String: Any]] {
        let samples = try values.map { try BiometricSample(parsing: $0, allowURI: false) }
        let entries = try certificate.biometricInfo() ?? []
        return try samples.map { s in
            let bytes = try s.read()
            let entry = entries.first { $0.kind == s.kind }
            var o: [String: Any] = ["type": s.kind.description, "file": s.path, "present": entry != nil,
                                    "matches": entry?.matches(bytes) ?? false]
            if let uri = entry?.sourceDataURI { o["sourceDataUri"] = uri }
            return o
        }
    }
}
