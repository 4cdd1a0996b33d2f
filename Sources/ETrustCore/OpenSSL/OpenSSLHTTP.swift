import Foundation
internal import COpenSSL

/// OpenSSL's blocking HTTP client (OSSL_HTTP_*), bounded in time and size. What to fetch and
/// which answers to accept is the caller's business.
package enum OpenSSLHTTP {
    /// OSSL_HTTP_parse_url: nil when `url` is not a URL OpenSSL reads.
    package static func parse(_ url: String) -> (tls: Bool, host: String, port: String, path: String)? {
        var ssl: Int32 = 0
        var host: UnsafeMutablePointer<CChar>? = nil, port: UnsafeMutablePointer<CChar>? = nil, path: UnsafeMutablePointer<CChar>? = nil
        let ok = OSSL_HTTP_parse_url(url, &ssl, nil, &host, &port, nil, &path, nil, nil)
        defer { etrust_openssl_free(host); etrust_openssl_free(port); etrust_openssl_free(path) }
        guard ok == 1, let host, let port, let path else { clearOpenSSLErrors(); return nil }
        return (ssl != 0, String(cString: host), String(cString: port), String(cString: path))
    }

    /// POSTs `body` (OSSL_HTTP_transfer) and returns the response body, at most `maxBytes`.
    /// Errors: environment/io, "`failure`: OpenSSL's reasons", or "`tooLarge`".
    package static func post(host: String, port: String, path: String, body: [UInt8], contentType: String, expectedType: String,
                             timeout: Int32, maxBytes: Int, failure: String, tooLarge: String) throws -> [UInt8] {
        clearOpenSSLErrors()
        guard let request = body.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw ETrustError.openSSL("BIO_new_mem_buf")
        }
        defer { BIO_free(request) }
        guard let response = OSSL_HTTP_transfer(nil, host, port, path, 0, nil, nil, nil, nil, nil, nil, 0, nil,
                                                contentType, request, expectedType, 1, maxBytes, timeout, 0) else {
            throw ETrustError.openSSL("OSSL_HTTP_transfer", category: .environment, code: .io) { "\(failure): \($0)" }
        }
        defer { BIO_free_all(response) }
        return try readAll(response, maxBytes: maxBytes, tooLarge: tooLarge)
    }

    /// GETs `url` (OSSL_HTTP_get), at most `maxBytes`.
    package static func get(_ url: String, timeout: Int32, maxBytes: Int, failure: String, tooLarge: String) throws -> [UInt8] {
        clearOpenSSLErrors()
        guard let bio = OSSL_HTTP_get(url, nil, nil, nil, nil, nil, nil, 0, nil, nil, 0, maxBytes, timeout) else {
            throw ETrustError.openSSL("OSSL_HTTP_get", category: .environment, code: .io) { "\(failure): \($0)" }
        }
        defer { BIO_free_all(bio) }
        return try readAll(bio, maxBytes: maxBytes, tooLarge: tooLarge)
    }

    private static func readAll(_ bio: OpaquePointer, maxBytes: Int, tooLarge: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            bytes += buf[0..<Int(n)]
            if bytes.count > maxBytes { clearOpenSSLErrors(); throw ETrustError.environment(tooLarge, code: .io) }
        }
        clearOpenSSLErrors()
        return bytes
    }
}
