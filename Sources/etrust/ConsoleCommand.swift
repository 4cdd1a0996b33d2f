import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustConsole
import ETrustCore
import Foundation

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the read-only auditor console: overview charts, events, certificates with in-browser proof checks, CAs, CRLs.",
        discussion: """
        Only auditors get in: with --tls-cert/--tls-key, TLS with a client certificate this home issued under the auditor \
        profile; or, listening on a loopback address only, a bearer token from a 0600 --token-file. Every login and page view \
        is an audit event. With --check it binds, prints what it would serve and exits.
        """)
    @Option(help: "HOST:PORT to listen on (port 0: any free port, printed).") var listen = "127.0.0.1:8444"
    @Option(help: "A file (mode 0600) holding the bearer token; the console then listens on loopback only.") var tokenFile: String?
    @Option(help: "The console's TLS certificate chain (PEM).") var tlsCert: String?
    @Option(help: "The console's TLS private key (PEM, unencrypted, mode 0600).") var tlsKey: String?
    @Flag(help: "Bind, print the address and how auditors get in, and exit.") var check = false
    @OptionGroup var options: ReadOptions

    func run() throws {
        let (host, port) = try ConsoleCommand.address(listen)
        let access = try accessMode(host: host)
        let authority = try options.openAuthority()
        let tls = tlsCert.map { ConsoleServer.TLSFiles(certificateChain: $0, privateKey: tlsKey ?? "") }
        let server = try ConsoleServer(app: ConsoleApp(authority: authority, access: access), host: host, port: port, tls: tls)
        let bound = try server.start()
        let url = "\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(bound)/"
        let auth = tls == nil ? "token" : "client-certificate"
        if options.json { try Output.json(["url": url, "port": bound, "access": auth, "serving": !check]) } else {
            // Unbuffered: whoever started the console reads the URL while it serves.
            let line = "console \(check ? "would serve" : "serving") \(url) (\(auth == "token" ? "bearer token" : "auditor client certificates"))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        if check { server.shutdown(); return }
        try server.wait()
    }

    private func accessMode(host: String) throws -> ConsoleAccessMode {
        switch (tokenFile, tlsCert, tlsKey) {
        case (let file?, nil, nil):
            guard ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") else {
                throw ETrustError.badInput("a token-only console listens on a loopback address only (not \(host)); use --tls-cert and --tls-key",
                                           code: .invalidArgument)
            }
            try ConsoleCommand.requirePrivate(file, what: "token file")
            let token = try SecretSource.consoleToken.read(file: file)
            guard token.count >= 16 else { throw ETrustError.badInput("\(file): the token is shorter than 16 characters", code: .invalidArgument) }
            return .token(token)
        case (nil, _?, let key?):
            try ConsoleCommand.requirePrivate(key, what: "TLS key")
            return .clientCertificate
        default:
            throw ETrustError.badInput("give either --token-file, or --tls-cert and --tls-key", code: .invalidArgument)
        }
    }

    /// A secret file readable by its owner only: the one policy for every secret (SecretFilePolicy).
    static func requirePrivate(_ path: String, what: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ETrustError.badInput("\(path): cannot read the \(what)", code: .invalidArgument)
        }
        try SecretFilePolicy.check(path, what: what)
    }

    /// HOST:PORT, [IPv6]:PORT.
    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ETrustError.badInput("--listen '\(text)' is not HOST:PORT", code: .invalidArgument)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ETrustError.badInput("--listen '\(text)' has no host", code: .invalidArgument) }
        return (host, port)
    }
}
