import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// One OCSP request as every source sees it: parsed once, its issuer resolved once (against the
/// issuers this responder answers for), at one time.
public struct OCSPQuestion: Sendable {
    public let request: OCSPResponder.ParsedRequest
    public let serials: [String]
    public let now: Date
    /// The CA every CertID of the request names; nil when it is not one of ours (or they differ).
    let issuer: ResponderIssuer?

    /// RFC 5019 form: one SHA-1 CertID, no nonce. Only this form is answered from pre-signed bytes.
    public var isPresignable: Bool {
        request.queries.count == 1 && !request.hasNonce && request.queries[0].hashAlgorithm == OCSPQuestion.sha1
    }

    static let sha1 = "1.3.14.3.2.26"
    static let sha256 = "2.16.840.1.101.3.4.2.1"

    /// nil when the bytes are not an OCSP request.
    init?(der: [UInt8], now: Date, issuers: [ResponderIssuer]) {
        guard let request = OCSPResponder.parse(der) else { return nil }
        self.request = request
        self.serials = request.queries.map(\.serialHex)
        self.now = now
        let matched = request.queries.map { q in issuers.first { $0.matches(q) } }
        if let first = matched.first ?? nil, matched.allSatisfy({ $0?.name == first.name }) { issuer = first } else { issuer = nil }
    }
}

/// A link of the responder's answer path (as Boulder's `ocsp/responder` Source): a request in,
/// an answer out, or nil for "not mine: ask the next source".
public protocol OCSPSource: Sendable {
    func answer(_ question: OCSPQuestion) throws -> OCSPAnswer?
}

extension OCSPAnswer {
    static func error(_ status: OCSPResponder.ErrorStatus, _ outcome: Outcome, serials: [String] = []) -> OCSPAnswer {
        OCSPAnswer(body: status.der, outcome: outcome, fromCache: false, serials: serials)
    }
}

/// First link: requests that are too large or not for one of our CAs are answered at once
/// (malformedRequest, unauthorized: RFC 6960 2.3); the rest pass on.
public struct IssuerFilterSource: OCSPSource {
    let maxCertificates: Int
    public func answer(_ q: OCSPQuestion) throws -> OCSPAnswer? {
        if q.request.queries.count > maxCertificates || q.request.queries.isEmpty {
            return .error(.malformedRequest, .malformed, serials: q.serials)
        }
        return q.issuer == nil ? .error(.unauthorized, .unauthorized, serials: q.serials) : nil
    }
}

/// Pre-signed responses held in memory as bytes: the hot path, no lock but the cache's, no
/// database, no signing. Never blocks: safe on an event loop.
public struct PresignedMemorySource: OCSPSource {
    let cache: ResponseCache
    let counters: Counters
    public func answer(_ q: OCSPQuestion) throws -> OCSPAnswer? {
        guard q.isPresignable, let issuer = q.issuer, let c = cache.fresh(ca: issuer.name, serial: q.serials[0], at: q.now) else { return nil }
        counters.hit()
        return c.answer(serials: q.serials)
    }
}

/// Responses pre-signed by another process (`etrust issue`, `etrust ocsp provision`, another
/// responder on a shared database) and not yet in memory: read from the store, kept in memory.
public struct StoredResponseSource: OCSPSource {
    let gate: StoreGate
    let cache: ResponseCache
    public func answer(_ q: OCSPQuestion) throws -> OCSPAnswer? {
        guard q.isPresignable, let issuer = q.issuer else { return nil }
        let found: (PresignedResponse, revoked: Bool)? = try gate.withStore { store in
            guard let r = try store.presigned(ca: issuer.name, serialHex: q.serials[0]), r.nextUpdate > q.now,
                  let status = try store.ocspStatus(ca: issuer.name, serialHex: q.serials[0]) else { return nil }
            return (r, status.revoked)
        }
        guard let (r, revoked) = found else { return nil }
        let entry = CachedResponse(r, outcome: revoked ? .revoked : .good)
        cache.put(ca: issuer.name, serial: r.serialHex, entry)
        return entry.answer(serials: q.serials)
    }
}

/// The last link: statuses from the store, one response signed now with the CA's responder key
/// (requests with a nonce, several CertIDs, SHA-256 CertIDs, or nothing pre-signed yet).
/// RFC 5019-form answers are kept in memory and in the store for the next asker.
public struct LiveSigningSource: OCSPSource {
    let gate: StoreGate
    let cache: ResponseCache
    let counters: Counters
    let unknownSerial: UnknownSerialPolicy

    public func answer(_ q: OCSPQuestion) throws -> OCSPAnswer? {
        guard let issuer = q.issuer else { return nil }
        let statuses = try gate.withStore { store in try q.request.queries.map { try store.ocspStatus(ca: issuer.name, serialHex: $0.serialHex) } }
        var answers: [OCSPResponder.Answer] = []
        var outcome = OCSPAnswer.Outcome.good
        var extended = false
        for (query, s) in zip(q.request.queries, statuses) {
            let status: OCSPCertificateStatus
            if let s {
                status = s.revoked ? .revoked(time: s.revokedAt ?? q.now, reason: s.reason.flatMap(RevocationReason.init(rawValue:))) : .good
            } else if unknownSerial == .revoked {
                // RFC 6960 2.2: "revoked" for a serial never issued, with the extended-revoke extension.
                status = .revoked(time: Date(timeIntervalSince1970: 0), reason: .certificateHold)
                extended = true
            } else {
                status = .unknown
            }
            switch status {
            case .revoked: outcome = .revoked
            case .unknown where outcome != .revoked: outcome = .unknown
            default: break
            }
            answers.append(.init(query: query, status: status))
        }
        let validity = min(OCSPSigning.responseValidity, issuer.signerCertificate.notAfter.timeIntervalSince(q.now))
        let body = try OCSPResponder.sign(answers: answers, signerCertificate: issuer.signerCertificate, signer: issuer.signerKey,
                                          includeCertificate: true, now: q.now, validity: validity, nonceFrom: q.request,
                                          extendedRevokedDefinition: extended)
        counters.signed()
        let response = PresignedResponse(serialHex: q.serials[0], der: body, thisUpdate: q.now, nextUpdate: q.now.addingTimeInterval(validity))
        let entry = CachedResponse(response, outcome: outcome)
        if q.isPresignable && !extended {
            cache.put(ca: issuer.name, serial: q.serials[0], entry)
            try? gate.withStore { try $0.save(presigned: [response], ca: issuer.name) }
        }
        return entry.answer(serials: q.serials, fromCache: false)
    }
}

/// The sources in order, split where blocking starts: `front` never blocks (the event loop runs
/// it), `back` may wait for the store or sign (a thread pool runs it).
public struct OCSPSourceStack: Sendable {
    public let front: [any OCSPSource]
    public let back: [any OCSPSource]

    /// The first answer of `sources`; nil when none had one.
    public static func first(_ sources: [any OCSPSource], _ q: OCSPQuestion) -> OCSPAnswer? {
        for s in sources {
            do {
                if let a = try s.answer(q) { return a }
            } catch {
                return .error(.internalError, .internalError, serials: q.serials)
            }
        }
        return nil
    }

    public func answerWithoutBlocking(_ q: OCSPQuestion) -> OCSPAnswer? { OCSPSourceStack.first(front, q) }

    public func answerBlocking(_ q: OCSPQuestion) -> OCSPAnswer {
        OCSPSourceStack.first(back, q) ?? .error(.internalError, .internalError, serials: q.serials)
    }
}
