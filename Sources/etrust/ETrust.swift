import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

@main
struct ETrust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrust",
        abstract: "A certification authority for national e-trust frameworks.",
        subcommands: [Init.self, CA.self, Issue.self, ListCertificates.self, Show.self, PolicyCommand.self])

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
        return try Authority(home: home, passphrase: { try Passphrase.read(file: file) })
    }
}
