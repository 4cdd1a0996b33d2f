import ETrustCore
import Foundation

/// Trust anchors and CRLs parsed once into an OpenSSL X509_STORE, reused across validations so
/// that a relying party checking many certificates pays for parsing once. Immutable after init,
/// so several threads may validate against it at once.
public final class TrustStore: Sendable {
    /// The anchors and CRLs in OpenSSL's store. Every CRL is also given to each validation
    /// directly (as `openssl verify -CRLfile` does): the store looks CRLs up by the certificate's
    /// issuer name only, which misses indirect CRLs signed by another issuer (RFC 5280 5.2.5, cRLIssuer).
    let store: OpenSSLTrustStore
    public let anchors: [Certificate]
    public let crls: [CertificateRevocationList]

    public init(anchors: [Certificate], crls: [CertificateRevocationList] = []) throws {
        self.store = try OpenSSLTrustStore(anchors: anchors, crls: crls)
        self.anchors = anchors
        self.crls = crls
    }
}
