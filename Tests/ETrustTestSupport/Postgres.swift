import ETrustCore
import ETrustStore
import Foundation

/// The private PostgreSQL server that Tools/test.sh starts (Tools/postgres.sh): its URL
/// (ETRUST_TEST_POSTGRES_URL) and password (ETRUST_DB_PASSWORD). A run without it fails the
/// tests that need it; nothing is skipped.
public enum TestPostgres {
    public static var url: DatabaseURL {
        get throws {
            guard let text = ProcessInfo.processInfo.environment["ETRUST_TEST_POSTGRES_URL"], !text.isEmpty else {
                throw ETrustError.environment("ETRUST_TEST_POSTGRES_URL is not set: run the suite through Tools/test.sh, which starts PostgreSQL")
            }
            return try DatabaseURL(text)
        }
    }

    public static var password: String? { ProcessInfo.processInfo.environment["ETRUST_DB_PASSWORD"] }

    /// A new, empty database on the test server.
    public static func freshDatabase() throws -> DatabaseURL {
        let name = "etrust_t_" + (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let server = try url
        try PostgresStore.createDatabase(name, on: server, password: password)
        return server.with(database: name)
    }

    /// The PostgreSQL tool `name` (psql, pg_ctl, ...): on PATH or in Debian's folder.
    public static func tool(_ name: String) -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? name
    }

    /// Runs one SQL statement with psql on `database`; returns its output (tuples only).
    public static func psql(_ database: DatabaseURL, _ sql: String) throws -> String {
        let r = try TestSupport.run(tool("psql"), ["-X", "-q", "-tA", "-h", database.host, "-p", String(database.port), "-U", database.user,
                                                   "-d", database.database, "-v", "ON_ERROR_STOP=1", "-c", sql],
                                    environment: ["PGPASSWORD": password ?? ""])
        guard r.status == 0 else { throw ETrustError.environment("psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
