import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

extension CertificateRecord {
    func json(at date: Date) -> [String: Any] {
        var o: [String: Any] = [
            "serial": serialHex, "ca": ca, "subject": subject, "subjectAltNames": subjectAltNames, "profile": profile,
            "notBefore": RFC3339.format(notBefore), "notAfter": RFC3339.format(notAfter), "status": status(at: date).rawValue,
            "issuedAt": RFC3339.format(issuedAt), "requester": requester,
        ]
        if let r = revokedAt { o["revokedAt"] = RFC3339.format(r) }
        if let r = revocationReason { o["revocationReason"] = RevocationReason(rawValue: r)?.name ?? String(r) }
        if let i = invalidityDate { o["invalidityDate"] = RFC3339.format(i) }
        return o
    }
}

struct ListCertificates: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Search the certificate database.")
    @Option(help: "Only this CA.") var ca: String?
    @Option(help: "valid, revoked or expired.") var status: String?
    @Option(help: "Only this profile.") var profile: String?
    @Option(help: "Subject contains TEXT.") var subject: String?
    @OptionGroup var range: TimeRangeOptions
    @OptionGroup var options: ReadOptions

    func run() throws {
        var filter = CertificateFilter(ca: ca, profile: profile, subjectContains: subject)
        if let status {
            guard let s = CertificateStatus(rawValue: status) else {
                throw ETrustError.badInput("unknown status '\(status)' (valid, revoked, expired)", code: .invalidArgument)
            }
            filter.status = s
        }
        (filter.since, filter.until) = try range.dates
        let authority = try options.openAuthority()
        if let ca { _ = try authority.ca(ca) }
        let now = authority.clock.now()
        let records = try authority.certificates(matching: filter, at: now)
        if options.json {
            try Output.json(["count": records.count, "certificates": records.map { $0.json(at: now) }])
        } else {
            for r in records {
                print("\(r.serialHex)\t\(r.status(at: now).rawValue)\t\(r.ca)\t\(r.profile)\t\(RFC3339.format(r.notAfter))\t\(r.subject)")
            }
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one certificate of the database by serial.")
    @Argument(help: "Serial number in hex (colons allowed).") var serial: String
    @Option(help: "The CA, when several CAs issued the same serial.") var ca: String?
    @Option(help: "Write the certificate (PEM) to this file instead of printing it.") var out: String?
    @OptionGroup var options: ReadOptions

    func run() throws {
        guard let bytes = Hex.decode(serial), !bytes.isEmpty, bytes.count <= 21 else {
            throw ETrustError.badInput("'\(serial)' is not a hexadecimal serial number", code: .invalidArgument)
        }
        let normalized = Hex.encode(bytes.drop(while: { $0 == 0 }).isEmpty ? [0] : Array(bytes.drop(while: { $0 == 0 })))
        let authority = try options.openAuthority()
        var records = try authority.certificates(serialHex: normalized)
        if let ca { records = records.filter { $0.ca == ca } }
        guard let record = records.first else {
            throw ETrustError.badInput("no certificate with serial \(normalized) in this home", code: .notFound)
        }
        let now = authority.clock.now()
        let certificate = try Certificate(der: record.der)
        if let out {
            try OutputPath.checkWritableFile(out)
            try AtomicFile.write(Array(certificate.pem.utf8), to: out)
        }
        if options.json {
            var o = record.json(at: now)
            o["certificate"] = certificate.pem
            o["sha256"] = Hex.encode(certificate.sha256Fingerprint)
            if let out { o["out"] = out }
            try Output.json(o)
        } else if let out {
            print("\(record.serialHex) \(record.subject) -> \(out)")
        } else {
            print("serial:   \(record.serialHex)")
            print("ca:       \(record.ca)")
            print("profile:  \(record.profile)")
            print("status:   \(record.status(at: now).rawValue)")
            print("issued:   \(RFC3339.format(record.issuedAt)) by \(record.requester)")
            print(try certificate.text, terminator: "")
            print(certificate.pem, terminator: "")
        }
    }
}
