import ArgumentParser
import Dispatch
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// `etrust issue --batch FILE.csv`: requests from the CSV, issued in groups that are committed
/// before their certificates are written out.
extension Issue {
    /// The rows of a batch CSV as requests (and the keys generated for them); rows that cannot
    /// even form a request are reported with their line and skipped.
    private func batchRequests(_ path: String, sanOverride: [GeneralName]?, subjectOverride: DistinguishedName?,
                               validity: ValidityDuration?) throws -> (requests: [IssuanceRequest], keys: [PrivateKey?], early: [(line: Int, error: String)]) {
        let text = try String(decoding: InputFile.readLarge(path), as: UTF8.self)
        let rows = try CSV.parse(text, what: path)
        guard let header = rows.first else { throw ETrustError.badInput("\(path): empty CSV", code: .malformedInput) }
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known: Set<String> = ["csr", "subject", "san", "validity", "profile"]
        if let unknown = columns.first(where: { !known.contains($0) }) {
            throw ETrustError.badInput("\(path): unknown column '\(unknown)' (csr, subject, san, validity, profile)", code: .malformedInput)
        }
        let csrColumn = columns.firstIndex(of: "csr")
        if generateKey {
            guard columns.contains("subject") || subjectOverride != nil else {
                throw ETrustError.badInput("\(path): with --generate-key the header needs a 'subject' column", code: .malformedInput)
            }
            guard out != nil else { throw ETrustError.badInput("--generate-key with --batch needs --out DIR for the PKCS#12 files", code: .invalidArgument) }
        } else if csrColumn == nil {
            throw ETrustError.badInput("\(path): the header needs a 'csr' column", code: .malformedInput)
        }
        if profile == nil && !columns.contains("profile") {
            throw ETrustError.badInput("--profile is required unless the CSV has a 'profile' column", code: .invalidArgument)
        }
        if let out {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } else if !isDir.boolValue {
                throw ETrustError.badInput("--out \(out) must be a folder for a batch", code: .invalidArgument)
            }
        }
        let base = FilePath.directory(of: path)
        func column(_ row: [String], _ name: String) -> String? {
            guard let i = columns.firstIndex(of: name), i < row.count else { return nil }
            let v = row[i].trimmingCharacters(in: .whitespaces)
            return v.isEmpty ? nil : v
        }
        // Rows that cannot even form a request are reported with their line and skipped.
        var requests: [IssuanceRequest] = []
        var keys: [PrivateKey?] = []
        var early: [(line: Int, error: String)] = []
        for (n, row) in rows.dropFirst().enumerated() {
            let line = n + 2
            if row.count == 1 && row[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                let source: IssuanceRequest.Source
                var key: PrivateKey? = nil
                let rowSubject = try column(row, "subject").map { try DistinguishedName(parsing: $0) } ?? subjectOverride
                if generateKey {
                    guard let rowSubject else { throw ETrustError.badInput("no subject given", code: .malformedInput) }
                    let k = try PrivateKey.generate(try KeyAlgorithm(parsing: keyType))
                    key = k
                    source = .csr(try CertificateSigningRequest.create(subject: rowSubject, key: k))
                } else {
                    guard let csrColumn, csrColumn < row.count, !row[csrColumn].isEmpty else {
                        throw ETrustError.badInput("no csr given", code: .malformedInput)
                    }
                    source = .csrFile(row[csrColumn].hasPrefix("/") ? row[csrColumn] : FilePath.join(base, row[csrColumn]))
                }
                keys.append(key)
                requests.append(IssuanceRequest(
                    source: source, profile: column(row, "profile") ?? profile!,
                    subject: try column(row, "subject").map { try DistinguishedName(parsing: $0) } ?? subjectOverride,
                    subjectAltNames: try column(row, "san").map { try SANList.parse([$0]) } ?? sanOverride,
                    validity: try column(row, "validity").map { try ValidityDuration(parsing: $0) } ?? validity,
                    label: "line \(line)"))
            } catch let e as ETrustError {
                early.append((line, e.reason))
            }
        }
        return (requests, keys, early)
    }

    func runBatch(_ path: String, sanOverride: [GeneralName]?, subjectOverride: DistinguishedName?, validity: ValidityDuration?) throws {
        let (requests, keys, early) = try batchRequests(path, sanOverride: sanOverride, subjectOverride: subjectOverride, validity: validity)
        let password = generateKey ? try p12Password() : []
        try options.changing { authority in
        let resumed = resume ? try resumeCommitted(requests, csv: path, authority: authority) : [:]
        let requests = requests.enumerated().filter { resumed[$0.offset] == nil }.map(\.element)
        let keys = keys.enumerated().filter { resumed[$0.offset] == nil }.map(\.element)
        try authority.unlock(ca: ca)
        let chain = generateKey ? try authority.chain(of: ca) : []
        let progress = Progress(total: requests.count, enabled: Output.stderrIsTerminal && !options.json)
        let started = DispatchTime.now()
        var released = 0
        let results = try authority.issue(requests, ca: ca) { group in
            // Each group is committed before its certificates are written out.
            if let out {
                for (index, result) in group {
                    guard let c = result.certificate else { continue }
                    try AtomicFile.writeCopy(Array(c.pem.utf8), to: FilePath.join(out, "\(c.serialHex).pem"))
                    if let key = keys[index] {
                        // The generated key leaves only inside the subscriber's PKCS#12.
                        try authority.recordSubscriberKey(ca: ca, serialHex: c.serialHex, profile: requests[index].profile, key: key)
                        let p12 = try PKCS12.create(key: key, certificate: c, chain: chain, password: password,
                                                    friendlyName: c.subject.values(ofName: "CN").first)
                        try AtomicFile.write(p12, to: FilePath.join(out, "\(c.serialHex).p12"), mode: 0o600, durable: false)
                    }
                }
            }
            released += group.count
            progress.update(released)
        }
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        try reportBatch(path, requests: requests, results: results, early: early, resumed: resumed.count, seconds: seconds)
        }
    }

    /// `--resume`: the rows whose key already has a certificate of this CA issued since the CSV
    /// was last modified (committed by a batch killed before it wrote them out) get that
    /// certificate's file, written now if missing; they are not issued again. Returns them by
    /// row index (their serials).
    private func resumeCommitted(_ requests: [IssuanceRequest], csv: String, authority: Authority) throws -> [Int: String] {
        guard let out else { return [:] }
        let modified = (try? FileManager.default.attributesOfItem(atPath: csv)[.modificationDate] as? Date) ?? nil
        guard let since = modified else { throw ETrustError.badInput("\(csv): cannot read its modification time for --resume", code: .io) }
        // Each committed certificate stands for one row: rows that repeat a key take its
        // certificates one each, oldest first.
        var bySPKI: [[UInt8]: [Certificate]] = [:]
        let records = try authority.certificates(matching: CertificateFilter(ca: ca, since: since.addingTimeInterval(-1)), at: authority.clock.now())
        for record in records.sorted(by: { $0.issuedAt > $1.issuedAt }) {
            let c = try Certificate(der: record.der)
            bySPKI[Digest.sha256(c.subjectPublicKeyInfo), default: []].append(c)
        }
        var resumed: [Int: String] = [:]
        for (i, request) in requests.enumerated() {
            guard case .csrFile(let path) = request.source,
                  let csr = try? CertificateSigningRequest(bytes: try InputFile.read(path), what: path),
                  let c = bySPKI[csr.publicKey.spkiSHA256]?.popLast() else { continue }
            let file = FilePath.join(out, "\(c.serialHex).pem")
            if !FileManager.default.fileExists(atPath: file) { try AtomicFile.write(Array(c.pem.utf8), to: file) }
            resumed[i] = c.serialHex
        }
        return resumed
    }

    /// The batch's summary (and each problem with its line), then exit 1 if any row was refused.
    private func reportBatch(_ path: String, requests: [IssuanceRequest], results: [IssuanceResult],
                             early: [(line: Int, error: String)], resumed: Int, seconds: Double) throws {
        var issued = 0
        var problems: [(line: String, message: String)] = early.map { ("line \($0.line)", $0.error) }
        var items: [[String: Any]] = early.map { ["line": $0.line, "error": $0.error] }
        for (i, r) in results.enumerated() {
            let label = requests[i].label
            let line = Int(label.dropFirst(5)) ?? 0
            switch r {
            case .issued(let c, _):
                issued += 1
                items.append(["line": line, "serial": c.serialHex, "subject": c.subject.description])
            case .refused(let p, let rule, let reason):
                problems.append((label, "refused by profile '\(p)' rule '\(rule)': \(reason)"))
                items.append(["line": line, "error": "refused by profile '\(p)' rule '\(rule)': \(reason)", "rule": rule])
            case .failed(let e):
                problems.append((label, e.reason))
                items.append(["line": line, "error": e.reason])
            }
        }
        items.sort { ($0["line"] as? Int ?? 0) < ($1["line"] as? Int ?? 0) }
        if options.json {
            var o: [String: Any] = ["issued": issued, "refused": problems.count, "results": items, "seconds": (seconds * 1000).rounded() / 1000]
            if resume { o["resumed"] = resumed }
            try Output.json(o)
        } else {
            for p in problems.sorted(by: { $0.line.count == $1.line.count ? $0.line < $1.line : $0.line.count < $1.line.count }) {
                Output.info("\(path): \(p.line): \(p.message)")
            }
            if resume { print("resumed \(resumed) certificate(s) committed by an earlier run") }
            print("issued \(issued), refused \(problems.count) in \(String(format: "%.2f", seconds)) s (\(Int(Double(issued) / max(seconds, 1e-9)))/s)")
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
