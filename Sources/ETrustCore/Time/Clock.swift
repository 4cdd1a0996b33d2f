import Foundation

/// Time is injected, never read ad hoc, so that tests run with fixed clocks.
public protocol ETrustClock: Sendable {
    func now() -> Date
}

public struct SystemClock: ETrustClock {
    public init() {}
    public func now() -> Date { Date() }
}

public struct FixedClock: ETrustClock {
    public let date: Date
    public init(_ date: Date) { self.date = date }
    public func now() -> Date { date }
}

/// `90d`, `12h`, `30m`, `5y`, `6w`, `45s`. A year is 365 days, as CA validity rules count.
public struct ValidityDuration: Sendable, Hashable, Codable, CustomStringConvertible {
    public let seconds: Int64
    public let text: String

    public init(seconds: Int64) {
        self.seconds = seconds
        if seconds % 86_400 == 0 { text = "\(seconds / 86_400)d" } else { text = "\(seconds)s" }
    }

    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let unit = t.last, let value = Int64(t.dropLast()), value > 0 else {
            throw ETrustError.badInput("invalid duration '\(text)' (use e.g. 90d, 12h, 5y)", code: .invalidArgument)
        }
        let factor: Int64
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3_600
        case "d": factor = 86_400
        case "w": factor = 7 * 86_400
        case "y": factor = 365 * 86_400
        default:
            throw ETrustError.badInput("invalid duration '\(text)' (unit must be s, m, h, d, w or y)", code: .invalidArgument)
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow, product < 200 * 365 * 86_400 else {
            throw ETrustError.badInput("duration '\(text)' is too long", code: .invalidArgument)
        }
        self.seconds = product
        self.text = t
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(parsing: try c.decode(String.self))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
    public var description: String { text }
    public var days: Double { Double(seconds) / 86_400 }
}

public enum RFC3339 {
    public static func parse(_ text: String) throws -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        throw ETrustError.badInput("invalid time '\(text)' (use RFC 3339, e.g. 2026-01-31T12:00:00Z)", code: .invalidArgument)
    }

    /// `2026-01-31T12:00:00Z`, whole seconds, UTC. Computed with gmtime_r: a formatter object per
    /// call costs more than signing a certificate.
    public static func format(_ date: Date) -> String {
        let t = UTCFields(date)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = t.year < 1000 ? String(repeating: "0", count: 4 - String(t.year).count) + String(t.year) : String(t.year)
        return "\(year)-\(two(t.month))-\(two(t.day))T\(two(t.hour)):\(two(t.minute)):\(two(t.second))Z"
    }

    /// As `format`, with milliseconds when the time has a fraction (`2026-01-31T12:00:00.250Z`).
    public static func formatFractional(_ date: Date) -> String {
        let ms = Int(((date.timeIntervalSince1970 - floor(date.timeIntervalSince1970)) * 1000).rounded())
        guard ms > 0 && ms < 1000 else { return format(date) }
        let whole = format(date)
        return String(whole.dropLast()) + "." + String(1000 + ms).dropFirst() + "Z"
    }
}

/// Broken-down UTC time (whole seconds), to and from Date without Calendar or formatters.
public struct UTCFields: Sendable, Equatable {
    public var year, month, day, hour, minute, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    public init(_ date: Date) {
        var t = time_t(floor(date.timeIntervalSince1970))
        var tm = tm()
        gmtime_r(&t, &tm)
        self.init(year: Int(tm.tm_year) + 1900, month: Int(tm.tm_mon) + 1, day: Int(tm.tm_mday),
                  hour: Int(tm.tm_hour), minute: Int(tm.tm_min), second: Int(tm.tm_sec))
    }

    public var date: Date {
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month - 1)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hour)
        tm.tm_min = Int32(minute)
        tm.tm_sec = Int32(second)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }
}
