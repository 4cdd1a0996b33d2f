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

enum Passphrase {
    /// --passphrase-file, else ETRUST_PASSPHRASE, else a prompt on a terminal, else exit 2.
    static func read(file: String?) throws -> [UInt8] {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ETrustError.badInput("\(file): cannot read the passphrase file", code: .missingPassphrase)
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
            guard !bytes.isEmpty else { throw ETrustError.badInput("\(file): the passphrase file is empty", code: .missingPassphrase) }
            return bytes
        }
        if let env = ProcessInfo.processInfo.environment["ETRUST_PASSPHRASE"], !env.isEmpty {
            return Array(env.utf8)
        }
        if isatty(STDIN_FILENO) == 1, let p = getpass("CA key passphrase: ") {
            let bytes = Array(String(cString: p).utf8)
            guard !bytes.isEmpty else { throw ETrustError.badInput("empty passphrase", code: .missingPassphrase) }
            return bytes
        }
        throw ETrustError.badInput("a passphrase is needed: use --passphrase-file FILE or ETRUST_PASSPHRASE (no terminal to prompt on)", code: .missingPassphrase)
    }
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
