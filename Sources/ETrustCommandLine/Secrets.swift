import ETrustCore
import Foundation
import Synchronization

/// The one reader of secrets for both executables: a file (`--passphrase-file`,
/// `--p12-password-file`), else an environment variable, else a prompt on a terminal, else exit 2.
/// Never a flag value, never logged. Trailing newlines are stripped; an empty secret is refused.
public struct SecretSource: Sendable {
    /// What the secret is, for messages and the prompt ("passphrase", "PKCS#12 password").
    public var what: String
    /// Its file flag, for messages ("--passphrase-file").
    public var flag: String
    public var environmentVariable: String?
    public var prompt: Bool
    /// Its file must pass SecretFilePolicy (it opens the home's keys). A PKCS#12 password, handed
    /// to a subscriber with the file it opens, is not held to it.
    public var guarded: Bool

    public init(what: String, flag: String, environmentVariable: String?, prompt: Bool = true, guarded: Bool = true) {
        self.what = what; self.flag = flag; self.environmentVariable = environmentVariable; self.prompt = prompt; self.guarded = guarded
    }

    /// The home's key passphrase: --passphrase-file or ETRUST_PASSPHRASE, or a prompt.
    public static let passphrase = SecretSource(what: "passphrase", flag: "--passphrase-file", environmentVariable: "ETRUST_PASSPHRASE")
    /// The OCSP responders' key passphrase (never a CA key's): --signer-passphrase-file or
    /// ETRUST_SIGNER_PASSPHRASE; the daemon has no terminal to prompt on.
    public static let signerPassphrase = SecretSource(what: "responder key passphrase", flag: "--signer-passphrase-file",
                                                      environmentVariable: "ETRUST_SIGNER_PASSPHRASE", prompt: false)
    /// The PIN of the home's PKCS#11 tokens: --pin-file or ETRUST_PKCS11_PIN, or a prompt.
    public static let pkcs11PIN = SecretSource(what: "PKCS#11 PIN", flag: "--pin-file", environmentVariable: "ETRUST_PKCS11_PIN")
    /// A PKCS#12 password: --p12-password-file, or a prompt.
    public static let p12Password = SecretSource(what: "PKCS#12 password", flag: "--p12-password-file", environmentVariable: nil, guarded: false)

    /// The console's bearer token: --token-file only (a 0600 file; `etrust console` checks the mode).
    public static let consoleToken = SecretSource(what: "console token", flag: "--token-file", environmentVariable: nil, prompt: false)

    /// The same source where nobody can answer a prompt (a daemon).
    public var withoutPrompt: SecretSource {
        var s = self
        s.prompt = false
        return s
    }

    public func read(file: String?) throws -> [UInt8] {
        if let file {
            // A passphrase or PIN file is held to the policy of the keys it opens.
            if guarded { try SecretFilePolicy.check(file, what: "\(what) file") }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ETrustError.badInput("\(file): cannot read the \(what) file", code: .missingPassphrase)
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
            guard !bytes.isEmpty else { throw ETrustError.badInput("\(file): the \(what) file is empty", code: .missingPassphrase) }
            return bytes
        }
        if let name = environmentVariable, let value = ProcessInfo.processInfo.environment[name], !value.isEmpty {
            return Array(value.utf8)
        }
        if prompt, isatty(STDIN_FILENO) == 1, let p = getpass("\(what.prefix(1).uppercased() + what.dropFirst()): ") {
            let bytes = Array(String(cString: p).utf8)
            guard !bytes.isEmpty else { throw ETrustError.badInput("empty \(what)", code: .missingPassphrase) }
            return bytes
        }
        let sources = [flag + " FILE"] + (environmentVariable.map { [$0] } ?? [])
        throw ETrustError.badInput("a \(what) is needed: use \(sources.joined(separator: " or ")) (no terminal to prompt on)",
                                   code: .missingPassphrase)
    }

    /// Reads the secret at most once, and only when first asked for.
    public func lazy(file: String?) -> @Sendable () throws -> [UInt8] {
        let cache = SecretCache()
        let source = self
        return { try cache.value { try source.read(file: file) } }
    }
}

/// One secret read on first use.
final class SecretCache: Sendable {
    private let secret = Mutex<[UInt8]?>(nil)

    func value(_ read: () throws -> [UInt8]) throws -> [UInt8] {
        try secret.withLock { cached in
            if let cached { return cached }
            let s = try read()
            cached = s
            return s
        }
    }
}
