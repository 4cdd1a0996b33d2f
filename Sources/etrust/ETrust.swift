import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

@main
struct ETrust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrust",
        abstract: "A certification authority for national e-trust frameworks.",
        subcommands: [Init.self, CA.self, Issue.self, Revoke.self, Unhold.self, CRL.self, Verify.self, VerifySignature.self, Sign.self, ListCertificates.self, Show.self,
                      PolicyCommand.self, Audit.self, TrustListCommand.self])

    /// One place maps every failure to the contract's exit codes: refused 1, bad input 2,
    /// environment 3; argument-parser's usage errors (64) become 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ETrustError {
            Output.error(e.reason)
            Foundation.exit(e.category.exitCode)
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            if !message.isEmpty { Output.error(message.split(separator: "\n").first.map(String.init) ?? message) }
            Foundation.exit(code == .validationFailure || code.rawValue == 64 ? 2 : (code.rawValue == 1 ? 2 : code.rawValue))
        }
    }
}

final class PassphraseCache: @unchecked Sendable {
    var value: [UInt8]?
}

/// Options every command that touches a home takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: "The CA home (default: $ETRUST_HOME or ./etrust-home).")
    var home: String?

    @Option(name: .long, help: "A file holding the passphrase of the home's CA keys (or set ETRUST_PASSPHRASE).")
    var passphraseFile: String?

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    var homePath: String {
        home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
    }

    func openAuthority() throws -> Authority {
        let home = try Home.open(homePath)
        let file = passphraseFile
        // The passphrase is read at most once per process, and only when a key is needed.
        let cache = PassphraseCache()
        return try Authority(home: home, passphrase: {
            if let p = cache.value { return p }
            let p = try Passphrase.read(file: file)
            cache.value = p
            return p
        })
    }

    /// Runs a command that changes the home, then signs a checkpoint of the audit log covering
    /// what it appended, whether the command succeeded or was refused.
    func changing<R>(_ body: (Authority) throws -> R) throws -> R {
        let authority = try openAuthority()
        try authority.recordPolicyChanges()
        let result: R
        do {
            result = try body(authority)
        } catch {
            if let e = error as? ETrustError, e.category == .refused { try? authority.checkpoint() }
            if error is ExitCode { try? authority.checkpoint() }
            throw error
        }
        do {
            try authority.checkpoint()
        } catch let e as ETrustError {
            Output.error("warning: the audit checkpoint was not signed: \(e.reason)")
        }
        return result
    }
}
