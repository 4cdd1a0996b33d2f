import ETrustCore
import Foundation

/// `postgres://user@host:port/database`: where a PostgreSQL store lives. The password is never
/// part of it (it comes from `database.passwordFile` or ETRUST_DB_PASSWORD), so the URL can be
/// written into etrust.yaml, shown and logged as it is.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String

    public init(user: String, host: String, port: Int = 5432, database: String) {
        self.user = user; self.host = host; self.port = port; self.database = database
    }

    public init(_ text: String) throws {
        func bad(_ why: String) -> ETrustError {
            ETrustError.badInput("database URL: \(why) (expected postgres://USER@HOST[:PORT]/DATABASE)", code: .invalidArgument)
        }
        guard let scheme = ["postgres://", "postgresql://"].first(where: { text.hasPrefix($0) }) else { throw bad("not a postgres:// URL") }
        let rest = text.dropFirst(scheme.count)
        guard let at = rest.lastIndex(of: "@") else { throw bad("no user") }
        let userPart = rest[..<at]
        if userPart.contains(":") {
            throw bad("a password does not belong in the URL; put it in database.passwordFile or ETRUST_DB_PASSWORD")
        }
        let hostPath = rest[rest.index(after: at)...]
        guard let slash = hostPath.firstIndex(of: "/") else { throw bad("no database name") }
        let hostPort = hostPath[..<slash]
        let db = hostPath[hostPath.index(after: slash)...]
        guard !userPart.isEmpty, !hostPort.isEmpty, !db.isEmpty, !db.contains("/"), !db.contains("?") else { throw bad("incomplete") }
        user = String(userPart).removingPercentEncoding ?? String(userPart)
        database = String(db)
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { throw bad("bad port") }
            port = p
            host = String(hostPort[..<colon])
        } else {
            port = 5432
            host = String(hostPort)
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw bad("no host") }
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(h):\(port)/\(database)"
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseURL {
        DatabaseURL(user: user, host: host, port: port, database: database)
    }
}
