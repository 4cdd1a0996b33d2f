internal import COpenSSL

/// Drains OpenSSL's thread-local error queue into one string. Called on every failure, so that no
/// error stays queued for the next call.
func drainOpenSSLErrors() -> String {
    var parts: [String] = []
    while true {
        var file: UnsafePointer<CChar>? = nil
        var line: Int32 = 0
        var function: UnsafePointer<CChar>? = nil
        var data: UnsafePointer<CChar>? = nil
        var flags: Int32 = 0
        let e = etrust_ERR_get_error_all(&file, &line, &function, &data, &flags)
        if e == 0 { break }
        var text = ERR_reason_error_string(e).map { String(cString: $0) } ?? "error \(e)"
        if let data, (flags & ERR_TXT_STRING) != 0, data.pointee != 0 {
            text += " (\(String(cString: data)))"
        }
        if !parts.contains(text) { parts.append(text) }
    }
    return parts.joined(separator: "; ")
}

extension ETrustError {
    /// An error for a failed OpenSSL call, naming the call and carrying OpenSSL's reasons.
    static func openSSL(_ call: String, category: Category = .environment, code: Code = .openSSL) -> ETrustError {
        let reasons = drainOpenSSLErrors()
        return ETrustError(code, reasons.isEmpty ? "\(call) failed" : "\(call) failed: \(reasons)", category: category)
    }
}

/// Clears the queue before a checked call.
@inline(__always) func clearOpenSSLErrors() { ERR_clear_error() }

@discardableResult
func check(_ result: Int32, _ call: String, category: ETrustError.Category = .environment) throws -> Int32 {
    guard result > 0 else { throw ETrustError.openSSL(call, category: category) }
    return result
}

func check<T>(_ pointer: T?, _ call: String, category: ETrustError.Category = .environment) throws -> T {
    guard let pointer else { throw ETrustError.openSSL(call, category: category) }
    return pointer
}
