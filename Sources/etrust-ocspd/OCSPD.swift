import ArgumentParser
import Dispatch
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustOCSP
import Foundation
import Logging

@main
struct OCSPD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrust-ocspd",
        abstract: "RFC 6960 / RFC 5019 OCSP responder for every CA of an etrust home; also serves pub/ (CRLs, CA certificates).",
        version: ETrustVersion.string)

    @Option(help: "The CA home (default: $ETRUST_HOME or ./etrust-home).") var home: String?
    @Option(help: "HOST:PORT to listen on.") var listen: String = "127.0.0.1:8080"
    @Option(help: "A file holding the passphrase of the OCSP responder keys (or set ETRUST_SIGNER_PASSPHRASE); never a CA key's.")
    var signerPassphraseFile: String?
    @Option(help: .hidden) var passphraseFile: String?
    @Option(help: "A file holding the PIN of the token that holds responder keys (or set ETRUST_PKCS11_PIN).") var pinFile: String?
    @Option(help: "Answer for serials the CA never issued: unknown, or revoked (RFC 6960 2.2).") var unknownSerial: String = "unknown"
    @Option(help: "At most this many open connections.") var maxConnections: Int = 4096
    @Option(help: "At most this many certificates in one request.") var maxCertificates: Int = 20
    @Option(help: "trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    static func main() {
        CommandLineMain.run(OCSPD.self, name: "etrust-ocspd")
    }

    func run() throws {
        var config = ResponderConfiguration()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ETrustError.badInput("--listen must be HOST:PORT", code: .invalidArgument)
        }
        config.host = String(listen[..<colon])
        config.port = port
        guard let policy = UnknownSerialPolicy(rawValue: unknownSerial) else {
            throw ETrustError.badInput("--unknown-serial must be unknown or revoked", code: .invalidArgument)
        }
        config.unknownSerial = policy
        config.maxConnections = maxConnections
        config.maxCertificatesPerRequest = maxCertificates
        guard let level = Logger.Level(rawValue: logLevel) else { throw ETrustError.badInput("unknown --log-level", code: .invalidArgument) }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "etrust-ocspd")
        let homePath = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
        let h = try Home.open(homePath)
        // Only the responder keys are unlocked here: etrust-ocspd never loads a CA key, and never
        // issues a responder certificate (`etrust ocsp provision` does, on the CA host).
        // Responder keys in a token need its PIN only; file responder keys need the passphrase,
        // which is then asked for at start (exit 2 without it).
        let tokenPIN = pinFile != nil || !(ProcessInfo.processInfo.environment["ETRUST_PKCS11_PIN"] ?? "").isEmpty
        let passphrase: @Sendable () throws -> [UInt8]
        if tokenPIN && signerPassphraseFile == nil && passphraseFile == nil
            && (ProcessInfo.processInfo.environment["ETRUST_SIGNER_PASSPHRASE"] ?? "").isEmpty {
            passphrase = SecretSource.signerPassphrase.lazy(file: nil)
        } else {
            let secret = try SecretSource.signerPassphrase.read(file: signerPassphraseFile ?? passphraseFile)
            passphrase = { secret }
        }
        var pin: (() throws -> [UInt8])? = nil
        if tokenPIN { pin = SecretSource.pkcs11PIN.withoutPrompt.lazy(file: pinFile) }
        let authority = try Authority(home: h, passphrase: passphrase, pin: pin)
        let source = try OCSPAnswerSource(authority: authority, configuration: config)
        for health in source.signerHealth() {
            if let problem = health.problem { logger.error("\(problem)") }
        }
        let server = OCSPServer(source: source, configuration: config, publicDirectory: h.pubDirectory, logger: logger)
        let bound = try server.start()
        let caCount = try authority.caRecords().count
        logger.notice("etrust-ocspd listening on \(config.host):\(bound) for \(caCount) CA(s) of \(homePath)")
        // SIGTERM/SIGINT: stop accepting, finish in-flight requests, checkpoint, exit.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let queue = DispatchQueue(label: "etrust-ocspd.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler {
                logger.notice("shutting down")
                server.shutdown()
                Foundation.exit(0)
            }
            s.resume()
            sources.append(s)
        }
        try server.waitUntilClosed()
        _ = sources
        dispatchMain()
    }
}
