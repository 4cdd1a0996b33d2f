import ArgumentParser
import Dispatch
import ETrustCA
import ETrustCommandLine
import ETrustCore
import ETrustOCSP
import Foundation
import Logging
import CoreMetrics

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
    @Option(help: "trace, debug, info, notice, warning, error. The access log (one line per request) is at info.") var logLevel: String = "info"
    @Option(help: "text or json: one line per message and per request.") var logFormat: String = "text"
    @Option(help: "How often the database is read for revocations, issuance and renewals (e.g. 1s, 5s).") var refreshInterval: String = "1s"
    @Option(help: "A responder certificate with less than this left makes /readyz fail (default: a quarter of its validity).")
    var renewalMargin: String?
    @Option(help: "How long before an offline CA's CRL expires /readyz warns.") var offlineCRLWarning: String = "7d"
    @Option(help: "How often a refresh also checks the SQLite file's structure (quick_check; /readyz fails on damage); 0 never.")
    var integrityCheckInterval: String = "300s"
    @Flag(help: "Also serve RFC 3161 time-stamping at POST /tsa, signed by the newest unit of `etrust tsa provision`.") var tsa = false
    @Option(help: "With --tsa: the CA whose time-stamping unit signs (default: the newest unit of any CA).") var tsaCA: String?
    @Option(help: "With --tsa: token records are written in one transaction per batch, gathered for at most this long (e.g. 5ms).")
    var tsaBatchWindow: String = "5ms"
    @Flag(help: "Also serve the validation API: POST /verify/certificate and /verify/signature (JSON; docs/openapi.yaml), anchored in the home's root CAs.")
    var verifyApi = false
    @Option(help: "With --verify-api: the largest request body, in bytes (larger: 413).") var verifyMaxBody: Int = 1 << 20
    @Option(help: "With --verify-api: the time one verification may take, network included (longer: 503), e.g. 15s.") var verifyTimeLimit: String = "15s"

    static func main() {
        CommandLineMain.run(OCSPD.self, name: "etrust-ocspd")
    }

    func configuration() throws -> ResponderConfiguration {
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
        config.refreshInterval = max(0.05, try Self.seconds(refreshInterval, "--refresh-interval"))
        config.renewalMargin = try renewalMargin.map { try Self.seconds($0, "--renewal-margin") }
        config.offlineCRLWarning = try Self.seconds(offlineCRLWarning, "--offline-crl-warning")
        config.integrityCheckInterval = ["0", "0s"].contains(integrityCheckInterval) ? 0
            : try Self.seconds(integrityCheckInterval, "--integrity-check-interval")
        guard verifyMaxBody > 0 else { throw ETrustError.badInput("--verify-max-body must be positive", code: .invalidArgument) }
        config.maxVerifyBodyBytes = verifyMaxBody
        config.verifyTimeLimit = try Self.seconds(verifyTimeLimit, "--verify-time-limit")
        return config
    }

    static func seconds(_ text: String, _ flag: String) throws -> TimeInterval {
        if text.hasSuffix("s"), let n = Double(text.dropLast()), n > 0 { return n }
        do { return TimeInterval(try ValidityDuration(parsing: text).seconds) } catch {
            throw ETrustError.badInput("\(flag) must be a duration such as 30s, 12h or 7d", code: .invalidArgument)
        }
    }

    static func milliseconds(_ text: String, _ flag: String) throws -> TimeInterval {
        guard text.hasSuffix("ms"), let n = Double(text.dropLast(2)), n >= 0, n <= 1000 else {
            throw ETrustError.badInput("\(flag) must be a number of milliseconds up to 1000, such as 5ms", code: .invalidArgument)
        }
        return n / 1000
    }

    /// The responder keys' secrets: a token PIN, or the signer passphrase (asked for at start,
    /// exit 2 without it). Never a CA key's.
    func secrets() throws -> (passphrase: @Sendable () throws -> [UInt8], pin: (() throws -> [UInt8])?) {
        let env = ProcessInfo.processInfo.environment
        let tokenPIN = pinFile != nil || !(env["ETRUST_PKCS11_PIN"] ?? "").isEmpty
        let passphrase: @Sendable () throws -> [UInt8]
        if tokenPIN && signerPassphraseFile == nil && passphraseFile == nil && (env["ETRUST_SIGNER_PASSPHRASE"] ?? "").isEmpty {
            passphrase = SecretSource.signerPassphrase.lazy(file: nil)
        } else {
            let secret = try SecretSource.signerPassphrase.read(file: signerPassphraseFile ?? passphraseFile)
            passphrase = { secret }
        }
        var pin: (() throws -> [UInt8])? = nil
        if tokenPIN { pin = SecretSource.pkcs11PIN.withoutPrompt.lazy(file: pinFile) }
        return (passphrase, pin)
    }

    func run() throws {
        let config = try configuration()
        guard let level = Logger.Level(rawValue: logLevel) else { throw ETrustError.badInput("unknown --log-level", code: .invalidArgument) }
        guard let format = LogFormat(rawValue: logFormat) else { throw ETrustError.badInput("--log-format must be text or json", code: .invalidArgument) }
        let writer = LogWriter()
        LoggingSystem.bootstrap { label in ResponderLogHandler(label: label, level: level, format: format, writer: writer) }
        let logger = Logger(label: "etrust-ocspd")
        let homePath = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
        let secrets = try secrets()
        // Only the responder keys are unlocked here: etrust-ocspd never loads a CA key, and never
        // issues a responder certificate (`etrust ocsp provision` does, on the CA host).
        // A home that is missing or cannot be read is the environment's fault (exit 3), here and on reload.
        let openAuthority = {
            let home: Home
            do { home = try Home.open(homePath) } catch let e as ETrustError where e.category == .badInput {
                throw ETrustError.environment(e.reason, code: e.code)
            }
            return try Authority(home: home, passphrase: secrets.passphrase, pin: secrets.pin)
        }
        let authority = try openAuthority()
        let source = try OCSPAnswerSource(authority: authority, configuration: config)
        for health in source.signerHealth() {
            if let problem = health.problem { logger.error("\(problem)") }
        }
        let server = OCSPServer(source: source, configuration: config, publicDirectory: authority.home.pubDirectory, logger: logger,
                                accessLog: AccessLogging(format: format, writer: level <= .info ? writer : nil), version: ETrustVersion.string)
        if tsa {
            let window = try Self.milliseconds(tsaBatchWindow, "--tsa-batch-window")
            server.timeStamps = try TimeStampService(authority: authority, ca: tsaCA, store: try authority.home.openStore(),
                                                     batch: .init(interval: window))
        }
        if verifyApi {
            server.verification = VerificationAPI(context: try HomeTrust.context(authority), maxIntermediates: config.maxVerifyIntermediates)
        }
        MetricsSystem.bootstrap(server.metrics.factory)
        let bound = try server.start()
        let caCount = try authority.caRecords().count
        logger.notice("etrust-ocspd \(ETrustVersion.string) listening on \(config.host):\(bound) for \(caCount) CA(s) of \(homePath)")
        // SIGHUP: reload (configuration, profiles, responder keys; connections stay open).
        // SIGTERM/SIGINT: stop accepting, drain open connections, exit 0.
        let queue = DispatchQueue(label: "etrust-ocspd.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler {
                if sig == SIGHUP {
                    do {
                        try server.reload(try openAuthority())
                        logger.notice("reloaded the configuration and responder keys of \(homePath)")
                    } catch {
                        logger.error("reload failed, still serving the previous configuration: \((error as? ETrustError)?.reason ?? "\(error)")")
                    }
                    return
                }
                logger.notice("shutting down: draining open connections")
                server.shutdown()
                writer.close()
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
