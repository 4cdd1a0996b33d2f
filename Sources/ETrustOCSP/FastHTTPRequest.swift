/// The requests etrust-ocspd answers on its fast path, recognised in the bytes as they arrive:
/// `POST /ocsp` (or `POST /`) with a Content-Length body, and the RFC 5019 `GET /ocsp/<base64>`,
/// in HTTP/1.1 or HTTP/1.0. The parser is deliberately narrow: anything it does not recognise
/// exactly (another method or path, a query string, chunked bodies, `Expect`, `Upgrade`, a
/// repeated or odd Content-Length, obs-fold, a bare CR or LF, a header block over 8 KiB, a body
/// over the limit) is not an error here but `.other`: the connection is handed to the complete
/// HTTP/1.1 stack (NIOHTTP1, llhttp), which answers or refuses it as it always has. What the fast
/// path accepts is a strict subset of what that stack accepts, so a request cannot be read two
/// ways (no smuggling between the paths).
struct FastHTTPRequest: Equatable {
    enum Method: Equatable { case get, post }
    var method: Method
    /// The request target as sent (`/ocsp`, `/`, or `/ocsp/<base64>`).
    var target: [UInt8]
    var http10: Bool
    var keepAlive: Bool
    /// Bytes of the request line and header block, up to and including the empty line.
    var headLength: Int
    var contentLength: Int

    /// The target's path as text, for the access log.
    var path: Substring {
        guard method == .get else { return target.count == 1 ? "/" : "/ocsp" }
        return Substring(decoding: target, as: UTF8.self)
    }

    enum Parse: Equatable {
        /// More bytes are needed (the head or the body is not complete yet).
        case incomplete
        /// Not for the fast path: hand the connection to the complete HTTP stack.
        case other
        /// A whole request: `headLength + contentLength` bytes.
        case request(FastHTTPRequest)
    }

    static let maxHeadBytes = 8192
    static let maxHeaders = 64

    /// Parses the request at the start of `bytes`; `maxBody` is the body limit (a larger
    /// Content-Length goes to the complete stack, which refuses it with 413 before reading it).
    static func parse(_ bytes: UnsafeRawBufferPointer, maxBody: Int) -> Parse {
        guard let headEnd = endOfHead(bytes) else {
            return bytes.count > maxHeadBytes ? .other : .incomplete
        }
        guard var request = requestLine(bytes, upTo: headEnd) else { return .other }
        guard headers(bytes, from: request.headLength, upTo: headEnd, into: &request) else { return .other }
        request.headLength = headEnd
        switch request.method {
        case .post:
            guard request.target == Array("/ocsp".utf8) || request.target == [0x2f], request.contentLength <= maxBody else { return .other }
        case .get:
            guard request.contentLength == 0, request.target.count > 6, request.target.starts(with: Array("/ocsp/".utf8)) else { return .other }
        }
        return bytes.count >= headEnd + request.contentLength ? .request(request) : .incomplete
    }

    /// The offset just after the first CRLF CRLF, if it comes within `maxHeadBytes`.
    private static func endOfHead(_ b: UnsafeRawBufferPointer) -> Int? {
        let limit = min(b.count, maxHeadBytes)
        var i = 3
        while i < limit {
            if b[i] == 0x0a, b[i - 1] == 0x0d, b[i - 2] == 0x0a, b[i - 3] == 0x0d { return i + 1 }
            i += 1
        }
        return nil
    }

    /// `GET|POST SP target SP HTTP/1.1|HTTP/1.0 CRLF`; headLength is set to the line's end.
    private static func requestLine(_ b: UnsafeRawBufferPointer, upTo end: Int) -> FastHTTPRequest? {
        let method: Method
        var i: Int
        if starts(b, at: 0, with: "GET ") { method = .get; i = 4 } else if starts(b, at: 0, with: "POST ") { method = .post; i = 5 } else { return nil }
        let targetStart = i
        while i < end, b[i] >= 0x21, b[i] <= 0x7e, b[i] != 0x3f { i += 1 }   // no query string on the fast path
        guard i > targetStart, i < end, b[i] == 0x20 else { return nil }
        let target = Array(b[targetStart..<i])
        i += 1
        let http10: Bool
        if starts(b, at: i, with: "HTTP/1.1\r\n") { http10 = false } else if starts(b, at: i, with: "HTTP/1.0\r\n") { http10 = true } else { return nil }
        return FastHTTPRequest(method: method, target: target, http10: http10, keepAlive: !http10, headLength: i + 10, contentLength: 0)
    }

    /// The header fields between `start` and the empty line; false when one is not plain.
    private static func headers(_ b: UnsafeRawBufferPointer, from start: Int, upTo end: Int, into r: inout FastHTTPRequest) -> Bool {
        var i = start
        var count = 0
        var sawLength = false
        var connection: (close: Bool, keepAlive: Bool) = (false, false)
        while i < end - 2 {
            count += 1
            guard count <= maxHeaders else { return false }
            let nameStart = i
            while i < end, isTokenByte(b[i]) { i += 1 }
            guard i > nameStart, i < end, b[i] == 0x3a else { return false }   // "name:" (no space before the colon, no obs-fold)
            let nameEnd = i
            i += 1
            while i < end, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let valueStart = i
            while i < end, b[i] != 0x0d {
                guard b[i] == 0x09 || b[i] >= 0x20, b[i] != 0x7f else { return false }   // no bare LF, no control bytes
                i += 1
            }
            guard i + 1 < end, b[i + 1] == 0x0a else { return false }
            var valueEnd = i
            while valueEnd > valueStart, b[valueEnd - 1] == 0x20 || b[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            i += 2
            let name = UnsafeRawBufferPointer(rebasing: b[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: b[valueStart..<valueEnd])
            if equalsLowercased(name, "content-length") {
                guard !sawLength, let n = decimal(value) else { return false }
                sawLength = true
                r.contentLength = n
            } else if equalsLowercased(name, "transfer-encoding") || equalsLowercased(name, "expect") || equalsLowercased(name, "upgrade") {
                return false
            } else if equalsLowercased(name, "connection") {
                for token in value.split(separator: 0x2c) {
                    let t = UnsafeRawBufferPointer(rebasing: token).trimmingOWS
                    if equalsLowercased(t, "close") { connection.close = true }
                    if equalsLowercased(t, "keep-alive") { connection.keepAlive = true }
                }
            }
        }
        if connection.close { r.keepAlive = false } else if connection.keepAlive { r.keepAlive = true }
        return true
    }

    /// 1 to 9 ASCII digits (a larger body is over every limit anyway: the complete stack refuses it).
    private static func decimal(_ v: UnsafeRawBufferPointer) -> Int? {
        guard !v.isEmpty, v.count <= 9 else { return nil }
        var n = 0
        for c in v {
            guard c >= 0x30, c <= 0x39 else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2a, 0x2b, 0x2d, 0x2e, 0x5e, 0x5f, 0x60, 0x7c, 0x7e: return true
        default: return false
        }
    }

    private static func starts(_ b: UnsafeRawBufferPointer, at i: Int, with s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        let p = s.utf8Start
        for k in 0..<n where b[i + k] != p[k] { return false }
        return true
    }

    /// ASCII case-insensitive equality with a lowercase literal.
    private static func equalsLowercased(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard b.count == n else { return false }
        let p = s.utf8Start
        for k in 0..<n {
            var c = b[k]
            if c >= 0x41, c <= 0x5a { c |= 0x20 }
            if c != p[k] { return false }
        }
        return true
    }
}

private extension UnsafeRawBufferPointer {
    var trimmingOWS: UnsafeRawBufferPointer {
        var s = startIndex, e = endIndex
        while s < e, self[s] == 0x20 || self[s] == 0x09 { s += 1 }
        while e > s, self[e - 1] == 0x20 || self[e - 1] == 0x09 { e -= 1 }
        return UnsafeRawBufferPointer(rebasing: self[s..<e])
    }
}
