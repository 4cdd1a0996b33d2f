import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a certificate (recorded durably before success is reported).")
    @Option(help: "The issuing CA.") var ca: String
    @Option(help: "The certificate's serial number (hex).") var serial: String
    @Option(help: "unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.")
    var reason: String = "unspecified"
    @Option(help: "Revocation time (RFC 3339; default now).") var at: String?
    @Option(help: "Invalidity date: when the key is known or suspected compromised (RFC 3339).") var invalidityDate: String?
    @OptionGroup var options: HomeOptions

    func run() throws {
        let reasonValue = try RevocationReason(parsing: reason)
        let atDate = try at.map { try RFC3339.parse($0) }
        let invalidity = try invalidityDate.map { try RFC3339.parse($0) }
        let serialHex = try Authority.serialHex(parsing: serial)
        let record = try options.changing { try $0.revoke(ca: ca, serial: serialHex, reason: reasonValue, at: atDate, invalidityDate: invalidity) }
        if options.json {
            var o: [String: Any] = ["serial": record.serialHex, "ca": ca, "status": "revoked", "reason": reasonValue.name,
                                    "revokedAt": RFC3339.format(record.revokedAt ?? Date())]
            if let i = record.invalidityDate { o["invalidityDate"] = RFC3339.format(i) }
            try Output.json(o)
        } else {
            print("revoked \(record.serialHex) (\(reasonValue.name)) of CA \(ca) at \(RFC3339.format(record.revokedAt ?? Date()))")
        }
    }
}

struct Unhold: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Release a certificateHold: valid again, removeFromCRL on the next delta CRL.")
    @Option(help: "The issuing CA.") var ca: String
    @Option(help: "The certificate's serial number (hex).") var serial: String
    @OptionGroup var options: HomeOptions

    func run() throws {
        let serialHex = try Authority.serialHex(parsing: serial)
        try options.changing { try $0.unhold(ca: ca, serial: serialHex) }
        if options.json { try Output.json(["serial": serialHex, "ca": ca, "status": "valid"]) } else { print("released hold on \(serialHex) of CA \(ca)") }
    }
}

struct CRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Publish the next CRL of a CA (`etrust crl --ca NAME`), or check a CRL (`etrust crl verify`).",
        subcommands: [Publish.self, Verify.self, Import.self], defaultSubcommand: Publish.self)

    struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign and publish the next CRL of a CA (all shards of a partitioned CA), or a delta CRL; or every CA's that is due (--all --if-due).")
    @Option(help: "The CA (or --all).") var ca: String?
    @Flag(help: "Every CA with its key on this host (offline CAs are skipped: use 'crl import').") var all = false
    @Flag(help: "With --all: only the CAs whose CRLs reach their overlap before nextUpdate (for a timer).") var ifDue = false
    @Flag(help: "A delta CRL against the newest full CRL.") var delta = false
    @Option(help: "Also write the CRL to FILE (a folder for a partitioned CA), PEM unless --der.") var out: String?
    @Flag(help: "With --out: DER instead of PEM (pub/crl/ always holds DER, as HTTP clients fetch it).") var der = false
    @OptionGroup var options: HomeOptions

    func run() throws {
        if all || ifDue {
            guard all, ca == nil, !delta, out == nil else {
                throw ValidationError(all ? "--all publishes every CA: without --ca, --delta or --out" : "--if-due goes with --all")
            }
            return try publishAll()
        }
        guard let ca else { throw ValidationError("--ca NAME or --all is required") }
        let published = try options.changing { try $0.publishCRL(ca: ca, delta: delta) }
        if let out {
            if published.count > 1 {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            }
            for p in published {
                let path = published.count > 1 ? FilePath.join(out, FilePath.lastComponent(of: p.record.path)) : out
                if der { try AtomicFile.write(p.der, to: path) } else { try AtomicFile.write(PEM.encode(p.der, label: "X509 CRL"), to: path) }
            }
        }
        if options.json {
            try Output.json(["crls": published.map(json)])
        } else {
            for p in published { print(line(p)) }
        }
    }

    private func publishAll() throws {
        let rounds = try options.changing { try $0.crls.publishAll(ifDue: ifDue) }
        if options.json {
            try Output.json(["cas": rounds.map { r -> [String: Any] in
                var o: [String: Any] = ["ca": r.ca, "crls": r.published.map(json)]
                if let s = r.skipped { o["skipped"] = s }
                return o
            }])
        } else {
            for r in rounds {
                if let s = r.skipped { print("\(r.ca): \(s)") }
                for p in r.published { print("\(r.ca): " + line(p)) }
            }
        }
    }

    func json(_ p: Authority.PublishedCRL) -> [String: Any] {
        var o: [String: Any] = ["number": p.record.number, "kind": p.record.kind.rawValue, "entries": p.record.entries,
                                "thisUpdate": RFC3339.format(p.record.thisUpdate), "nextUpdate": RFC3339.format(p.record.nextUpdate),
                                "path": options.userPath(p.record.path), "sha256": p.record.sha256]
        if let s = p.record.shard { o["shard"] = s }
        if let b = p.record.baseNumber { o["baseNumber"] = b }
        return o
    }

    func line(_ p: Authority.PublishedCRL) -> String {
        "published CRL #\(p.record.number) (\(p.record.kind.rawValue)\(p.record.shard.map { " \($0)" } ?? "")\(p.record.baseNumber.map { ", base #\($0)" } ?? ""), \(p.record.entries) entries, next update \(RFC3339.format(p.record.nextUpdate))) -> \(options.userPath(p.record.path))"
    }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a CRL: signature, issuer authority, freshness, critical extensions.")
        @Argument(help: "The CRL (PEM or DER).") var file: String
        @Option(help: "The issuing CA's certificate.") var issuer: String
        @Option(help: "Judge freshness at T (RFC 3339; default now).") var at: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let crl = try CertificateRevocationList(bytes: try InputFile.readLarge(file), what: file)
            let issuerCert = try Certificate(bytes: try InputFile.read(issuer), what: issuer)
            let time = try at.map { try RFC3339.parse($0) } ?? Date()
            let report = crl.verify(issuer: issuerCert, at: time)
            if json {
                var o: [String: Any] = ["valid": report.problems.isEmpty, "number": crl.number.map { $0 as Any } ?? NSNull(),
                                        "thisUpdate": RFC3339.format(crl.thisUpdate),
                                        "nextUpdate": crl.nextUpdate.map { RFC3339.format($0) as Any } ?? NSNull(),
                                        "entries": crl.entries.count, "issuer": crl.issuer.description,
                                        "scope": crl.scopeDescription, "reasons": crl.reasonCounts]
                if let b = crl.deltaBase { o["deltaBase"] = b }
                if let p = report.problems.first { o["reason"] = p }
                o["problems"] = report.problems
                try Output.json(o)
            } else {
                print("CRL #\(crl.number.map(String.init) ?? "?") of \(crl.issuer)\(crl.deltaBase.map { " (delta of #\($0))" } ?? "")")
                print("  thisUpdate \(RFC3339.format(crl.thisUpdate)), nextUpdate \(crl.nextUpdate.map(RFC3339.format) ?? "(none)")")
                print("  scope: \(crl.scopeDescription)")
                print("  \(crl.entries.count) entries" + (crl.reasonCounts.isEmpty ? "" : ": " + crl.reasonCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
                print(report.problems.isEmpty ? "valid" : "INVALID: " + report.problems.joined(separator: "; "))
            }
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a CRL signed on another host (an offline CA's) under pub/crl/, after checking it against the CA's certificate.")
        @Argument(help: "The CRL (PEM or DER).") var file: String
        @Option(help: "The CA that signed it (an offline CA of this home).") var ca: String
        @OptionGroup var options: HomeOptions

        func run() throws {
            let der = try CertificateRevocationList(bytes: try InputFile.readLarge(file), what: file).der
            let crl = try options.changing { try $0.crls.importCRL(ca: ca, der: der) }
            if options.json {
                try Output.json(["ca": ca, "number": crl.number.map { $0 as Any } ?? NSNull(), "entries": crl.entries.count,
                                 "thisUpdate": RFC3339.format(crl.thisUpdate)])
            } else {
                print("published CRL #\(crl.number.map(String.init) ?? "?") of CA \(ca) (\(crl.entries.count) entries)")
            }
        }
    }
}
