import ETrustCore
import Foundation

public struct CARecord: Sendable {
    public var name: String
    public var certificate: Certificate
    public var keyReference: String      // "file:keys/NAME.key.pem" or a pkcs11: URI
    public var parent: String?
    public var profile: String
    public var createdAt: Date

    public init(name: String, certificate: Certificate, keyReference: String, parent: String?, profile: String, createdAt: Date) {
        self.name = name; self.certificate = certificate; self.keyReference = keyReference
        self.parent = parent; self.profile = profile; self.createdAt = createdAt
    }
}

public enum CertificateStatus: String, Sendable, CaseIterable {
    case valid, revoked, expired
}

public struct CertificateRecord: Sendable {
    public var ca: String
    public var serialHex: String
    public var subject: String
    public var subjectAltNames: [String]
    public var profile: String
    public var notBefore: Date
    public var notAfter: Date
    public var status: CertificateStatus
    public var shard: Int
    public var der: [UInt8]
    public var requester: String
    public var issuedAt: Date
    public var revokedAt: Date?
    public var revocationReason: Int?
    public var invalidityDate: Date?

    public init(ca: String, serialHex: String, subject: String, subjectAltNames: [String], profile: String, notBefore: Date,
                notAfter: Date, status: CertificateStatus = .valid, shard: Int = 0, der: [UInt8], requester: String, issuedAt: Date,
                revokedAt: Date? = nil, revocationReason: Int? = nil, invalidityDate: Date? = nil) {
        self.ca = ca; self.serialHex = serialHex; self.subject = subject; self.subjectAltNames = subjectAltNames
        self.profile = profile; self.notBefore = notBefore; self.notAfter = notAfter; self.status = status
        self.shard = shard; self.der = der; self.requester = requester; self.issuedAt = issuedAt
        self.revokedAt = revokedAt; self.revocationReason = revocationReason; self.invalidityDate = invalidityDate
    }

    /// Status as of `date`: a valid certificate past notAfter is expired.
    public func status(at date: Date) -> CertificateStatus {
        status == .valid && notAfter < date ? .expired : status
    }
}

public struct CertificateFilter: Sendable {
    public var ca: String?
    public var status: CertificateStatus?
    public var profile: String?
    public var subjectContains: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int?
    public init(ca: String? = nil, status: CertificateStatus? = nil, profile: String? = nil, subjectContains: String? = nil,
                since: Date? = nil, until: Date? = nil, limit: Int? = nil) {
        self.ca = ca; self.status = status; self.profile = profile; self.subjectContains = subjectContains
        self.since = since; self.until = until; self.limit = limit
    }
}

/// A CA whose key was generated in this home and whose certificate is signed by another home
/// (an offline root): its request, until the certificate comes back.
public struct PendingCARecord: Sendable {
    public var name: String
    public var csr: CertificateSigningRequest
    public var keyReference: String
    public var profile: String
    public var createdAt: Date
    public init(name: String, csr: CertificateSigningRequest, keyReference: String, profile: String, createdAt: Date) {
        self.name = name; self.csr = csr; self.keyReference = keyReference; self.profile = profile; self.createdAt = createdAt
    }
}
