import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// Who may open the console, and how they prove it.
public enum ConsoleAccessMode: Sendable {
    /// A bearer token (from a 0600 file) for a loopback-only console: sent as
    /// `Authorization: Bearer`, or once through the login form, which then sets a session cookie.
    case token([UInt8])
    /// TLS with a client certificate: this home must have issued that very certificate under the
    /// `auditor` profile, and it must be neither revoked nor expired.
    case clientCertificate
}

/// The console's gate: it turns a request into an auditor's name, or a refusal.
final class ConsoleGate: @unchecked Sendable {   // used from the console's one worker thread only
    enum Identity: Equatable {
        case auditor(String)
        case anonymous            // 401: no credentials at all
        case refused(String)      // 403: credentials that do not open the console
    }

    static let profile = "auditor"
    static let cookie = "etrust_console"
    let mode: ConsoleAccessMode
    private var sessions: [String: String] = [:]

    init(mode: ConsoleAccessMode) { self.mode = mode }

    func identify(_ r: ConsoleRequest, authority: Authority) -> Identity {
        switch mode {
        case .token(let token):
            if let header = r.headers["authorization"] {
                guard header.hasPrefix("Bearer "), ConsoleGate.equal(Array(header.dropFirst(7).utf8), token) else { return .refused("wrong token") }
                return .auditor("token")
            }
            if let id = r.cookies[ConsoleGate.cookie] {
                return sessions[id].map(Identity.auditor) ?? .refused("unknown session")
            }
            return .anonymous
        case .clientCertificate:
            guard let der = r.clientCertificate else { return .anonymous }
            return ConsoleGate.auditorCertificate(der, authority: authority)
        }
    }

    /// The login form's POST (token mode): a session for the right token.
    func login(_ r: ConsoleRequest) -> String? {
        guard case .token(let token) = mode, let given = ConsoleRequest.form(String(decoding: r.body, as: UTF8.self))["token"],
              ConsoleGate.equal(Array(given.utf8), token) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let id = Hex.encode(bytes)
        sessions[id] = "token"
        return id
    }

    /// A certificate opens the console only if it is byte for byte one this home issued under
    /// the auditor profile, and is valid now (TLS itself proved the client holds its key).
    static func auditorCertificate(_ der: [UInt8], authority: Authority) -> Identity {
        guard let c = try? Certificate(der: der) else { return .refused("unreadable client certificate") }
        guard let record = (try? authority.certificates(serialHex: c.serialHex))?.first(where: { $0.der == der }) else {
            return .refused("a client certificate this home did not issue")
        }
        guard record.profile == profile else { return .refused("a \(record.profile) certificate, not an auditor's") }
        guard record.status(at: authority.clock.now()) == .valid, c.notBefore <= authority.clock.now() else {
            return .refused("an auditor certificate that is \(record.status(at: authority.clock.now()).rawValue)")
        }
        return .auditor(c.subject.description)
    }

    /// Compares in time independent of where the first difference is.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 1) }
        return diff == 0 && !b.isEmpty
    }
}
