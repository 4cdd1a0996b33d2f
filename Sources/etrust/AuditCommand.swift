import ArgumentParser
import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The tamper-evident log of everything the CA did (RFC 6962 Merkle tree, signed checkpoints).",
        subcommands: [Log.self, Verify.self, Prove.self, Consistency.self, Export.self, Report.self])

    static func eventFilter(_ range: TimeRangeOptions? = nil, event: String?, serial: String?, ca: String?, profile: String?) throws -> EventFilter {
        if let event, !AuditEvent.types.contains(event) {
            throw ETrustError.badInput("unknown event '\(event)' (\(AuditEvent.types.joined(separator: ", ")))", code: .invalidArgument)
        }
        let dates = try range?.dates
        return EventFilter(since: dates?.since, until: dates?.until, type: event,
                    serialHex: try serial.map { s in
                        guard let b = Hex.decode(s) else { throw ETrustError.badInput("'\(s)' is not a hexadecimal serial", code: .invalidArgument) }
                        return Hex.encode(b.drop(while: { $0 == 0 }))
                    }, ca: ca, profile: profile)
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the log's entries, one line each (with --json: {count, events: [the entries' canonical JSON]}).")
        @OptionGroup var range: TimeRangeOptions
        @Option(help: "Only events of this kind (abandon, ca, ceremony, console, crl, issue, key, ocsp-signer, policy, refuse, revoke, unhold).") var event: String?
        @Option(help: "Only events about this serial.") var serial: String?
        @Option(help: "Only events of this CA.") var ca: String?
        @Option(help: "Only events of this profile.") var profile: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let filter = try Audit.eventFilter(range, event: event, serial: serial, ca: ca, profile: profile)
            let authority = try options.openAuthority()
            let events = try authority.auditLog.events(matching: filter)
            if options.json {
                // The payloads are JSON already, kept byte for byte as the log hashed them.
                print("{\"count\":\(events.count),\"events\":[" + events.map(\.payload).joined(separator: ",") + "]}")
                return
            }
            // One line per event for a person; the canonical JSON is what --json prints.
            print("index   time                  type        CA           serial                           profile          subject, rule or action")
            for e in events { print(e.line) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry and checkpoint of the log (or of a bundle); exit 1 names the first entry that fails.")
        @Option(help: "Verify an exported bundle instead of the home (no database, no CA key).") var bundle: String?
        @Option(help: "A checkpoint kept from an earlier visit: the log must extend it.") var against: [String] = []
        @Option(help: "The log's verifier key file (NAME+ID+KEY) kept by the auditor.") var key: String?
        @Flag(help: "Fail (exit 1) on entries not yet covered by a signed checkpoint (a bundle always does).") var strict = false
        @OptionGroup var options: ReadOptions

        func run() throws {
            let kept = try against.map { path -> String in
                guard let t = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ETrustError.badInput("\(path): cannot read the checkpoint", code: .notFound)
                }
                return t
            }
            let vkey = try key.map { path -> String in
                guard let t = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ETrustError.badInput("\(path): cannot read the verifier key", code: .notFound)
                }
                return t
            }
            let report: AuditVerifier.Report
            if let bundle {
                report = try AuditBundle.verify(path: bundle, kept: kept, verifierKey: vkey)
            } else {
                report = try options.openAuthority().verifyAudit(kept: kept, verifierKey: vkey, strict: strict)
            }
            let tail = report.unsignedTail.map { "entries \($0.lowerBound)..\($0.upperBound - 1) are not yet covered by a signed checkpoint (a command was interrupted or is still running; the next changing command signs them)" }
            if let tail { Output.error("warning: \(tail)") }
            if options.json {
                var o: [String: Any] = ["valid": report.ok, "entries": report.entries, "checkpoints": report.checkpoints]
                if let f = report.failure { o["reason"] = f.message; o["firstFailingEntry"] = f.entry ?? NSNull() }
                if let c = report.latest { o["treeSize"] = c.size; o["rootHash"] = Data(c.root).base64EncodedString() }
                if let t = report.unsignedTail { o["unsignedTail"] = ["from": t.lowerBound, "to": t.upperBound - 1] }
                try Output.json(o)
            } else if let f = report.failure {
                print("audit log does NOT verify: \(f.message)")
            } else {
                print("audit log verifies: \(report.entries) entries, \(report.checkpoints) signed checkpoint(s)" +
                      (report.latest.map { ", root \(Data($0.root).base64EncodedString()) at size \($0.size)" } ?? ""))
            }
            if !report.ok { throw ExitCode(1) }
        }
    }

    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Inclusion proof of a certificate's issuance entry against the newest checkpoint.")
        @Option(help: "The certificate's serial (hex).") var serial: String
        @OptionGroup var options: ReadOptions

        func run() throws {
            let normalized = try Audit.eventFilter(event: "issue", serial: serial, ca: nil, profile: nil).serialHex ?? serial
            let authority = try options.openAuthority()
            let (entry, proof, note) = try authority.audit.proveIssuance(serial: normalized)
            if options.json {
                try Output.json(["leafIndex": proof.index, "treeSize": proof.size, "entry": entry.payload,
                                 "leafHash": Data(proof.leafHash).base64EncodedString(), "proof": proof.hashes.map { Data($0).base64EncodedString() },
                                 "rootHash": Data(proof.root).base64EncodedString(), "checkpoint": note, "verified": proof.verified])
            } else {
                print("entry \(proof.index) of \(proof.size): \(entry.payload)")
                print("leaf hash: \(Data(proof.leafHash).base64EncodedString())")
                for (i, p) in proof.hashes.enumerated() { print("proof[\(i)]: \(Data(p).base64EncodedString())") }
                print("checkpoint:\n\(note)", terminator: "")
                print(proof.verified ? "inclusion proof verifies" : "inclusion proof does NOT verify")
            }
            if !proof.verified { throw ExitCode(1) }
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Consistency proof between two tree sizes of the log.")
        @Option(help: "The earlier tree size.") var from: Int
        @Option(help: "The later tree size.") var to: Int
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority()
            let size = try authority.auditLog.size
            guard from > 0, from <= to, to <= size else {
                throw ETrustError.badInput("need 0 < --from <= --to <= \(size) (the log's size)", code: .invalidArgument)
            }
            let consistency = try authority.auditLog.proveConsistency(from: from, to: to)
            let (proof, r1, r2, ok) = (consistency.hashes, consistency.root1, consistency.root2, consistency.verified)
            if options.json {
                try Output.json(["from": from, "to": to, "rootFrom": Data(r1).base64EncodedString(), "rootTo": Data(r2).base64EncodedString(),
                                 "proof": proof.map { Data($0).base64EncodedString() }, "verified": ok])
            } else {
                print("root at \(from): \(Data(r1).base64EncodedString())")
                print("root at \(to): \(Data(r2).base64EncodedString())")
                for (i, p) in proof.enumerated() { print("proof[\(i)]: \(Data(p).base64EncodedString())") }
                print(ok ? "consistency proof verifies" : "consistency proof does NOT verify")
            }
            if !ok { throw ExitCode(1) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a self-contained bundle (entries, checkpoints, public key) for offline audit.")
        @Option(help: "The bundle file.") var out: String
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority()
            let n = try authority.exportAudit(to: out)
            if options.json { try Output.json(["out": out, "entries": n]) } else { print("exported \(n) entries to \(out)") }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An auditor's report: counts, per-day issuance/refusals/revocations/CRLs, refusals by rule, revocations by reason, the CAs, and the log's verification; text, json, csv or html.")
        @OptionGroup var range: TimeRangeOptions
        @Option(help: "Same as --since.") var from: String?
        @Option(help: "Same as --until.") var to: String?
        @Option(help: "text, json, csv (one row per day, CA and profile) or html (one self-contained page with charts).") var format: String?
        @Option(help: "Write the report to FILE.") var out: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let chosen = format ?? (options.json ? "json" : "text")
            guard ["text", "json", "csv", "html"].contains(chosen) else { throw ValidationError("--format must be text, json, csv or html") }
            let dates = try range.dates
            let since = try from.map { try RFC3339.parse($0) } ?? dates.since, until = try to.map { try RFC3339.parse($0) } ?? dates.until
            let report = try AuditReport.build(try options.openAuthority(), from: since, to: until)
            let text: String
            switch chosen {
            case "json": text = String(decoding: try JSONSerialization.data(withJSONObject: report.json, options: [.sortedKeys]), as: UTF8.self) + "\n"
            case "csv": text = report.csv
            case "html": text = report.html
            default: text = report.text + "\n"
            }
            if let out {
                try AtomicFile.write(Array(text.utf8), to: out)
                if options.json { try Output.json(["out": out, "format": chosen, "verifies": report.verification.ok]) }
                else { Output.info("report written to \(out)") }
            } else {
                print(text, terminator: "")
            }
        }
    }
}
