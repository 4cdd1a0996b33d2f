import Foundation

/// The answer an OCSP response gives for one certificate (shared by the client's checks and the
/// responder's answers).
public enum OCSPCertificateStatus: Sendable, Equatable {
    case good
    case revoked(time: Date, reason: RevocationReason?)
    case unknown
}
