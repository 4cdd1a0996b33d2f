import ArgumentParser
import ETrustCore
import Foundation

enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("etrust: \(message)\n".utf8))
    }

    static func info(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// One JSON object on stdout, keys sorted.
    static func json(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

extension Certificate {
    var jsonSummary: [String: Any] {
        [
            "serial": serialHex, "subject": subject.description, "issuer": issuer.description,
            "notBefore": RFC3339.format(notBefore), "notAfter": RFC3339.format(notAfter),
            "sha256": Hex.encode(sha256Fingerprint),
        ]
    }
}

/// `--since T --until T` (RFC 3339), shared by the commands that search by time.
struct TimeRangeOptions: ParsableArguments {
    @Option(help: "From time T (RFC 3339).") var since: String?
    @Option(help: "Until time T (RFC 3339).") var until: String?

    var dates: (since: Date?, until: Date?) {
        get throws { (try since.map { try RFC3339.parse($0) }, try until.map { try RFC3339.parse($0) }) }
    }
}
