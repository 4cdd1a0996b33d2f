import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers of the responder suites: a home with leaves (one revoked), an in-process server on an
/// ephemeral 127.0.0.1 port, a tiny raw-socket HTTP client, and the external judges (openssl,
/// curl, pyca/cryptography, pkilint). Every network exchange is on 127.0.0.1 and bounded in time.
enum OT {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static let passphrase = "test-passphrase"

    // MARK: Fixture

    /// A makePKI home (root -> issuing) with two tls-client leaves of `issuing`, the second revoked
    /// (keyCompromise) unless told otherwise; PEM files of root, issuing and leaves in `work`.
    struct Fixture {
        let home: String
        let work: String
        let authority: Authority
        let root: Certificate
        let issuing: Certificate
        let good: Certificate
        let revoked: Certificate
        var rootPath: String { work + "/root.pem" }
        var issuingPath: String { work + "/issuing.pem" }
        var goodPath: String { work + "/good.pem" }
        var revokedPath: String { work + "/revoked.pem" }
        /// root + issuing, for verifiers that want the whole chain in one file.
        var chainPath: String { work + "/chain.pem" }
    }

    /// With `provision`, each CA's OCSP responder is provisioned (as `etrust ocsp provision` does
    /// on the CA host), its key under the test passphrase: responders never issue their own.
    static func fixture(revoke: Bool = true, provision: Bool = true) throws -> Fixture {
        let pki = try TestSupport.makePKI()
        let dir = (pki.home as NSString).deletingLastPathComponent
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let a = pki.authority
        let root = try a.ca("root").certificate
        let issuing = try a.ca("issuing").certificate
        func leaf(_ cn: String) throws -> Certificate {
            let csr = try TestSupport.csr(subject: "CN=\(cn),O=etrust tests,C=TG")
            return try a.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing").0
        }
        let good = try leaf("ocsp-good")
        let revoked = try leaf("ocsp-revoked")
        if revoke { try a.revoke(ca: "issuing", serial: revoked.serialHex, reason: .keyCompromise) }
        if provision {
            for ca in ["root", "issuing"] { _ = try OCSPSigning(authority: a).provision(ca: ca, signerPassphrase: Array(passphrase.utf8)) }
        }
        let f = Fixture(home: pki.home, work: work, authority: a, root: root, issuing: issuing, good: good, revoked: revoked)
        try root.pem.write(toFile: f.rootPath, atomically: true, encoding: .utf8)
        try issuing.pem.write(toFile: f.issuingPath, atomically: true, encoding: .utf8)
        try good.pem.write(toFile: f.goodPath, atomically: true, encoding: .utf8)
        try revoked.pem.write(toFile: f.revokedPath, atomically: true, encoding: .utf8)
        try (root.pem + issuing.pem).write(toFile: f.chainPath, atomically: true, encoding: .utf8)
        return f
    }

    static func cleanUp(_ f: Fixture) {
        let dir = (f.home as NSString).deletingLastPathComponent
        guard dir.hasPrefix(NSTemporaryDirectory()) else { return }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A second Authority over the same home (its own database connection), as another process has.
    static func authority(_ home: String, clock: ETrustClock = SystemClock()) throws -> Authority {
        try Authority(home: try Home.open(home), clock: clock, passphrase: { Array(passphrase.utf8) })
    }

    // MARK: In-process server

    static func source(_ f: Fixture, clock: ETrustClock = SystemClock(),
                       configure: (inout ResponderConfiguration) -> Void = { _ in }) throws -> OCSPAnswerSource {
        var config = ResponderConfiguration()
        config.port = 0
        configure(&config)
        return try OCSPAnswerSource(authority: try authority(f.home, clock: clock), configuration: config)
    }

    /// Starts an OCSPServer on 127.0.0.1, port 0, over its own Authority of the fixture's home.
    /// The caller stops it: `defer { server.shutdown(grace: 1) }`.
    static func startServer(_ f: Fixture, clock: ETrustClock = SystemClock(), accessLog: AccessLogging = .off,
                            configure: (inout ResponderConfiguration) -> Void = { _ in },
                            before: (OCSPServer, Authority) throws -> Void = { _, _ in }) throws -> (server: OCSPServer, port: Int) {
        var config = ResponderConfiguration()
        config.host = "127.0.0.1"
        config.port = 0
        configure(&config)
        let home = try Home.open(f.home)
        let serverAuthority = try authority(f.home, clock: clock)
        let source = try OCSPAnswerSource(authority: serverAuthority, configuration: config)
        var logger = Logger(label: "etrust-ocspd-test")
        logger.logLevel = .error
        let server = OCSPServer(source: source, configuration: config, publicDirectory: home.pubDirectory, logger: logger,
                                accessLog: accessLog, version: "test", threads: 2)
        try before(server, serverAuthority)
        let port = try server.start()
        guard port > 0 else { server.shutdown(grace: 1); throw Failure("the server reported port \(port)") }
        return (server, port)
    }

    /// A DER OCSPRequest for queries (no nonce), from their CertIDs.
    static func requestDER(_ queries: [OCSPResponder.Query]) -> [UInt8] {
        // OCSPRequest ::= SEQUENCE { tbsRequest SEQUENCE { requestList SEQUENCE OF Request { reqCert CertID } } }
        func seq(_ content: [UInt8]) -> [UInt8] { [0x30] + length(content.count) + content }
        func length(_ n: Int) -> [UInt8] {
            if n < 0x80 { return [UInt8(n)] }
            if n < 0x100 { return [0x81, UInt8(n)] }
            return [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
        }
        let list = seq(queries.flatMap { seq($0.certIDDER) })
        return seq(seq(list))
    }

    // MARK: Files and tools

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// `openssl ARGS`, stdout and stderr together (openssl prints "Response verify OK" on stderr).
    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let r = try TestSupport.openssl(arguments)
        return (r.status, r.stdout + r.stderr)
    }

    /// `openssl ocsp` against a live responder, bounded by -timeout.
    static func opensslQuery(port: Int, issuer: String, certs: [String], caFile: String, extra: [String] = []) throws -> (status: Int32, output: String) {
        var args = ["ocsp", "-issuer", issuer]
        for c in certs { args += ["-cert", c] }
        args += ["-url", "http://127.0.0.1:\(port)/ocsp", "-CAfile", caFile, "-timeout", "5"] + extra
        return try openssl(args)
    }

    /// A tool of the test venv; a missing tool is a failure, never a skip.
    static func venvTool(_ name: String) throws -> String {
        let path = TestSupport.venv + "/bin/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing (pkilint and cryptography belong in \(TestSupport.venv))")
        return path
    }

    static var ocspdBinary: String {
        ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString).appendingPathComponent("etrust-ocspd")
    }

    /// The value of a Prometheus sample line `name value` (or `name{labels} value`).
    static func metric(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    // MARK: Encodings

    static func base64URLSafe(_ der: [UInt8]) -> String {
        Data(der).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// RFC 5019 form: base64, then URL-encoded (+ / = escaped).
    static func base64URLEncoded(_ der: [UInt8]) -> String {
        Data(der).base64EncodedString().replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
    }

    /// True when `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }

    /// The delegated signer of a response: the certificate carried in it (the first after the
    /// tbsResponseData). Found by trying every embedded SEQUENCE that parses as a certificate.
    static func embeddedCertificates(_ der: [UInt8]) -> [Certificate] {
        var out: [Certificate] = []
        var i = 0
        while i + 4 < der.count {
            // 30 82 LL LL: a long SEQUENCE; a certificate is one.
            if der[i] == 0x30, der[i + 1] == 0x82 {
                let len = Int(der[i + 2]) << 8 | Int(der[i + 3])
                if i + 4 + len <= der.count, let c = try? Certificate(der: Array(der[i..<(i + 4 + len)])) {
                    out.append(c)
                    i += 4 + len
                    continue
                }
            }
            i += 1
        }
        return out
    }
}

// MARK: - A tiny HTTP/1.1 client over a raw socket (127.0.0.1 only)

struct HTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

final class RawConnection {
    let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:port; every receive waits at most `timeout` seconds.
    init(port: Int, timeout: TimeInterval = 5) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw OT.Failure("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; Glibc.close(s); throw OT.Failure("connect to 127.0.0.1:\(port): errno \(e)") }
        fd = s
        setTimeout(timeout)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func setTimeout(_ timeout: TimeInterval) {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything; false when the peer has closed (EPIPE/ECONNRESET) or the send timed out.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                Glibc.send(fd, buf.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    enum Read { case data([UInt8]), eof, timeout, error(Int32) }

    func receive(max: Int = 65536) -> Read {
        if !pending.isEmpty { defer { pending = [] }; return .data(pending) }
        // Received straight into the array that is returned: copying a slice of a scratch buffer
        // instead, whose result closedByPeer discards, is compiled with -O (Swift 6.3) into a copy
        // into an array already freed, which AddressSanitizer reports as a heap-use-after-free.
        var n = 0
        let data = [UInt8](unsafeUninitializedCapacity: max) { buf, count in
            n = Glibc.recv(fd, buf.baseAddress, max, 0)
            count = n > 0 ? n : 0
        }
        if n > 0 { return .data(data) }
        if n == 0 { return .eof }
        let e = errno
        return (e == EAGAIN || e == EWOULDBLOCK) ? .timeout : .error(e)
    }

    /// True when the server closed the connection within `seconds` (EOF or reset); data is skipped.
    func closedByPeer(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        setTimeout(0.2)
        defer { setTimeout(5) }
        while Date() < deadline {
            switch receive() {
            case .eof, .error: return true
            case .data, .timeout: continue
            }
        }
        return false
    }

    /// Reads one response (Content-Length framed; to EOF without one).
    func readResponse() throws -> HTTPResponse {
        var data: [UInt8] = []
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            switch receive() {
            case .data(let d): data += d
            case .eof: throw OT.Failure("connection closed before a whole response head (\(data.count) bytes)")
            case .timeout: throw OT.Failure("timed out waiting for a response head")
            case .error(let e): throw OT.Failure("recv: errno \(e)")
            }
            if data.count >= 4 {
                for i in 0...(data.count - 4) where Array(data[i..<(i + 4)]) == separator { headerEnd = i; break }
            }
        }
        let head = String(decoding: data[0..<headerEnd!], as: UTF8.self)
        var rest = Array(data[(headerEnd! + 4)...])
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw OT.Failure("bad status line '\(lines[0])'") }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) }
        if let length {
            while rest.count < length {
                switch receive() {
                case .data(let d): rest += d
                case .eof: throw OT.Failure("connection closed after \(rest.count) of \(length) body bytes")
                case .timeout: throw OT.Failure("timed out reading the body")
                case .error(let e): throw OT.Failure("recv: errno \(e)")
                }
            }
            if rest.count > length { pending = Array(rest[length...]) }
            rest = Array(rest[0..<length])
        } else {
            loop: while true {
                switch receive() {
                case .data(let d): rest += d
                default: break loop
                }
            }
        }
        return HTTPResponse(status: status, headers: headers, body: rest)
    }

    /// Sends one request and reads its response.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil,
                 keepAlive: Bool = true) throws -> HTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        guard send(Array(head.utf8) + (body ?? [])) else { throw OT.Failure("send failed: errno \(errno)") }
        return try readResponse()
    }
}

/// A clock the test moves (shared by the responder and the Authority that provisions or publishes).
final class SettableClock: ETrustClock, @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date = Date()) { self.date = date }
    func now() -> Date { lock.withLock { date } }
    func set(_ d: Date) { lock.withLock { date = d } }
}

/// Polls `condition` every 50 ms for at most `seconds`; true when it held.
func eventually(_ seconds: TimeInterval = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        usleep(50_000)
    } while Date() < deadline
    return try condition()
}

enum HTTP {
    /// One request on a new connection (Connection: close).
    static func request(port: Int, _ method: String, _ path: String, body: [UInt8]? = nil,
                        contentType: String? = nil) throws -> HTTPResponse {
        let c = try RawConnection(port: port)
        return try c.request(method, path, body: body, contentType: contentType, keepAlive: false)
    }

    static func postOCSP(port: Int, _ der: [UInt8]) throws -> HTTPResponse {
        try request(port: port, "POST", "/ocsp", body: der, contentType: "application/ocsp-request")
    }

    static func metrics(port: Int) throws -> String {
        let r = try request(port: port, "GET", "/metrics")
        guard r.status == 200 else { throw OT.Failure("/metrics answered \(r.status)") }
        return String(decoding: r.body, as: UTF8.self)
    }

    /// A port that was free a moment ago on 127.0.0.1.
    static func freePort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw OT.Failure("socket: errno \(errno)") }
        defer { Glibc.close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp -> Int32 in
                guard bind(s, sp, len) == 0 else { return -1 }
                return getsockname(s, sp, &len)
            }
        }
        guard rc == 0 else { throw OT.Failure("bind/getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
