import Foundation

/// A request as the console's pages see it: decoded path, query, cookies, form body, and the
/// TLS client certificate (DER) the connection presented, if any.
public struct ConsoleRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]    // lower-cased names
    public var body: [UInt8]
    public var clientCertificate: [UInt8]?
    /// True for the first request of a connection (a TLS "login").
    public var firstOnConnection: Bool

    public init(method: String, uri: String, headers: [String: String], body: [UInt8] = [], clientCertificate: [UInt8]? = nil,
                firstOnConnection: Bool = false) {
        self.method = method
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts.first ?? "/")
        self.query = parts.count > 1 ? ConsoleRequest.form(String(parts[1])) : [:]
        self.headers = headers
        self.body = body
        self.clientCertificate = clientCertificate
        self.firstOnConnection = firstOnConnection
    }

    /// application/x-www-form-urlencoded: the first value of each name wins.
    public static func form(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let key = decode(kv[0])
            if out[key] == nil { out[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }

    public var cookies: [String: String] {
        var out: [String: String] = [:]
        for c in (headers["cookie"] ?? "").split(separator: ";") {
            let kv = c.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    /// The path's segments, percent-decoded ("/certificate/issuing/1a" -> ["certificate", "issuing", "1a"]).
    public var segments: [String] {
        path.split(separator: "/").map { $0.removingPercentEncoding ?? "" }
    }
}

/// What the console answers. Every answer carries the same security headers.
public struct ConsoleResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)] = []

    public init(status: Int, contentType: String = "text/html; charset=utf-8", body: String, headers: [(String, String)] = []) {
        self.status = status; self.contentType = contentType; self.body = Array(body.utf8); self.headers = headers
    }

    /// No external resource, no inline script (the verifier is /verify.js), no framing, no
    /// request from a page except to the console itself.
    public static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"),
        ("X-Frame-Options", "DENY"),
    ]

    public static func text(_ status: Int, _ message: String) -> ConsoleResponse {
        ConsoleResponse(status: status, contentType: "text/plain; charset=utf-8", body: message + "\n")
    }
}
