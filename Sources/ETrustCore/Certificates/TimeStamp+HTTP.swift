import Foundation

extension TimeStamp {
    /// Asks the TSA at `url` (RFC 3161 section 3.4: an HTTP POST) for a token over `imprint`,
    /// with a fresh nonce. The reply must grant a token whose imprint and nonce are the request's;
    /// its signature and chain are the caller's to check (`verify`).
    public static func fetch(imprint: [UInt8], digest: String = "sha256", url: String, policy: String? = nil,
                             timeout: Int32 = 10) throws -> (response: Response, token: [UInt8], info: Info, nonceHex: String?) {
        let (req, nonce) = try request(imprint: imprint, digest: digest, policy: policy)
        guard let parts = OpenSSLHTTP.parse(url) else { throw ETrustError.badInput("not an http:// URL: \(url)", code: .invalidArgument) }
        let reply = try OpenSSLHTTP.post(host: parts.host, port: parts.port, path: parts.path, body: req, contentType: "application/timestamp-query",
                                         expectedType: "application/timestamp-reply", timeout: timeout, maxBytes: 1 << 20,
                                         failure: "asking \(url) for a time-stamp failed", tooLarge: "the TSA's reply is over 1 MiB")
        let response = try Self.response(reply)
        guard response.granted, let token = response.token, let info = response.info else {
            throw ETrustError.refused("the TSA refused the request (status \(response.status)\(response.statusText.map { ": \($0)" } ?? ""))",
                                      code: .policyRefused)
        }
        guard info.messageImprint == imprint, nonce.map({ $0.lowercased() == info.nonceHex?.lowercased() }) ?? true else {
            throw ETrustError.refused("the TSA's token is not for this request (imprint or nonce differ)", code: .badSignature)
        }
        return (response, token, info, nonce)
    }
}
