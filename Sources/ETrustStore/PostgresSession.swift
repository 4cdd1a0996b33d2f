import ETrustCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One PostgreSQL connection made synchronous for the storage protocols. It runs on an event
/// loop group of its own (one thread): the caller's thread only waits on futures of that group,
/// so a call can never block the loop it waits for — whether the caller is the CLI's main thread,
/// a worker of a batch, or an event loop of the responder's server (another group). Threads that
/// share a store take turns: a recursive lock is held for each statement and for a whole
/// transaction, so one thread's statements never land in another's transaction (SQLite's
/// FULLMUTEX gives the same). A connection the server dropped (a restart, a failover) is
/// replaced at the next statement outside a transaction, so a long-running responder recovers.
final class PostgresSession {
    private let group: MultiThreadedEventLoopGroup
    fileprivate var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    private let logger = Logger(label: "etrust.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    let url: DatabaseURL
    /// SQLSTATE of the last failed statement (23505: unique violation).
    private(set) var lastSQLState: String?
    private var depth = 0
    private let lock = NSRecursiveLock()

    init(url: DatabaseURL, password: String?) throws {
        self.url = url
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: password,
                                                      database: url.database, tls: .disable)
        config.options.connectTimeout = .seconds(10)
        configuration = config
        do {
            connection = try PostgresConnection.connect(on: group.next(), configuration: config, id: 1, logger: logger).wait()
        } catch {
            let group = self.group
            DispatchQueue.global().async { group.shutdownGracefully { _ in } }
            throw PostgresSession.describe(error, url: url, doing: "connect")
        }
    }

    deinit {
        // Not waited for: a store may be released on any thread, an event loop's among them.
        // The connection must outlive its close (postgres-nio asserts it), and a group is never
        // shut down from one of its own threads.
        let group = self.group, connection = self.connection
        connection.close().whenComplete { _ in
            withExtendedLifetime(connection) {}
            DispatchQueue.global().async { group.shutdownGracefully { _ in } }
        }
    }

    var isUniqueViolation: Bool { lastSQLState == "23505" }
    var inTransaction: Bool { depth > 0 }

    /// Rows of one statement; `?` placeholders (or `?N`) become PostgreSQL's `$N`.
    func query(_ sql: String, _ args: [SQLValue] = []) throws -> [Row] {
        try result(sql, args).rows.map(PostgresSession.row)
    }

    /// Runs one statement; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ args: [SQLValue] = []) throws -> Int {
        try result(sql, args).metadata.rows ?? 0
    }

    /// Statements without parameters, separated by `;` (migrations, BEGIN/COMMIT); `--`
    /// comments are dropped. Each runs on its own (the extended protocol takes one at a time).
    func exec(_ sql: String) throws {
        let text = sql.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "--").map { line[..<$0.lowerBound] } ?? line }.joined(separator: "\n")
        for statement in text.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
            _ = try result(String(statement), [])
        }
    }

    /// Rows whose INSERT waits, inside a transaction, until the next statement or the commit, so
    /// that many go in one statement (the audit log's entries and Merkle nodes: thousands of
    /// small rows per batch, each otherwise a round trip). Outside a transaction: at once.
    func insertSoon(_ table: String, columns: [String], _ values: [SQLValue]) throws {
        lock.lock()
        defer { lock.unlock() }
        guard depth > 0 else {
            try execute(PostgresSession.insert(table, columns, rows: 1), values)
            return
        }
        if let i = deferred.firstIndex(where: { $0.table == table && $0.columns == columns }) {
            deferred[i].values += values
        } else {
            deferred.append((table, columns, values))
        }
    }

    private var deferred: [(table: String, columns: [String], values: [SQLValue])] = []

    private func flush() throws {
        guard !deferred.isEmpty else { return }
        let pending = deferred
        deferred = []
        for d in pending {
            // At most 30,000 parameters per statement (the protocol allows 65,535).
            let perStatement = max(1, 30_000 / d.columns.count) * d.columns.count
            for start in stride(from: 0, to: d.values.count, by: perStatement) {
                let chunk = Array(d.values[start..<min(start + perStatement, d.values.count)])
                try execute(PostgresSession.insert(d.table, d.columns, rows: chunk.count / d.columns.count), chunk)
            }
        }
    }

    static func insert(_ table: String, _ columns: [String], rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        return "INSERT INTO \(table)(\(columns.joined(separator: ", "))) VALUES " + Array(repeating: row, count: rows).joined(separator: ",")
    }

    /// Runs a statement after the rows waiting to be inserted.
    private func result(_ sql: String, _ args: [SQLValue]) throws -> PostgresQueryResult {
        lock.lock()
        defer { lock.unlock() }
        try flush()
        return try execute(sql, args)
    }

    private func reconnectIfClosed() throws {
        guard connection.isClosed, depth == 0 else { return }
        do {
            connection = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: 1, logger: logger).wait()
        } catch {
            throw PostgresSession.describe(error, url: url, doing: "connect")
        }
    }

    @discardableResult
    private func execute(_ sql: String, _ args: [SQLValue]) throws -> PostgresQueryResult {
        try reconnectIfClosed()
        lastSQLState = nil
        let query = PostgresQuery(unsafeSQL: PostgresSession.numbered(sql), binds: PostgresSession.bindings(args))
        do { return try wait(connection.query(query, logger: logger)) } catch { throw failure(error, doing: sql) }
    }

    /// Waits for a query, or for the connection to close: postgres-nio never completes a query
    /// written to a connection the server has already dropped, and a store must fail (exit 3),
    /// not hang, when PostgreSQL goes away.
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        connection.closeFuture.whenComplete { _ in promise.fail(ConnectionLost()) }   // ignored once the query is done
        return try promise.futureResult.wait()
    }

    struct ConnectionLost: Error {}

    /// One transaction (READ COMMITTED); nested calls join the outer one, as with SQLite.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        if depth > 0 {
            depth += 1
            defer { depth -= 1 }
            return try body()
        }
        try exec("BEGIN")
        depth = 1
        defer { depth = 0 }
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            deferred = []
            try? exec("ROLLBACK")
            throw error
        }
    }

    private func failure(_ error: Error, doing sql: String) -> ETrustError {
        lastSQLState = (error as? PSQLError)?.serverInfo?[.sqlState]
        return PostgresSession.describe(error, url: url, doing: sql)
    }

    /// One line: the server's message, or that the server cannot be reached. Never a password
    /// (the URL carries none).
    static func describe(_ error: Error, url: DatabaseURL, doing sql: String) -> ETrustError {
        if error is ConnectionLost {
            return .environment("database \(url) is unreachable: the server closed the connection", code: .database)
        }
        guard let p = error as? PSQLError else {
            return .environment("database \(url): \(error)", code: .database)
        }
        if let message = p.serverInfo?[.message] {
            return .environment("database \(url): \(message) (\(sql.prefix(60)))", code: .database)
        }
        let cause = p.underlying.map { " (\($0))" } ?? ""
        return .environment("database \(url) is unreachable: \(p.code)\(cause)", code: .database)
    }

    // MARK: Values

    static func bindings(_ values: [SQLValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: b.appendNull()
            case .int(let n): b.append(n)
            case .text(let s): b.append(s)
            case .blob(let bytes): b.append(ByteBuffer(bytes: bytes))
            }
        }
        return b
    }

    static func row(_ r: PostgresRow) throws -> Row {
        var row = Row()
        for cell in r {
            guard let bytes = cell.bytes else {
                row.values[cell.columnName] = .null
                continue
            }
            switch cell.dataType {
            case .int2, .int4, .int8: row.values[cell.columnName] = .int(try cell.decode(Int64.self))
            case .bool: row.values[cell.columnName] = .int(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea: row.values[cell.columnName] = .blob(Array(bytes.readableBytesView))
            default: row.values[cell.columnName] = .text(try cell.decode(String.self))
            }
        }
        return row
    }

    /// `?` → `$1`, `$2`, ... in order; `?N` → `$N` (the SQLite spelling of a reused parameter).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        var i = sql.startIndex
        while i < sql.endIndex {
            guard sql[i] == "?" else {
                out.append(sql[i])
                i = sql.index(after: i)
                continue
            }
            var j = sql.index(after: i)
            while j < sql.endIndex, sql[j].isASCII, sql[j].isNumber { j = sql.index(after: j) }
            let digits = sql[sql.index(after: i)..<j]
            if digits.isEmpty { n += 1; out += "$\(n)" } else { out += "$" + digits }
            i = j
        }
        return out
    }
}

/// A LISTEN on a connection of its own; `cancel()` ends it. Notifications arrive on that
/// connection's event loop thread.
public final class RevocationSubscription: @unchecked Sendable {   // unchecked: the session is only closed, once
    private let session: PostgresSession
    private let context: PostgresListenContext

    init(session: PostgresSession, context: PostgresListenContext) {
        self.session = session
        self.context = context
    }

    public func cancel() { context.stop() }

    deinit { context.stop() }
}

extension PostgresSession {
    /// Delivers the payload of each NOTIFY on `channel` to `handler`.
    func listen(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) throws -> PostgresListenContext {
        let context = connection.addListener(channel: channel) { _, message in handler(message.payload) }
        try exec("LISTEN \(channel)")
        return context
    }
}
