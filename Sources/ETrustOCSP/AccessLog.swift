import ETrustAudit
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
/// request. Lines of different threads may reach the output up to one interval out of order
/// (each carries its own time).
public final class LogWriter: Sendable {
    /// One buffer, with the formatted date of the second last written through it (a date is
    /// formatted once a second per buffer, not once a line).
    struct Shard {
        var bytes: [UInt8] = []
        var second = 0
        var millisecond = -1
        /// `2026-11-30T07:00:00.123Z` for the last line's millisecond.
        var stamp: [UInt8] = []
    }
    private let shards: [NIOLockedValueBox<Shard>]
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
        self.shards = (0..<shards).map { _ in NIOLockedValueBox(Shard()) }
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

    /// Appends one line: `fill` writes it after the time stamp (`2026-11-30T07:00:00.123Z`,
    /// given as bytes to place where the format wants it); a newline is added.
    public func write(_ fill: (_ line: inout [UInt8], _ time: ArraySlice<UInt8>) -> Void) {
        var tv = timeval()
        gettimeofday(&tv, nil)
        // Threads' descriptors lie a stack size apart, so their low bits agree: the shard comes from
        // the high bits of a multiplicative hash, which every bit of the address moves.
        let shard = shards[Int(truncatingIfNeeded: (UInt64(UInt(pthread_self())) &* 0x9E37_79B9_7F4A_7C15) >> 40) % shards.count]
        let (before, size) = shard.withLockedValue { s -> (Int, Int) in
            guard s.bytes.count < maxBuffered else { return (0, -1) }
            let before = s.bytes.count
            let ms = Int(tv.tv_usec / 1000)
            if s.second != tv.tv_sec || s.stamp.isEmpty {
                s.second = tv.tv_sec
                s.millisecond = -1
                s.stamp = LogLine.dateBytes(tv.tv_sec)
                LogLine.appendMillis(&s.stamp, 0)
            }
            if s.millisecond != ms {
                s.millisecond = ms
                let n = s.stamp.count
                s.stamp[n - 4] = UInt8(48 + ms / 100); s.stamp[n - 3] = UInt8(48 + ms / 10 % 10); s.stamp[n - 2] = UInt8(48 + ms % 10)
            }
            fill(&s.bytes, s.stamp[...])
            s.bytes.append(0x0a)
            return (before, s.bytes.count)
        }
        // The writer is woken once when a buffer passes 64 KiB (not once per line after that: each
        // signal would turn its wait into another pass).
        if size < 0 { droppedLines.add(1, ordering: .relaxed) } else if size > 65_536, before <= 65_536 { wake.signal() }
    }

    /// Appends one line of text.
    public func write(_ line: String) {
        write { buffer, _ in buffer.append(contentsOf: line.utf8) }
    }

    /// Writes what is buffered now (one flush at a time: the writer thread and an urgent message).
    public func flush() {
        flushing.withLock { flushShards() }
    }
    private let flushing = NIOLock()

    private func flushShards() {
        for shard in shards {
            let bytes = shard.withLockedValue { s -> [UInt8] in
                let out = s.bytes
                s.bytes.removeAll(keepingCapacity: true)
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
public enum LogLine {
    /// `YYYY-MM-DDTHH:MM:SS` of a Unix time, UTC.
    static func dateBytes(_ seconds: Int) -> [UInt8] {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func two(_ n: Int32) { out.append(UInt8(48 + n / 10)); out.append(UInt8(48 + n % 10)) }
        let year = Int(tm.tm_year) + 1900
        for d in [year / 1000, year / 100 % 10, year / 10 % 10, year % 10] { out.append(UInt8(48 + d)) }
        out.append(0x2d); two(tm.tm_mon + 1); out.append(0x2d); two(tm.tm_mday)
        out.append(0x54); two(tm.tm_hour); out.append(0x3a); two(tm.tm_min); out.append(0x3a); two(tm.tm_sec)
        return out
    }

    /// `.mmmZ`
    static func appendMillis(_ out: inout [UInt8], _ ms: Int) {
        out.append(0x2e)
        out.append(UInt8(48 + ms / 100)); out.append(UInt8(48 + ms / 10 % 10)); out.append(UInt8(48 + ms % 10))
        out.append(0x5a)
    }

    /// RFC 3339 UTC with milliseconds, now.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var b = dateBytes(tv.tv_sec)
        appendMillis(&b, Int(tv.tv_usec / 1000))
        return String(decoding: b, as: UTF8.self)
    }

    /// A JSON string literal (the audit log's escaping).
    static func quoted(_ s: String) -> String { CanonicalJSON.string(s) }

    /// A request path as logged: at most 96 bytes of printable ASCII; anything else (a path is
    /// chosen by the client), a quote and a backslash become '?', so the line needs no escaping.
    static func appendPrintable(_ out: inout [UInt8], _ s: Substring) {
        for b in s.utf8.prefix(96) { out.append(b >= 0x20 && b < 0x7f && b != 0x22 && b != 0x5c ? b : 0x3f) }
    }

    /// A number in decimal, without making a String.
    static func appendDecimal(_ out: inout [UInt8], _ n: UInt64) {
        if n >= 10 { appendDecimal(&out, n / 10) }
        out.append(UInt8(48 + n % 10))
    }

    /// Milliseconds with three decimals.
    static func appendLatency(_ out: inout [UInt8], nanoseconds: UInt64) {
        let micros = nanoseconds / 1000
        appendDecimal(&out, micros / 1000)
        out.append(0x2e)
        let frac = Int(micros % 1000)
        out.append(UInt8(48 + frac / 100)); out.append(UInt8(48 + frac / 10 % 10)); out.append(UInt8(48 + frac % 10))
    }

    /// The end of an access line that depends only on the answer (status, outcome, serials),
    /// rendered once: the fast path keeps it with each cached answer.
    public struct AccessTail: Sendable {
        let text: [UInt8]
        let json: [UInt8]

        public init(status: Int, outcome: String, serials: [String]) {
            let serial = serials.joined(separator: ",")
            text = Array(" \(status) \(outcome) serial=\(serials.isEmpty ? "-" : serial) ".utf8)
            json = Array("\",\"status\":\(status),\"outcome\":\"\(outcome)\",\"serial\":\"\(serial)\",\"latency_ms\":".utf8)
        }
    }

    /// One access line (text or JSON), written straight into the log buffer.
    public static func access(_ out: inout [UInt8], time: ArraySlice<UInt8>, format: LogFormat, client: String, method: String,
                              path: Substring, status: Int, outcome: String, serials: [String], nanoseconds: UInt64) {
        access(&out, time: time, format: format, client: client, method: method, path: path,
               tail: AccessTail(status: status, outcome: outcome, serials: serials), nanoseconds: nanoseconds)
    }

    /// One access line from its parts: the request's, and the answer's rendered `tail`.
    static func access(_ out: inout [UInt8], time: ArraySlice<UInt8>, format: LogFormat, client: String, method: String,
                       path: Substring, tail: AccessTail, nanoseconds: UInt64) {
        func add(_ s: String) { out.append(contentsOf: s.utf8) }
        switch format {
        case .text:
            out.append(contentsOf: time); add(" info access "); add(client); out.append(0x20); add(method); out.append(0x20)
            appendPrintable(&out, path); out.append(contentsOf: tail.text); appendLatency(&out, nanoseconds: nanoseconds); add("ms")
        case .json:
            add("{\"time\":\""); out.append(contentsOf: time); add("\",\"level\":\"info\",\"msg\":\"access\",\"client\":\""); add(client)
            add("\",\"method\":\""); add(method); add("\",\"path\":\""); appendPrintable(&out, path)
            out.append(contentsOf: tail.json); appendLatency(&out, nanoseconds: nanoseconds); add("}")
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

    /// Messages at warning and above are written at once (they are rare, and must not be lost
    /// to a crash); others, like access lines, within the writer's interval.
    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        defer { if level >= .warning { writer.flush() } }
        let all = metadata.merging(extra ?? [:]) { $1 }
        switch format {
        case .text:
            let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            writer.write { out, time in
                out.append(contentsOf: time)
                out.append(contentsOf: " \(level) \(message)\(meta)".utf8)
            }
        case .json:
            var fields = "\",\"level\":\"\(level)\",\"msg\":\(LogLine.quoted(message.description))"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { fields += ",\(LogLine.quoted(k)):\(LogLine.quoted(v.description))" }
            writer.write { out, time in
                out.append(contentsOf: "{\"time\":\"".utf8)
                out.append(contentsOf: time)
                out.append(contentsOf: (fields + "}").utf8)
            }
        }
    }
}
