import Foundation

extension SQLiteStore {
    func migrate() throws {
        try db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let applied = try db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").query().first?.int("v") ?? 0
        for (i, sql) in StoreSchema.migrations.enumerated() where Int64(i + 1) > applied {
            try db.transaction {
                try db.exec(sql)
                try db.prepare("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)")
                    .run([.int(Int64(i + 1)), .int(Int64(Date().timeIntervalSince1970))])
            }
        }
    }

}
