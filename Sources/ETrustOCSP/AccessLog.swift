import Foundation
import Logging
import NIOConcurrencyHelpers
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How log lines look: one line of text, or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// Log lines written in batches by a background thread: a request appends its line to a buffer
/// (one of several, picked by thread, so event loops rarely share one) and never waits for a
/// write(2). The writer wakes every `interval` or when a buffer passes 64 KiB. When the output
/// cannot keep up, lines over `maxBuffered` bytes are dropped and counted, never blocking a
/// request.
public final class LogWriter: Sendable {
    private final class Shard: Sendable {
        let buffer = NIOLockedValueBox<[UInt8]>([])
    }
    private let shards: [Shard]
    private let fd: Int32
    private let maxBuffered: Int
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let droppedLines = Atomic<Int>(0)
    public var dropped: Int { droppedLines.load(ordering: .relaxed) }

    public init(fd: Int32 = 2, interval: TimeInterval = 0.1, maxBuffered: Int = 4 << 20, shards: Int = 8) {
        self.fd = fd
        self.maxBuffered = maxBuffered / shards
        self.shards = (0..<shards).map { _ in Shard() }
        let thread = Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                _ = wake.wait(timeout: .now() + interval)
                flush()
            }
            flush()
            done.signal()
        }
        thread.name = "etrust-log-writer"
        thread.start()
    }

    /// Appends one line (a newline is added).
    public func write(_ line: String) {
        let shard = shards[Int(truncatingIfNeeded: UInt(pthread_self()) >> 4) % shards.count]
        let size = shard.buffer.withLockedValue { b -> Int in
            guard b.count + line.utf8.count < maxBuffered else { return -1 }
            b.append(contentsOf: line.utf8)
            b.append(0x0a)
            return b.count
        }
        if size < 0 { droppedLines.add(1, ordering: .relaxed) } else if size > 65_536 { wake.signal() }
    }

    /// Writes what is buffered now.
    public func flush() {
        for shard in shards {
            let bytes = shard.buffer.withLockedValue { b -> [UInt8] in
                let out = b
                b.removeAll(keepingCapacity: true)
                return out
            }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { if errno == EINTR { continue }; break }
                offset += n
            }
        }
    }

    /// Flushes and stops the writer thread.
    public func close() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        done.wait()
    }
}

/// The responder's lines: the access log (one line per request) and swift-log's messages, in
/// one format.
public struct LogLine {
    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = tv.tv_sec
        var tm = tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%S", &tm)
        let ms = Int(tv.tv_usec / 1000)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + (ms < 10 ? ".00" : ms < 100 ? ".0" : ".") + String(ms) + "Z"
    }

    /// A JSON string literal.
    static func quoted(_ s: Substring) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func quoted(_ s: String) -> String { quoted(s[...]) }

    /// Printable ASCII only (a request path is attacker-chosen): other bytes become '?'.
    static func printable(_ s: Substring) -> Substring {
        s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c })
            ? s : Substring(String(decoding: s.utf8.map { $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c ? $0 : 0x3f }, as: UTF8.self))
    }

    public static func access(format: LogFormat, client: String, method: String, path: Substring, status: Int, outcome: String,
                              serials: [String], nanoseconds: UInt64) -> String {
        let ms = Double(nanoseconds) / 1e6
        let latency = String(format: "%.3f", ms)
        let p = printable(path.prefix(96))
        let serial = serials.joined(separator: ",")
        switch format {
        case .text:
            return "\(timestamp()) info access \(client) \(method) \(p) \(status) \(outcome) serial=\(serial.isEmpty ? "-" : serial) \(latency)ms"
        case .json:
            return "{\"time\":\"\(timestamp())\",\"level\":\"info\",\"msg\":\"access\",\"client\":\(quoted(client)),\"method\":\(quoted(method)),"
                + "\"path\":\(quoted(p)),\"status\":\(status),\"outcome\":\"\(outcome)\",\"serial\":\(quoted(serial)),\"latency_ms\":\(latency)}"
        }
    }
}

/// swift-log's messages through the same writer and format as the access log.
public struct ResponderLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: LogFormat
    let writer: LogWriter

    public init(label: String, level: Logger.Level, format: LogFormat, writer: LogWriter) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        let all = metadata.merging(extra ?? [:]) { $1 }
        switch format {
        case .text:
            let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            writer.write("\(LogLine.timestamp()) \(level) \(message)\(meta)")
        case .json:
            var fields = "\"time\":\"\(LogLine.timestamp())\",\"level\":\"\(level)\",\"msg\":\(LogLine.quoted(message.description))"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { fields += ",\(LogLine.quoted(k)):\(LogLine.quoted(v.description))" }
            writer.write("{" + fields + "}")
        }
    }
}
