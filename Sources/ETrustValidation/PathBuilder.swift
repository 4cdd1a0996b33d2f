import ETrustCore
import Foundation

/// Enumerates candidate certification paths from a leaf to a trust anchor (RFC 4158): depth
/// first, each certificate's possible issuers tried in turn (anchors first, then intermediates
/// whose subjectKeyIdentifier matches the child's authorityKeyIdentifier, then the others), with
/// backtracking, loop detection (no certificate, and no subject name and key pair, twice in a
/// path) and a bound on the number of intermediates. Validating a candidate is the caller's.
struct PathBuilder {
    let anchors: [Certificate]
    let intermediates: [Certificate]
    let maxDepth: Int
    /// At most this many complete candidates are handed out (cross-certified meshes can hold many).
    var maxCandidates = 64

    /// Calls `visit` with each candidate path (leaf first, anchor last) until it returns true.
    func enumerate(from leaf: Certificate, _ visit: ([Certificate]) throws -> Bool) throws {
        var remaining = maxCandidates
        var path = [leaf]
        _ = try extend(&path, remaining: &remaining, visit)
    }

    private func extend(_ path: inout [Certificate], remaining: inout Int, _ visit: ([Certificate]) throws -> Bool) throws -> Bool {
        guard let current = path.last, remaining > 0 else { return true }
        for anchor in issuers(of: current, in: anchors) where !contains(path, anchor) || path.count == 1 && anchor == current {
            remaining -= 1
            if try visit(anchor == current ? path : path + [anchor]) || remaining <= 0 { return true }
        }
        guard path.count - 1 < maxDepth else { return false }
        for issuer in issuers(of: current, in: intermediates) where !contains(path, issuer) {
            path.append(issuer)
            defer { path.removeLast() }
            if try extend(&path, remaining: &remaining, visit) { return true }
        }
        return false
    }

    /// A loop: the same certificate, or the same subject and key, already in the path.
    private func contains(_ path: [Certificate], _ c: Certificate) -> Bool {
        path.contains { $0 == c || ($0.subject.der == c.subject.der && $0.subjectPublicKeyInfo == c.subjectPublicKeyInfo) }
    }

    /// The certificates of `pool` whose subject names `child`'s issuer, the ones whose key
    /// identifier matches the child's authorityKeyIdentifier first.
    private func issuers(of child: Certificate, in pool: [Certificate]) -> [Certificate] {
        let named = pool.filter { $0.subjectNamesIssuer(of: child) }
        guard named.count > 1, let akid = child.authorityKeyIdentifier else { return named }
        return named.filter { $0.subjectKeyIdentifier == akid } + named.filter { $0.subjectKeyIdentifier != akid }
    }
}

/// Errors of X509_verify_cert the validation layer lets pass, each for a reason of the RFCs.
enum Leniency {
    static func letPass(_ e: X509VerifyEvent, parameters p: PathParameters, signaturesCheckedAt: Set<Int>, missing: MissingCRLs) -> Bool {
        // RFC 5280 4.1.2.5 / 6.3.3 (a)(2): validity and CRL freshness include their last second.
        if e.endsExactlyAtVerificationTime && (e.error == X509VerifyError.certificateHasExpired || e.error == X509VerifyError.crlHasExpired) {
            return true
        }
        if e.inCRLIssuerPath {
            // RFC 5280 6.3.3 (f): the CRL issuer's path is validated, and its own certificate's
            // status may come from an indirect CRL it signs itself (PKITS 4.14.30): the CRL's
            // signature was checked with that key, whose path is the one being validated. Only
            // for that certificate's own status (depth 0 of the nested validation).
            return e.crlSignedByCertificateUnderValidation && e.depth == 0
        }
        // A signature OpenSSL saw over a TBSCertificate changed for DSA parameter inheritance,
        // already verified in Swift over the original.
        if e.error == X509VerifyError.certificateSignatureFailure && signaturesCheckedAt.contains(e.depth) { return true }
        guard p.tolerateMissingCRL && e.error == X509VerifyError.unableToGetCRL else { return false }
        missing.insert(e.depth)
        return true
    }
}

/// DSA parameter inheritance for a candidate path (RFC 5280 6.1.4 (e)-(f), RFC 3279 2.3.2).
enum DSAInheritance {
    struct Completed {
        var chain: [Certificate]
        /// Completed copy's DER -> the certificate as given.
        var originals: [[UInt8]: Certificate] = [:]
        /// Depths whose certificate was replaced and whose original signature verified here.
        var signaturesChecked: Set<Int> = []
    }

    /// The path with each DSA key lacking parameters given its issuer's (working parameters
    /// carried down from the anchor). Unchanged (and cheap) when no key lacks them.
    static func complete(_ chain: [Certificate]) throws -> Completed {
        guard chain.contains(where: \.hasDSAKeyWithoutParameters) else { return Completed(chain: chain) }
        var out = Completed(chain: chain)
        var working: [UInt8]? = nil
        var issuerKey: PublicKey? = nil
        for depth in stride(from: chain.count - 1, through: 0, by: -1) {
            let cert = chain[depth]
            if cert.hasDSAKeyWithoutParameters, let params = working {
                let copy = try cert.completingDSAParameters(params)
                out.chain[depth] = copy
                out.originals[copy.der] = cert
                if let key = issuerKey, (try? cert.isSigned(by: key)) == true { out.signaturesChecked.insert(depth) }
            } else {
                working = cert.dsaParameters
            }
            issuerKey = try? out.chain[depth].publicKey
        }
        return out
    }
}

/// The names the leaf must match. An IP address literal given as the host name is compared as an
/// address, octet for octet, as parsed strictly (inet_pton: no leading zeros, hexadecimal or
/// short forms); under the Web PKI layer a host name is matched against dNSName SANs only, never
/// the subject's CN (BR 7.1.4.2).
enum NameTargets {
    static func apply(_ p: PathParameters, to ctx: OpenSSLVerifyContext) throws {
        if let ip = p.ip {
            guard let octets = GeneralName.parseIP(ip) else {
                throw ETrustError.badInput("'\(ip)' is not an IPv4 or IPv6 address (dotted decimal without leading zeros, or RFC 4291 text)",
                                           code: .invalidArgument)
            }
            ctx.setIP(octets: octets)
        }
        if let e = p.email { ctx.setEmail(e) }
        guard let h = p.hostname else { return }
        // An IP address literal names an iPAddress SAN, never a dNSName (RFC 6125 1.7.2).
        if let octets = GeneralName.parseIP(h) { ctx.setIP(octets: octets); return }
        guard p.effectiveProfileChecks == .webpki else { ctx.setHost(h); return }
        // Not a DNS name (e.g. an IPv4 address in another spelling): WebPKIRules refuses it.
        if DNSName.isValid(h, wildcard: false) { ctx.setHostSANOnly(h) }
    }
}

/// The depths at which a validation found no CRL (filled by the verify callback).
// @unchecked Sendable: written only by the verify callback, on the validating thread, and read after it.
final class MissingCRLs: @unchecked Sendable {
    private(set) var depths = Set<Int>()
    func insert(_ depth: Int) { depths.insert(depth) }
}
