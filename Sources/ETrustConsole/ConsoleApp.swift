import ETrustAudit
import ETrustCA
import ETrustCore
import Foundation

/// The read-only console: its gate, its pages and the audit record of every visit. One worker
/// thread calls `respond` (the home's store is one connection); nothing here changes the CA.
public final class ConsoleApp: @unchecked Sendable {
    let authority: Authority
    let gate: ConsoleGate
    /// Events per page of the events view.
    public static let pageSize = 50

    public init(authority: Authority, access: ConsoleAccessMode) {
        self.authority = authority
        self.gate = ConsoleGate(mode: access)
    }

    public func respond(_ r: ConsoleRequest) -> ConsoleResponse {
        var response = (try? handle(r)) ?? .text(503, "the console cannot record this visit in the audit log; nothing is shown")
        response.headers += ConsoleResponse.securityHeaders
        return response
    }

    private func handle(_ r: ConsoleRequest) throws -> ConsoleResponse {
        if r.method == "POST", r.path == "/login" { return try login(r) }
        switch gate.identify(r, authority: authority) {
        case .anonymous:
            return unauthorized()
        case .refused(let why):
            try record("refused", auditor: "-", r, status: 403, reason: why)
            return .text(403, "forbidden")
        case .auditor(let who):
            guard r.method == "GET" else { return .text(405, "the console is read-only") }
            if r.firstOnConnection, case .clientCertificate = gate.mode { try record("login", auditor: who, r, status: 200) }
            let response = route(r)
            if r.path != "/verify.js" { try record("view", auditor: who, r, status: response.status) }
            return response
        }
    }

    /// Every login, refusal and page view is an event of the log, appended before the page is sent.
    private func record(_ action: String, auditor: String, _ r: ConsoleRequest, status: Int, reason: String? = nil) throws {
        let query = r.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        var fields = ["action": action, "auditor": auditor, "path": String((r.path + (query.isEmpty ? "" : "?" + query)).prefix(300)),
                      "status": String(status)]
        if let reason { fields["reason"] = reason }
        try authority.auditLog.append([AuditEvent(type: "console", time: authority.clock.now(), ca: nil, serialHex: nil, profile: nil,
                                                  fields: fields)])
    }

    private func unauthorized() -> ConsoleResponse {
        guard case .token = gate.mode else { return .text(401, "a client certificate issued to an auditor by this CA is required") }
        return ConsoleResponse(status: 401, body: ConsolePage.loginForm, headers: [("WWW-Authenticate", "Bearer realm=\"etrust console\"")])
    }

    private func login(_ r: ConsoleRequest) throws -> ConsoleResponse {
        guard let session = gate.login(r) else {
            try record("refused", auditor: "-", r, status: 403, reason: "wrong token")
            return .text(403, "forbidden")
        }
        try record("login", auditor: "token", r, status: 303)
        return ConsoleResponse(status: 303, body: "", headers: [
            ("Location", "/"), ("Set-Cookie", "\(ConsoleGate.cookie)=\(session); Path=/; HttpOnly; SameSite=Strict"),
        ])
    }

    private func route(_ r: ConsoleRequest) -> ConsoleResponse {
        let s = r.segments
        do {
            switch (s.first ?? "", s.count) {
            case ("", 0): return try overview(r)
            case ("events", 1): return try events(r)
            case ("certificate", 3): return try certificate(ca: s[1], serial: s[2])
            case ("cas", 1): return try cas()
            case ("crls", 1): return try crls()
            case ("verify.js", 1): return ConsoleResponse(status: 200, contentType: "text/javascript; charset=utf-8", body: ConsoleScript.source)
            default: return ConsolePage.error(404, "no such page")
            }
        } catch let e as ConsolePage.BadRequest {
            return ConsolePage.error(400, e.message)
        } catch {
            return ConsolePage.error(500, "the page could not be made: \(error)")
        }
    }
}
