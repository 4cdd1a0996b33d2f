import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// The record of a CA key ceremony (ETSI EN 319 411-1 and WebTrust ask for a witnessed one):
/// who generated which key, where it lives, and the certificate it got. `createCA` appends it to
/// the audit log as a `ceremony` event in the transaction that creates the CA, and writes it as
/// `ceremonies/NAME-YYYY-MM-DD.txt` in the home (just before that transaction, removed again if it
/// fails), with lines for the custodians, the operator and the witnesses to sign on paper.
public struct KeyCeremony: Sendable {
    public var ca: String
    public var subject: String
    public var parent: String?
    public var date: Date
    public var operatorName: String
    public var algorithm: String
    /// The key store's reference (`file:keys/NAME.key.pem`, `...#shares=MofN`, a PKCS#11 URI).
    public var keyReference: String
    /// The custodians' share ids, for a share-protected key.
    public var shareIDs: [String]
    public var spkiSHA256: [UInt8]
    public var certificateSHA256: [UInt8]
    public var serialHex: String

    public static let directory = "ceremonies"

    /// Where the key lives, in words.
    public var keyLocation: String {
        if let split = CustodyReference.split(keyReference) {
            return "encrypted PKCS#8 file \(CustodyReference.relativePath(keyReference)) under a random secret split among \(split.total) custodians; "
                + "any \(split.threshold) of their shares unlock it (\(keyReference))"
        }
        if keyReference.hasPrefix("file:") {
            return "encrypted PKCS#8 file \(keyReference.dropFirst(5)) under the home's passphrase (\(keyReference))"
        }
        return keyReference
    }

    var auditEvent: AuditEvent {
        var fields = ["action": "key-ceremony", "operator": operatorName, "algorithm": algorithm, "keyReference": keyReference,
                      "keyLocation": keyLocation, "spkiSHA256": Hex.encode(spkiSHA256),
                      "certificateSHA256": Hex.encode(certificateSHA256), "subject": subject, "parent": parent ?? ""]
        if !shareIDs.isEmpty { fields["shares"] = shareIDs.joined(separator: ",") }
        return AuditEvent(type: "ceremony", time: date, ca: ca, serialHex: serialHex, profile: nil, fields: fields)
    }

    /// `ceremonies/NAME-YYYY-MM-DD.txt`, relative to the home (a second record of the same CA
    /// and day, which `createCA` never makes, would get `-2`).
    public var relativePath: String { KeyCeremony.relativePath(ca: ca, date: date) }
    public static func relativePath(ca: String, date: Date) -> String { "\(directory)/\(ca)-\(RFC3339.format(date).prefix(10)).txt" }

    public var text: String {
        var lines = [
            "etrust key ceremony record",
            "==========================",
            "",
            "CA:                   \(ca)",
            "Subject:              \(subject)",
            "Issued by:            \(parent ?? "(self-signed root)")",
            "Date:                 \(RFC3339.format(date))",
            "Operator:             \(operatorName)",
            "Key algorithm:        \(algorithm)",
            "Key location:         \(keyLocation)",
        ]
        if !shareIDs.isEmpty {
            lines.append("Custodian shares:     \(shareIDs.joined(separator: ", "))")
        }
        lines += [
            "Key SPKI SHA-256:     \(Hex.encode(spkiSHA256))",
            "Certificate serial:   \(serialHex)",
            "Certificate SHA-256:  \(Hex.encode(certificateSHA256))",
            "",
            "The same facts are in the home's audit log (event type 'ceremony'); check them with",
            "'etrust audit log --event ceremony --ca \(ca)' and 'etrust audit verify'.",
            "",
            "We, the undersigned, witnessed the generation of this key and the issuance of this",
            "certificate, and confirm the facts above.",
            "",
        ]
        if !shareIDs.isEmpty {
            lines.append("Custodians (one line per share received):")
            for id in shareIDs {
                lines.append("  Share \(id.padding(toLength: 14, withPad: " ", startingAt: 0)) Name: ______________________  Signature: ______________________  Date: __________")
            }
            lines.append("")
        }
        lines.append("Operator:  Name: ______________________  Signature: ______________________  Date: __________")
        lines.append("")
        lines.append("Witnesses:")
        for i in 1...3 {
            lines.append("  \(i). Name: ______________________  Role: ______________  Signature: ______________________  Date: __________")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the record into the home (never over another record) and returns its path.
    @discardableResult
    func write(home: Home) throws -> String {
        let directory = home.join(KeyCeremony.directory)
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        }
        var path = home.join(relativePath)
        var n = 2
        while FileManager.default.fileExists(atPath: path) {
            path = home.join(String(relativePath.dropLast(4)) + "-\(n).txt")
            n += 1
        }
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644, replace: false)
        return path
    }
}
