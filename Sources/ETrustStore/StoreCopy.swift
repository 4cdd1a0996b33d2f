import ETrustCore
import Foundation

/// Copies a SQLite store into an empty PostgreSQL one, table by table and row by row with their
/// ids, in one PostgreSQL transaction (a failed copy leaves the target empty).
public enum StoreCopy {
    /// Rows per INSERT statement (PostgreSQL takes at most 65,535 parameters per statement).
    static let rowsPerStatement = 500

    /// Copies every table of `StoreSchema.tables`; returns the rows copied per table.
    @discardableResult
    public static func copy(from source: SQLiteStore, to target: PostgresStore,
                            progress: (String, Int) -> Void = { _, _ in }) throws -> [String: Int] {
        guard try target.rowCounts().values.allSatisfy({ $0 == 0 }) else {
            throw ETrustError.refused("database \(target.url) is not empty; db migrate copies into an empty database only", code: .alreadyExists)
        }
        var copied: [String: Int] = [:]
        try target.transaction {
            for table in StoreSchema.tables {
                copied[table.name] = try copyTable(table.name, order: table.order, from: source, to: target)
                progress(table.name, copied[table.name] ?? 0)
            }
            try target.resetIdentities()
        }
        return copied
    }

    private static func copyTable(_ table: String, order: String, from source: SQLiteStore, to target: PostgresStore) throws -> Int {
        let columns = try source.columns(of: table)
        var pending: [[SQLValue]] = []
        var count = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            try target.insertRows(table, columns: columns, rows: pending)
            count += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        try source.forEachRow(of: table, columns: columns, order: order) { values in
            pending.append(values)
            if pending.count == rowsPerStatement { try flush() }
        }
        try flush()
        return count
    }
}

extension SQLiteStore {
    /// Rows per table of the schema.
    public func rowCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for t in StoreSchema.tables {
            counts[t.name] = Int(try db.prepare("SELECT COUNT(*) AS n FROM \(t.name)").query().first?.int("n") ?? 0)
        }
        return counts
    }

    func columns(of table: String) throws -> [String] {
        try db.prepare("PRAGMA table_info(\(table))").query().compactMap { $0.text("name") }
    }

    func forEachRow(of table: String, columns: [String], order: String, _ body: ([SQLValue]) throws -> Void) throws {
        try db.prepare("SELECT \(columns.joined(separator: ", ")) FROM \(table) ORDER BY \(order)").forEach { row in
            try body(columns.map { row.values[$0] ?? .null })
        }
    }

    /// A consistent copy of the whole database into a new file (`VACUUM INTO`), while others
    /// keep reading and writing.
    public func backup(to path: String) throws {
        try db.prepare("VACUUM INTO ?").run([.text(path)])
    }

    /// `PRAGMA quick_check`: the page structure without the index cross-checks (linear in the
    /// file's size); nil when sound, else SQLite's first complaint.
    /// Read through a connection of its own, so that pages cached by this one cannot hide
    /// what is on disk.
    public func quickCheckProblem() throws -> String? {
        let reader = try SQLiteConnection(path: db.path, readOnly: true)
        let r = try reader.prepare("PRAGMA quick_check(1)").query().first?.text("quick_check") ?? "no answer"
        return r == "ok" ? nil : r
    }

    /// `PRAGMA integrity_check`: nil when the file is sound, else SQLite's first complaint.
    public func integrityProblem() throws -> String? {
        let r = try db.prepare("PRAGMA integrity_check").query().first?.text("integrity_check") ?? "no answer"
        return r == "ok" ? nil : r
    }
}

extension PostgresStore {
    /// Rows per table of the schema.
    public func rowCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for t in StoreSchema.tables {
            counts[t.name] = Int(try db.query("SELECT COUNT(*) AS n FROM \(t.name)").first?.int("n") ?? 0)
        }
        return counts
    }

    func insertRows(_ table: String, columns: [String], rows: [[SQLValue]]) throws {
        try db.run(PostgresSession.insert(table, columns, rows: rows.count), rows.flatMap { $0 })
    }

    /// After rows were copied with their ids, the identity columns continue after the largest.
    func resetIdentities() throws {
        for t in StoreSchema.tables where t.order == "id" {
            try db.run("SELECT setval(pg_get_serial_sequence('\(t.name)', 'id'), COALESCE((SELECT MAX(id) FROM \(t.name)), 0) + 1, false)")
        }
    }
}
