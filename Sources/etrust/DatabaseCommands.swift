import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// `etrust db migrate` and `etrust db status`: the home's store and its engine.
struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db", abstract: "The home's database: status, migration to PostgreSQL.",
                                                    subcommands: [Status.self, Migrate.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The engine, where the database is, and its rows per table.")
        @OptionGroup var options: ReadOptions

        func run() throws {
            let home = try Home.open(options.homePath)
            let store = try home.openStore()
            let counts = try (store as? SQLiteStore)?.rowCounts() ?? (store as? PostgresStore)?.rowCounts() ?? [:]
            if options.json {
                try Output.json(["engine": home.config.databaseEngine.rawValue, "database": home.databaseDescription, "rows": counts])
            } else {
                print("\(home.config.databaseEngine.rawValue): \(home.databaseDescription)")
                for (table, n) in counts.sorted(by: { $0.key < $1.key }) { print("  \(table): \(n)") }
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite home's database into an empty PostgreSQL database, prove the copy, and switch etrust.yaml to it.")
        @Option(help: "The PostgreSQL database: postgres://USER@HOST:PORT/DATABASE.") var to: String
        @Option(help: "A file holding the database password (else ETRUST_DB_PASSWORD); written into etrust.yaml as database.passwordFile.")
        var dbPasswordFile: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let home = try Home.open(options.homePath)
            let url = try DatabaseURL(to)
            let passwordFile = dbPasswordFile.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            let proof = try DatabaseMigration.migrate(home: home, to: url, passwordFile: passwordFile)
            if proof.holds { try DatabaseMigration.switchConfiguration(home: home, to: url, passwordFile: passwordFile) }
            report(proof, url: url)
            if !proof.holds { throw ExitCode(1) }
        }

        private func report(_ proof: DatabaseMigration.Proof, url: DatabaseURL) {
            let root = Data(proof.copyRoot).base64EncodedString()
            if options.json {
                var o: [String: Any] = ["to": url.description, "proven": proof.holds, "auditSize": proof.auditSize, "auditRoot": root,
                                        "rows": proof.counts.mapValues { ["sqlite": $0.source, "postgres": $0.copy] },
                                        "checkpoints": proof.verification.checkpoints]
                if let f = proof.failure { o["reason"] = f }
                try? Output.json(o)
                return
            }
            for (table, c) in proof.counts.sorted(by: { $0.key < $1.key }) {
                print("  \(table): \(c.source) rows in SQLite, \(c.copy) in PostgreSQL")
            }
            if let failure = proof.failure {
                print("the copy in \(url) is NOT proven: \(failure); etrust.yaml is unchanged")
            } else {
                print("copied into \(url) and proven: audit log root \(root) at size \(proof.auditSize) on both, "
                      + "\(proof.verification.checkpoints) signed checkpoint(s) verify against the copy")
                print("etrust.yaml now names PostgreSQL; the SQLite file stays as it was")
            }
        }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent backup of the home's database (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom).")
    @Option(help: "The backup file (must not exist).") var out: String
    @OptionGroup var options: ReadOptions

    func run() throws {
        let home = try Home.open(options.homePath)
        let written = try DatabaseBackup.backup(home: home, to: out)
        if options.json {
            try Output.json(["file": written.path, "bytes": written.bytes, "sha256": written.sha256, "engine": home.config.databaseEngine.rawValue])
        } else {
            print("backup of \(home.databaseDescription) written to \(written.path) (\(written.bytes) bytes, sha256 \(written.sha256))")
        }
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the home's database with a backup (stop every process using it first), then verify the audit log.")
    @Option(help: "The backup file written by 'etrust backup'.") var from: String
    @OptionGroup var options: ReadOptions

    func run() throws {
        let home = try Home.open(options.homePath)
        let restored = try DatabaseBackup.restore(home: home, from: from)
        let report = restored.verification
        if let before = restored.publishedSizeBefore {
            Output.error("warning: the home had published a checkpoint at size \(before); the \(before - report.entries) entries appended after this backup are not in it (an auditor's kept checkpoint will show the rollback)")
        }
        if options.json {
            var o: [String: Any] = ["restored": from, "valid": report.ok, "entries": report.entries, "checkpoints": report.checkpoints]
            if let f = report.failure { o["reason"] = f.message }
            if let before = restored.publishedSizeBefore { o["publishedSizeBefore"] = before }
            try Output.json(o)
        } else if let f = report.failure {
            print("restored \(from) into \(home.databaseDescription), but the audit log does NOT verify: \(f.message)")
        } else {
            print("restored \(from) into \(home.databaseDescription); audit log verifies: \(report.entries) entries, \(report.checkpoints) signed checkpoint(s)")
        }
        if !report.ok { throw ExitCode(1) }
    }
}
