import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustPolicy
import Foundation

@main
struct ETrust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrust",
        abstract: "A certification authority for national e-trust frameworks.",
        version: ETrustVersion.string,
        subcommands: [Init.self, CA.self, Issue.self, Revoke.self, Unhold.self, CRL.self, Verify.self, VerifySignature.self, Sign.self, ListCertificates.self, Show.self, Inspect.self,
                      PolicyCommand.self, Audit.self, TrustListCommand.self, OCSPCommand.self, HSM.self, TimestampCommand.self, TSACommand.self,
                      DB.self, Backup.self, Restore.self, ConsoleCommand.self, Completion.self])

    /// Failures map to the contract's exit codes in one place, shared with etrust-ocspd.
    static func main() {
        CommandLineMain.run(ETrust.self, name: "etrust", bareIsUsage: true)
    }
}

/// Options of the commands that only read a home: no passphrase, PIN or shares to offer.
struct ReadOptions: ParsableArguments {
    @Option(name: .long, help: "The CA home (default: $ETRUST_HOME or ./etrust-home).")
    var home: String?

    @Flag(name: .long, help: "Print one JSON value on one line instead of text.")
    var json = false

    var homePath: String { HomeLocation.path(home) }

    /// A path of the home (relative to it) as the user can open it from the current folder.
    func userPath(_ relative: String) -> String { HomeLocation.userPath(relative, home: homePath) }

    /// `pin`: a token PIN, for the commands that look into tokens (`hsm list`).
    func openAuthority(pin: (() throws -> [UInt8])? = nil) throws -> Authority {
        // Nothing here unlocks a CA key: a command that would need one is a bug, reported as such.
        try Authority(home: try Home.open(homePath), passphrase: {
            throw ETrustError.environment("a read-only command asked for a CA key", code: .invalidArgument)
        }, pin: pin)
    }
}

enum HomeLocation {
    static func path(_ home: String?) -> String {
        home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
    }

    static func userPath(_ relative: String, home: String) -> String {
        relative.hasPrefix("/") ? relative : FilePath.join(home, relative)
    }
}

/// Options every command that changes a home (and may sign with its keys) takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: "The CA home (default: $ETRUST_HOME or ./etrust-home).")
    var home: String?

    @Option(name: .long, help: "A file holding the passphrase of the home's CA keys (or set ETRUST_PASSPHRASE).")
    var passphraseFile: String?

    @Option(name: .long, help: "A file holding the PIN of the home's PKCS#11 tokens (or set ETRUST_PKCS11_PIN).")
    var pinFile: String?

    @Flag(name: .long, help: "Print one JSON value on one line instead of text.")
    var json = false

    @OptionGroup var shares: ShareOptions

    var homePath: String { HomeLocation.path(home) }

    /// A path of the home (relative to it) as the user can open it from the current folder.
    func userPath(_ relative: String) -> String { HomeLocation.userPath(relative, home: homePath) }

    func openAuthority() throws -> Authority {
        let home = try Home.open(homePath)
        // The passphrase is read at most once per process, and only when a key is needed.
        let authority = try Authority(home: home, passphrase: SecretSource.passphrase.lazy(file: passphraseFile),
                                      pin: SecretSource.pkcs11PIN.lazy(file: pinFile))
        shares.apply(to: authority)
        return authority
    }

    /// Runs a command that changes the home, then signs a checkpoint of the audit log covering
    /// what it appended, whether the command succeeded or failed.
    func changing<R>(_ body: (Authority) throws -> R) throws -> R {
        let authority = try openAuthority()
        try authority.prepareForChanges()
        let sizeBefore = try authority.auditLog.size
        let result: R
        do {
            result = try body(authority)
        } catch {
            // What the command appended before it failed (a refusal, an abandoned intent) is
            // covered by a checkpoint too; a failure that appended nothing writes nothing.
            if let size = try? authority.auditLog.size, size != sizeBefore { _ = try? authority.checkpoint() }
            throw error
        }
        FaultInjection.point("command-before-checkpoint")
        do {
            try authority.checkpoint()
        } catch let e as ETrustError {
            Output.error("warning: the audit checkpoint was not signed: \(e.reason)")
        }
        return result
    }
}

/// `ca create` and `issue` refuse a home still on the example URL of `etrust init`: its
/// certificates would send relying parties to pki.example.org for CRLs and OCSP.
struct ExampleURLOption: ParsableArguments {
    static let exampleURL = "http://pki.example.org"

    @Flag(help: "Issue even though the home's publicBaseURL is still the example one (tests only).")
    var allowExampleUrl = false

    func check(homePath: String) throws {
        guard !allowExampleUrl, try Home.open(homePath).config.publicBaseURL == Self.exampleURL else { return }
        throw ETrustError.badInput("the home's publicBaseURL is still the example \(Self.exampleURL): set publicBaseURL in "
            + "\(FilePath.join(homePath, "etrust.yaml")) (etrust init --public-url URL does it for a new home), or pass --allow-example-url",
            code: .invalidArgument)
    }
}
