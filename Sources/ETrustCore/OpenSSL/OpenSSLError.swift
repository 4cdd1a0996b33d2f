internal import COpenSSL

/// One entry of OpenSSL's thread-local error queue, kept as data (not flattened into a string).
public struct OpenSSLErrorEntry: Sendable, Equatable, CustomStringConvertible {
    /// The packed error code (ERR_get_error_all).
    public var code: UInt
    /// The library that raised it ("x509 certificate routines", ...; ERR_lib_error_string).
    public var library: String
    /// The reason ("certificate verify error", ...; ERR_reason_error_string).
    public var reason: String
    /// The reason with OpenSSL's extra data, as etrust prints it: "reason (data)".
    public var text: String
    /// OpenSSL's internal function that raised it, when it says.
    public var function: String?

    public var description: String { text }
}

/// Reads OpenSSL's thread-local error queue.
enum OpenSSLErrorQueue {
    /// Empties the queue into entries (ERR_get_error_all), oldest first. Called on every
    /// failure, so that no error stays queued for the next call.
    static func drain() -> [OpenSSLErrorEntry] {
        var entries: [OpenSSLErrorEntry] = []
        while true {
            var file: UnsafePointer<CChar>? = nil
            var line: Int32 = 0
            var function: UnsafePointer<CChar>? = nil
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let e = etrust_ERR_get_error_all(&file, &line, &function, &data, &flags)
            if e == 0 { break }
            let reason = ERR_reason_error_string(e).map { String(cString: $0) } ?? "error \(e)"
            var text = reason
            if let data, (flags & ERR_TXT_STRING) != 0, data.pointee != 0 {
                text += " (\(String(cString: data)))"
            }
            let library = ERR_lib_error_string(e).map { String(cString: $0) } ?? "lib \(Int(e >> 23) & 0xff)"
            let fn = function.flatMap { $0.pointee != 0 ? String(cString: $0) : nil }
            entries.append(OpenSSLErrorEntry(code: UInt(e), library: library, reason: reason, text: text, function: fn))
        }
        return entries
    }

    /// The entries' texts, each once, joined: the line etrust has always printed.
    static func summary(_ entries: [OpenSSLErrorEntry]) -> String {
        var parts: [String] = []
        for e in entries where !parts.contains(e.text) { parts.append(e.text) }
        return parts.joined(separator: "; ")
    }
}

/// Drains the queue into the one line of text used inside a message.
func drainOpenSSLErrors() -> String { OpenSSLErrorQueue.summary(OpenSSLErrorQueue.drain()) }

extension ETrustError {
    /// An error for a failed OpenSSL call, naming the call and carrying OpenSSL's entries.
    static func openSSL(_ call: String, category: Category = .environment, code: Code = .openSSL) -> ETrustError {
        let entries = OpenSSLErrorQueue.drain()
        let reasons = OpenSSLErrorQueue.summary(entries)
        var e = ETrustError(code, reasons.isEmpty ? "\(call) failed" : "\(call) failed: \(reasons)", category: category)
        e.openSSL = OpenSSLFailure(call: call, entries: entries)
        return e
    }

    /// The same for a message of its own: `reason(summary)` is the text, the entries are kept.
    static func openSSL(_ call: String, category: Category, code: Code, reason: (String) -> String) -> ETrustError {
        let entries = OpenSSLErrorQueue.drain()
        var e = ETrustError(code, reason(OpenSSLErrorQueue.summary(entries)), category: category)
        e.openSSL = OpenSSLFailure(call: call, entries: entries)
        return e
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

/// Runs one of OpenSSL's d2i_* decoders over `der`, after clearing the error queue.
func decodeDER<T>(_ der: [UInt8], _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> T?) -> T? {
    clearOpenSSLErrors()
    return der.withUnsafeBufferPointer { buf in
        var p = buf.baseAddress
        return d2i(&p, buf.count)
    }
}
