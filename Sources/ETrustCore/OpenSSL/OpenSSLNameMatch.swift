internal import COpenSSL

extension Certificate {
    /// Whether this certificate's subject names `other`'s issuer: the same DER, or the same name
    /// after RFC 5280 7.1 / 4.1.2.4 comparison rules as OpenSSL applies them (X509_NAME_cmp on the
    /// canonical encoding: case and white space folded).
    package func subjectNamesIssuer(of other: Certificate) -> Bool {
        if subject.der == other.issuer.der { return true }
        guard let matched = try? withUnsafeX509Pointer({ s in
            try other.withUnsafeX509Pointer { o in X509_NAME_cmp(X509_get_subject_name(s), X509_get_issuer_name(o)) == 0 }
        }) else { return false }
        return matched
    }
}
