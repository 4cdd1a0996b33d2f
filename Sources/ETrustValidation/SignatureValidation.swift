import ETrustCore
import Foundation

/// The anchors, intermediates and assurance levels a judgement uses.
public struct TrustContext: Sendable {
    public var validator: Validator
    public var levels: [String: AssuranceLevel]
    public var levelsByAnchor: [String: [String: AssuranceLevel]]?
    public init(validator: Validator, levels: [String: AssuranceLevel] = [:], levelsByAnchor: [String: [String: AssuranceLevel]]? = nil) {
        self.validator = validator; self.levels = levels; self.levelsByAnchor = levelsByAnchor
    }
}

/// A verdict as `verify --json` / `verify-signature --json` and the validation API print it.
public struct Verdict: @unchecked Sendable {
    public var valid: Bool
    public var json: [String: Any]
    /// The text form, line by line.
    public var lines: [String]
}

extension ValidationResult {
    /// The verdict on a certificate (`etrust verify`, `POST /verify/certificate`).
    public var verdict: Verdict {
        var lines = [valid ? "valid" : "INVALID: \(reason) [\(errorCode)]"]
        if !path.isEmpty { lines.append("path:"); lines += path.map { "  \($0.subject)" } }
        if !policies.isEmpty { lines.append("policies: \(policies.joined(separator: ", "))") }
        if let a = assurance { lines.append("assurance: \(a.rawValue)") }
        for r in revocation where r.status != "not-checked" || revocationMode != .none {
            lines.append("revocation: \(r.subject): \(r.status) (\(r.source))")
        }
        return Verdict(valid: valid, json: json, lines: lines)
    }
}

/// A CMS signature judged: the signature itself, its signature time-stamp (CAdES-B-T) when it
/// has one, then the signer's certificate for document signing at the time the judgement uses:
/// the time asked for, else the time-stamp's genTime (revocation information read now, so a
/// certificate revoked after the time-stamp still counts), else the signing time the signer states.
public enum SignatureValidation {
    /// `trust(signer, time)` gives the trust context for a signer judged at a time (a trust list
    /// may withdraw an authority from a date on).
    /// `contentDigest`, when given instead of `content`, is the digest of the signed document.
    public static func judge(_ der: [UInt8], content: [UInt8]?, contentDigest: [UInt8]? = nil, request: ValidationRequest, now: Date = Date(),
                             trust: (Certificate, Date?) throws -> TrustContext) throws -> Verdict {
        let verified: CMSSignature.Verified
        do {
            verified = try contentDigest.map { try CMSSignature.verify(der, contentDigest: $0) } ?? CMSSignature.verify(der, content: content)
        } catch let e as ETrustError where e.category == .refused {
            return Verdict(valid: false, json: ["valid": false, "reason": e.reason, "errorCode": "signature_invalid"], lines: ["INVALID: \(e.reason)"])
        }
        var request = request
        request.parameters.purpose = .documentSigning
        var stamp: TimeStamp.Info?
        let tokens = try CMSSignature.timeStampTokens(der)
        if let token = tokens.first {
            let info: TimeStamp.Info
            do { info = try TimeStamp.info(token: token) } catch let e as ETrustError {
                return refused(verified, "timestamp_invalid", "the signature time-stamp cannot be read: \(e.reason)")
            }
            let context = try trust(verified.signer, info.genTime)
            if let failure = checkToken(token, info, signature: der, context: context, carried: verified.certificates) {
                return refused(verified, failure.code, failure.reason)
            }
            stamp = info
        }
        let judgedBy: String
        if request.parameters.time != nil {
            judgedBy = "requested"
        } else if let stamp {
            request.parameters.time = stamp.genTime
            request.revocationCheckedAt = now
            judgedBy = "timestamp"
        } else {
            // The signing time is the signer's word: the certificate's path is judged at it, but
            // a revocation up to now counts (only a time-stamp proves the signature came before).
            request.parameters.time = verified.signingTime
            request.revocationCheckedAt = now
            request.revokedBy = now
            judgedBy = verified.signingTime == nil ? "now" : "signing-time"
        }
        let context = try trust(verified.signer, request.parameters.time)
        request.assuranceLevels = context.levels
        request.assuranceLevelsByAnchor = context.levelsByAnchor
        let validator = Validator(sharing: context.validator, moreIntermediates: verified.certificates.filter { $0 != verified.signer })
        let result = try validator.validate(verified.signer, request)
        return verdict(result, verified, stamp: stamp, judgedAt: request.parameters.time ?? now, judgedBy: judgedBy)
    }

    private static func verdict(_ result: ValidationResult, _ verified: CMSSignature.Verified, stamp: TimeStamp.Info?,
                                judgedAt: Date, judgedBy: String) -> Verdict {
        var o = result.json
        o["signer"] = verified.signer.subject.description
        o["signingTime"] = verified.signingTime.map { RFC3339.format($0) as Any } ?? NSNull()
        o["level"] = result.assurance?.rawValue ?? NSNull()
        o["status"] = result.revocation.first?.status ?? "not-checked"
        o["timestamp"] = stamp.map { json($0) as Any } ?? NSNull()
        o["judgedAt"] = RFC3339.format(judgedAt)
        o["judgedBy"] = judgedBy
        var lines = [result.valid ? "valid signature by \(verified.signer.subject)" : "INVALID: \(result.reason) [\(result.errorCode)]"]
        if let t = verified.signingTime { lines.append("signing time: \(RFC3339.format(t))") }
        if let s = stamp { lines.append("time-stamp: \(RFC3339.formatFractional(s.genTime)) by \(s.tsaName ?? "?"), policy \(s.policy)") }
        lines.append("judged at: \(RFC3339.format(judgedAt)) (\(judgedBy))")
        if let a = result.assurance { lines.append("assurance: \(a.rawValue)") }
        return Verdict(valid: result.valid, json: o, lines: lines)
    }

    static func json(_ s: TimeStamp.Info) -> [String: Any] {
        ["genTime": RFC3339.formatFractional(s.genTime), "tsa": s.tsaName.map { $0 as Any } ?? NSNull(), "policy": s.policy, "serial": s.serialHex]
    }

    private static func refused(_ verified: CMSSignature.Verified, _ code: String, _ reason: String) -> Verdict {
        Verdict(valid: false, json: ["valid": false, "reason": reason, "errorCode": code, "signer": verified.signer.subject.description],
                lines: ["INVALID: \(reason) [\(code)]"])
    }

    static let imprintDigests = ["2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"]

    /// The token verifies (its signature, its TSA's chain to an anchor with the critical EKU
    /// timeStamping), then its imprint is over the signature value (RFC 3161 appendix A). Each
    /// failure has its code: timestamp_invalid (the token's signature), timestamp_tsa_untrusted
    /// (the TSA's chain or purpose), timestamp_imprint_mismatch (a token over other bytes).
    private static func checkToken(_ token: [UInt8], _ info: TimeStamp.Info, signature: [UInt8], context: TrustContext,
                                   carried: [Certificate]) -> (code: String, reason: String)? {
        do {
            _ = try TimeStamp.verify(token: token, .init(anchors: context.validator.trust.anchors,
                                                         intermediates: context.validator.intermediates + carried))
        } catch let e as ETrustError {
            // OpenSSL says "certificate verify error" when the TSA's chain or purpose fails.
            let untrusted = e.reason.contains("certificate verify error")
            return (untrusted ? "timestamp_tsa_untrusted" : "timestamp_invalid", "the signature time-stamp is refused: \(e.reason)")
        } catch {
            return ("timestamp_invalid", "the signature time-stamp is refused: \(error)")
        }
        guard let digest = imprintDigests[info.hashAlgorithm] else {
            return ("timestamp_invalid", "the time-stamp's imprint algorithm \(info.hashAlgorithm) is not accepted")
        }
        do {
            guard try Digest.named(digest, try CMSSignature.signatureValue(signature)) == info.messageImprint else {
                return ("timestamp_imprint_mismatch", "the signature time-stamp is not over this signature's value")
            }
            return nil
        } catch {
            return ("timestamp_invalid", "the signature time-stamp is refused: \(error)")
        }
    }
}
