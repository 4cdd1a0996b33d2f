import ETrustCA
import ETrustCore
import ETrustValidation
import Foundation

/// `POST /verify/certificate` and `POST /verify/signature` (etrust-ocspd --verify-api): JSON in,
/// the verdict of `etrust verify --json` / `verify-signature --json` out (the same library
/// functions build both). Anchors are the home's, never the request's. docs/openapi.yaml
/// describes the fields.
public final class VerificationAPI: Sendable {
    /// An HTTP answer: status and JSON body.
    public struct Answer: @unchecked Sendable {
        public var status: Int
        public var json: [String: Any]
    }

    let context: TrustContext
    let maxIntermediates: Int

    public init(context: TrustContext, maxIntermediates: Int = 8) {
        self.context = context
        self.maxIntermediates = maxIntermediates
    }

    static let commonFields: Set<String> = ["intermediates", "crls", "purpose", "time", "policies", "minimumAssurance", "revocation",
                                            "hostname", "email", "ip", "maxChainDepth",
                                            "requireExplicitPolicy", "inhibitPolicyMapping", "inhibitAnyPolicy"]
    static let anchorFields: Set<String> = ["anchor", "anchors", "trustAnchors", "roots", "trustList", "trustListSigner"]

    /// Answers one request to `path` (the server routes only the two paths here).
    public func answer(path: String, body: [UInt8]) -> Answer {
        do {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let fields = object as? [String: Any] else {
                return Self.badRequest("the body is not a JSON object")
            }
            if let named = fields.keys.first(where: Self.anchorFields.contains) {
                return Self.badRequest("'\(named)': trust anchors come from the server's configuration, never from the request")
            }
            let verdict = path == "/verify/signature" ? try signature(fields) : try certificate(fields)
            return Answer(status: 200, json: verdict.json)
        } catch let e as ETrustError where e.category == .badInput || e.category == .refused {
            return Self.badRequest(e.reason)
        } catch let e as ETrustError {
            return Answer(status: 500, json: ["error": e.reason])
        } catch {
            return Answer(status: 500, json: ["error": "\(error)"])
        }
    }

    static func badRequest(_ message: String) -> Answer { Answer(status: 400, json: ["error": message]) }

    func certificate(_ f: [String: Any]) throws -> Verdict {
        try Self.checkFields(f, allowed: Self.commonFields.union(["certificate"]))
        let cert = try Certificate(bytes: try Self.bytes(f, "certificate", required: true)!, what: "certificate")
        let request = try validationRequest(f, defaultRevocation: .none)
        let base = try validator(f), extra = try intermediates(f)
        let validator = extra.isEmpty ? base : Validator(sharing: base, moreIntermediates: extra)
        return try validator.validate(cert, request).verdict
    }

    func signature(_ f: [String: Any]) throws -> Verdict {
        try Self.checkFields(f, allowed: Self.commonFields.union(["signature", "content", "contentDigest"]))
        let bytes = try Self.bytes(f, "signature", required: true)!
        let der = try InputFile.derBlocks(bytes, labels: ["CMS", "PKCS7"], what: "signature")[0]
        let content = try Self.bytes(f, "content", required: false)
        let digest = try (f["contentDigest"] as? String).map { hex -> [UInt8] in
            guard let d = Hex.decode(hex), !d.isEmpty else { throw ETrustError.badInput("'contentDigest' must be hex", code: .invalidArgument) }
            return d
        }
        guard content == nil || digest == nil else { throw ETrustError.badInput("give 'content' or 'contentDigest', not both", code: .invalidArgument) }
        let base = try validator(f)
        let extra = try intermediates(f)
        let request = try validationRequest(f, defaultRevocation: .crlOrOCSP)
        return try SignatureValidation.judge(der, content: content, contentDigest: digest, request: request) { _, _ in
            TrustContext(validator: extra.isEmpty ? base : Validator(sharing: base, moreIntermediates: extra), levels: context.levels)
        }
    }

    /// The home's validator, with the request's CRLs when it brings some.
    private func validator(_ f: [String: Any]) throws -> Validator {
        let crls = try Self.list(f, "crls").map { try CertificateRevocationList(bytes: $0) }
        guard !crls.isEmpty else { return context.validator }
        return try Validator(anchors: context.validator.trust.anchors, intermediates: context.validator.intermediates, crls: crls)
    }

    private func intermediates(_ f: [String: Any]) throws -> [Certificate] {
        let certs = try Self.list(f, "intermediates").flatMap { try Certificate.all(bytes: $0, what: "intermediate") }
        guard certs.count <= maxIntermediates else {
            throw ETrustError.badInput("at most \(maxIntermediates) intermediates in one request", code: .invalidArgument)
        }
        return certs
    }

    func validationRequest(_ f: [String: Any], defaultRevocation: RevocationMode) throws -> ValidationRequest {
        var r = ValidationRequest()
        let purposes = try (Self.strings(f, "purpose")).map { try Purpose(parsing: $0) }
        r.parameters.purpose = purposes.first ?? .any
        r.parameters.morePurposes = Array(purposes.dropFirst())
        r.parameters.policies = try Self.strings(f, "policies")
        r.parameters.requireExplicitPolicy = try Self.flag(f, "requireExplicitPolicy")
        r.parameters.inhibitPolicyMapping = try Self.flag(f, "inhibitPolicyMapping")
        r.parameters.inhibitAnyPolicy = try Self.flag(f, "inhibitAnyPolicy")
        r.parameters.time = try (f["time"] as? String).map { try RFC3339.parse($0) }
        r.parameters.hostname = f["hostname"] as? String
        r.parameters.email = f["email"] as? String
        r.parameters.ip = f["ip"] as? String
        if let depth = f["maxChainDepth"] as? Int {
            guard (0...maxIntermediates).contains(depth) else {
                throw ETrustError.badInput("maxChainDepth must be between 0 and \(maxIntermediates)", code: .invalidArgument)
            }
            r.parameters.maxChainDepth = depth
        } else {
            r.parameters.maxChainDepth = min(r.parameters.maxChainDepth, maxIntermediates)
        }
        r.revocation = try (f["revocation"] as? String).map { try RevocationMode(parsing: $0) } ?? defaultRevocation
        r.minimumAssurance = try (f["minimumAssurance"] as? String).map { try AssuranceLevel(parsing: $0) }
        r.assuranceLevels = context.levels
        return r
    }

    // MARK: Fields

    static func checkFields(_ f: [String: Any], allowed: Set<String>) throws {
        if let unknown = f.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ETrustError.badInput("unknown field '\(unknown)'", code: .invalidArgument)
        }
    }

    /// A base64 DER field, or PEM text.
    static func bytes(_ f: [String: Any], _ name: String, required: Bool) throws -> [UInt8]? {
        guard let value = f[name] else {
            if required { throw ETrustError.badInput("'\(name)' is missing", code: .invalidArgument) }
            return nil
        }
        guard let text = value as? String else { throw ETrustError.badInput("'\(name)' must be a string (base64 DER or PEM)", code: .invalidArgument) }
        return try decode(text, name)
    }

    static func decode(_ text: String, _ name: String) throws -> [UInt8] {
        if text.contains("-----BEGIN") { return Array(text.utf8) }
        guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
            throw ETrustError.badInput("'\(name)' is neither base64 nor PEM", code: .invalidArgument)
        }
        return [UInt8](data)
    }

    static func list(_ f: [String: Any], _ name: String) throws -> [[UInt8]] {
        guard let value = f[name] else { return [] }
        guard let items = value as? [String] else { throw ETrustError.badInput("'\(name)' must be a list of strings", code: .invalidArgument) }
        return try items.map { try decode($0, name) }
    }

    static func flag(_ f: [String: Any], _ name: String) throws -> Bool {
        guard let value = f[name] else { return false }
        guard let b = value as? Bool else { throw ETrustError.badInput("'\(name)' must be true or false", code: .invalidArgument) }
        return b
    }

    static func strings(_ f: [String: Any], _ name: String) throws -> [String] {
        switch f[name] {
        case nil: return []
        case let s as String: return [s]
        case let a as [String]: return a
        default: throw ETrustError.badInput("'\(name)' must be a string or a list of strings", code: .invalidArgument)
        }
    }
}
