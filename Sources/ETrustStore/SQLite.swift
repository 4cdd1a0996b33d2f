import CSQLite
import ETrustCore
import Foundation

/// A minimal owning wrapper over one sqlite3 connection. Not shared across threads.
final class SQLiteConnection {
    private var db: OpaquePointer?
    let path: String

    /// `readOnly`: a connection of its own that reads the file as it is on disk (no page cache
    /// shared with the process's writer), for checks; no pragma is set.
    init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(rc)"
            sqlite3_close(handle)
            throw ETrustError.environment("\(path): cannot open database: \(msg)", code: .database)
        }
        db = handle
        sqlite3_busy_timeout(handle, 10_000)
        if readOnly { return }
        // WAL for concurrent readers (the OCSP responder), foreign keys on, and FULL sync so that a
        // committed issuance survives a power loss (record before release).
        try exec("PRAGMA journal_mode=WAL")
        try exec("PRAGMA foreign_keys=ON")
        try exec("PRAGMA synchronous=FULL")
    }

    deinit {
        cache.removeAll()   // finalized before the connection closes
        sqlite3_close_v2(db)
    }

    func error(_ what: String) -> ETrustError {
        ETrustError.environment("database \(path): \(what): \(String(cString: sqlite3_errmsg(db)))", code: .database)
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &err) == SQLITE_OK else {
            let msg = err.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(err)
            throw ETrustError.environment("database \(path): \(msg) (\(sql.prefix(60)))", code: .database)
        }
    }

    /// Statements prepared once per connection for the per-row writes of large batches (audit
    /// entries and nodes): preparing SQL costs more than running it. Only for statements that
    /// are run to completion, never iterated while another use is in progress.
    private var cache: [String: Statement] = [:]

    func cached(_ sql: String) throws -> Statement {
        if let s = cache[sql] { return s }
        let s = try prepare(sql)
        cache[sql] = s
        return s
    }

    func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else { throw error("prepare") }
        return Statement(stmt, connection: self)
    }

    /// Depth of `transaction` calls: an inner call joins the outer transaction, so that a
    /// service composes store writes and audit appends into one commit.
    private var depth = 0

    func transaction<R>(_ body: () throws -> R) throws -> R {
        if depth > 0 {
            depth += 1
            defer { depth -= 1 }
            return try body()
        }
        try exec("BEGIN IMMEDIATE")
        depth = 1
        defer { depth = 0 }
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }
    var changes: Int { Int(sqlite3_changes(db)) }
    var isUniqueViolation: Bool { sqlite3_extended_errcode(db) == 2067 /* SQLITE_CONSTRAINT_UNIQUE */ || sqlite3_extended_errcode(db) == 1555 }

    final class Statement {
        private let stmt: OpaquePointer
        private unowned let connection: SQLiteConnection
        init(_ stmt: OpaquePointer, connection: SQLiteConnection) { self.stmt = stmt; self.connection = connection }
        deinit { sqlite3_finalize(stmt) }

        @discardableResult
        func bind(_ values: [SQLValue]) -> Statement {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            for (i, v) in values.enumerated() {
                let idx = Int32(i + 1)
                switch v {
                case .null: sqlite3_bind_null(stmt, idx)
                case .int(let n): sqlite3_bind_int64(stmt, idx, n)
                case .text(let s): sqlite3_bind_text(stmt, idx, s, -1, etrust_sqlite_transient())
                case .blob(let b):
                    _ = b.withUnsafeBytes { sqlite3_bind_blob(stmt, idx, $0.baseAddress, Int32($0.count), etrust_sqlite_transient()) }
                }
            }
            return self
        }

        /// Runs a statement that returns no rows.
        func run(_ values: [SQLValue] = []) throws {
            bind(values)
            let rc = sqlite3_step(stmt)
            guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw connection.error("step") }
            sqlite3_reset(stmt)
        }

        /// Steps through the rows without collecting them.
        func forEach(_ values: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
            bind(values)
            defer { sqlite3_reset(stmt) }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw connection.error("query") }
                try body(row())
            }
        }

        /// Steps through the rows, reading columns by position (no per-row dictionary).
        func forEachColumns(_ values: [SQLValue] = [], _ body: (Columns) throws -> Void) throws {
            bind(values)
            defer { sqlite3_reset(stmt) }
            let columns = Columns(stmt: stmt)
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw connection.error("query") }
                try body(columns)
            }
        }

        struct Columns {
            let stmt: OpaquePointer
            func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
            func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
            func text(_ i: Int32) -> String {
                guard let p = sqlite3_column_text(stmt, i) else { return "" }
                return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))), as: UTF8.self)
            }
            func withTextBytes<R>(_ i: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
                let p = sqlite3_column_text(stmt, i)
                return try body(UnsafeBufferPointer(start: p, count: p == nil ? 0 : Int(sqlite3_column_bytes(stmt, i))))
            }
            func blob(_ i: Int32) -> [UInt8]? {
                guard sqlite3_column_type(stmt, i) == SQLITE_BLOB else { return nil }
                let n = Int(sqlite3_column_bytes(stmt, i))
                return n == 0 ? [] : Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, i), count: n))
            }
        }

        private func row() -> Row {
            var row = Row()
            for c in 0..<sqlite3_column_count(stmt) {
                let name = String(cString: sqlite3_column_name(stmt, c))
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.values[name] = .int(sqlite3_column_int64(stmt, c))
                case SQLITE_TEXT: row.values[name] = .text(String(cString: sqlite3_column_text(stmt, c)))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    let p = sqlite3_column_blob(stmt, c)
                    row.values[name] = .blob(n == 0 ? [] : Array(UnsafeRawBufferPointer(start: p, count: n)))
                default: row.values[name] = .null
                }
            }
            return row
        }

        func query(_ values: [SQLValue] = []) throws -> [Row] {
            var rows: [Row] = []
            try forEach(values) { rows.append($0) }
            return rows
        }
    }
}

enum SQLValue {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

struct Row {
    var values: [String: SQLValue] = [:]
    func int(_ k: String) -> Int64? { if case .int(let v) = values[k] { return v }; return nil }
    func text(_ k: String) -> String? { if case .text(let v) = values[k] { return v }; return nil }
    func blob(_ k: String) -> [UInt8]? { if case .blob(let v) = values[k] { return v }; return nil }
}
