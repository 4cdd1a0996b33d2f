import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// The engines every conformance test runs on.
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh, empty store of one engine, with the demo root as CA "root".
final class StoreFixture {
    let engine: Engine
    let folder: String
    let store: any HomeStore
    /// Another connection to the same database (for PostgreSQL; SQLite: another handle on the file).
    let url: DatabaseURL?
    static let now = Date(unixSeconds: 1_800_000_000)

    init(_ engine: Engine) throws {
        self.engine = engine
        folder = try TestSupport.temporaryDirectory("etrust-store")
        switch engine {
        case .sqlite:
            url = nil
            store = try SQLiteStore(path: folder + "/etrust.db")
        case .postgres:
            let url = try TestPostgres.freshDatabase()
            self.url = url
            store = try PostgresStore(url: url, password: TestPostgres.password)
        }
        try store.insert(ca: CARecord(name: "root", certificate: try StoreFixture.demoRoot(), keyReference: "file:keys/root.key.pem",
                                      parent: nil, profile: "root", createdAt: StoreFixture.now), issued: nil)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// A second store on the same database, as another process would open it.
    func reopen() throws -> any HomeStore {
        switch engine {
        case .sqlite: return try SQLiteStore(path: folder + "/etrust.db")
        case .postgres: return try PostgresStore(url: try #require(url), password: TestPostgres.password)
        }
    }

    static func demoRoot() throws -> Certificate {
        let path = TestSupport.packageRoot + "/Certs/demo-root.pem"
        return try Certificate(bytes: Array(try #require(FileManager.default.contents(atPath: path))))
    }

    static func certificate(_ serial: String, ca: String = "root", subject: String? = nil, profile: String = "tls-server",
                            notAfter: Date = now.addingTimeInterval(86_400 * 90), shard: Int = 0) -> CertificateRecord {
        CertificateRecord(ca: ca, serialHex: serial, subject: subject ?? "CN=\(serial).example.org", subjectAltNames: ["\(serial).example.org"],
                          profile: profile, notBefore: now, notAfter: notAfter, shard: shard, der: Array("der-\(serial)".utf8),
                          requester: "tester", issuedAt: now)
    }
}
