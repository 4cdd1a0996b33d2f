import ETrustCore
import Foundation

/// A trust list of recognised authorities (Policies/trust-list.schema.json).
public struct TrustList: Codable, Sendable {
    public struct StatusChange: Codable, Sendable {
        public var status: String
        public var since: String
        public init(status: String, since: String) { self.status = status; self.since = since }
    }
    public struct Level: Codable, Sendable {
        public var level: String
        public var policies: [String]
        public init(level: String, policies: [String]) { self.level = level; self.policies = policies }
    }
    public struct Services: Codable, Sendable {
        public var crl: [String]?
        public var ocsp: [String]?
        public init(crl: [String]?, ocsp: [String]?) { self.crl = crl; self.ocsp = ocsp }
    }
    public struct Authority: Codable, Sendable {
        public var name: String
        public var country: String
        public var certificate: String
        public var sha256: String
        public var status: String
        public var history: [StatusChange]
        public var levels: [Level]
        public var services: Services
        /// ETSI TS 119 612 service type URI (absent: CA/QC when a level is high, else CA/PKC).
        public var serviceType: String?
        /// ETSI TS 119 612 5.5.9.4 AdditionalServiceInformation URIs.
        public var additionalInformation: [String]?

        public init(name: String, country: String, certificate: String, sha256: String, status: String, history: [StatusChange],
                    levels: [Level], services: Services, serviceType: String? = nil, additionalInformation: [String]? = nil) {
            self.name = name; self.country = country; self.certificate = certificate; self.sha256 = sha256
            self.status = status; self.history = history; self.levels = levels; self.services = services
            self.serviceType = serviceType; self.additionalInformation = additionalInformation
        }

        public func caCertificate() throws -> Certificate {
            guard let d = Data(base64Encoded: certificate) else { throw ETrustError.badInput("trust list: certificate of \(name) is not base64") }
            let c = try Certificate(der: [UInt8](d), what: "trust list entry \(name)")
            guard Hex.encode(c.sha256Fingerprint) == sha256 else {
                throw ETrustError.refused("trust list: the certificate of \(name) does not match its SHA-256", code: .badSignature)
            }
            return c
        }

        /// When the authority was withdrawn, if it was.
        public var withdrawnAt: Date? {
            status == "withdrawn" ? history.last(where: { $0.status == "withdrawn" }).flatMap { try? RFC3339.parse($0.since) } : nil
        }
    }

    public var format = "etrust-trust-list"
    public var version = 1
    public var name: String
    public var sequence: Int
    public var issued: String
    public var nextUpdate: String
    public var authorities: [Authority]
    /// ETSI TS 119 612 scheme operator and territory (set by import-etsi; export-etsi's defaults otherwise).
    public var schemeOperator: String?
    public var territory: String?

    public static let signedFormat = "etrust-signed-trust-list"

    public init(name: String, issued: Date, nextUpdate: Date) {
        self.name = name
        sequence = 1
        self.issued = RFC3339.format(issued)
        self.nextUpdate = RFC3339.format(nextUpdate)
        authorities = []
    }

    public static func decode(_ bytes: [UInt8], what: String) throws -> TrustList {
        let list: TrustList
        do { list = try JSONDecoder().decode(TrustList.self, from: Data(bytes)) } catch {
            throw ETrustError.badInput("\(what): not a trust list (\(error))".replacingOccurrences(of: "\n", with: " "), code: .malformedInput)
        }
        guard list.format == "etrust-trust-list" else { throw ETrustError.badInput("\(what): format '\(list.format)' is not etrust-trust-list") }
        guard list.version == 1 else { throw ETrustError.refused("\(what): trust list format version \(list.version) is not supported (1)", code: .unsupportedAlgorithm) }
        return list
    }

    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try e.encode(self)) + [0x0a]
    }

    /// Per authority (by the SHA-256 of its certificate): policy OID -> level. A relying party
    /// uses the levels of the authority its path ends at, never another member's.
    public var assuranceLevelsByAuthority: [String: [String: AssuranceLevel]] {
        var map: [String: [String: AssuranceLevel]] = [:]
        for a in authorities where a.status != "suspended" {
            var levels: [String: AssuranceLevel] = [:]
            for l in a.levels {
                guard let level = AssuranceLevel(rawValue: l.level) else { continue }
                for p in l.policies { levels[p] = max(levels[p] ?? level, level) }
            }
            map[a.sha256] = levels
        }
        return map
    }

    /// The policy OID -> level map of the granted authorities.
    public var assuranceLevels: [String: AssuranceLevel] {
        var map: [String: AssuranceLevel] = [:]
        for a in authorities where a.status != "suspended" {
            for l in a.levels {
                guard let level = AssuranceLevel(rawValue: l.level) else { continue }
                for p in l.policies { map[p] = max(map[p] ?? level, level) }
            }
        }
        return map
    }
}

/// A trust list with its detached CMS signature.
public struct SignedTrustList: Codable, Sendable {
    public var format = TrustList.signedFormat
    public var version = 1
    /// base64 of the exact bytes signed.
    public var list: String
    /// base64 of the DER CMS SignedData (detached).
    public var signature: String

    public init(listBytes: [UInt8], signature: [UInt8]) {
        list = Data(listBytes).base64EncodedString()
        self.signature = Data(signature).base64EncodedString()
    }

    public struct Verified: Sendable {
        public var list: TrustList
        public var signer: Certificate
        public var signingTime: Date?
    }

    /// Verifies the signature, that the signer is the given certificate or was issued by it with
    /// id-tsl-kp-tslSigning, and that the list is not expired at `time`.
    public static func verify(_ bytes: [UInt8], signerCertificate trusted: Certificate, at time: Date, what: String) throws -> Verified {
        let wrapper: SignedTrustList
        do { wrapper = try JSONDecoder().decode(SignedTrustList.self, from: Data(bytes)) } catch {
            throw ETrustError.badInput("\(what): not a signed trust list", code: .malformedInput)
        }
        guard wrapper.format == TrustList.signedFormat else { throw ETrustError.badInput("\(what): format '\(wrapper.format)' is not a signed trust list") }
        guard wrapper.version == 1 else { throw ETrustError.refused("\(what): signed trust list version \(wrapper.version) is not supported", code: .unsupportedAlgorithm) }
        guard let listBytes = Data(base64Encoded: wrapper.list), let sig = Data(base64Encoded: wrapper.signature) else {
            throw ETrustError.badInput("\(what): list or signature is not base64")
        }
        let verified = try CMSSignature.verify([UInt8](sig), content: [UInt8](listBytes))
        let signer = verified.signer
        try checkSigner(signer, trusted: trusted, signingTime: verified.signingTime ?? time, what: what)
        let list = try TrustList.decode([UInt8](listBytes), what: what)
        try list.checkNotExpired(at: time, what: what)
        return Verified(list: list, signer: signer, signingTime: verified.signingTime)
    }

    /// The signer is the given certificate, or was issued by it with id-tsl-kp-tslSigning, and
    /// was valid when it signed.
    public static func checkSigner(_ signer: Certificate, trusted: Certificate, signingTime: Date, what: String) throws {
        if signer != trusted {
            // The given certificate may be the CA that issued the signer.
            guard signer.issuer.der == trusted.subject.der, try signer.isSigned(by: try trusted.publicKey) else {
                throw ETrustError.refused("\(what): the list is signed by \(signer.subject), not by the given signer or a certificate it issued",
                                          code: .badSignature)
            }
            guard signer.extendedKeyUsage?.contains("0.4.0.2231.3.0") == true else {
                throw ETrustError.refused("\(what): the signer \(signer.subject) is not authorized to sign trust lists (no id-tsl-kp-tslSigning)",
                                          code: .badSignature)
            }
        }
        if signingTime < signer.notBefore || signingTime > signer.notAfter {
            throw ETrustError.refused("\(what): the signer's certificate was not valid at the signing time", code: .badSignature)
        }
    }
}

extension TrustList {
    public func checkNotExpired(at time: Date, what: String) throws {
        let next = try RFC3339.parse(nextUpdate)
        if next < time { throw ETrustError.refused("\(what): the trust list expired at \(nextUpdate) (nextUpdate)", code: .badSignature) }
    }
}
