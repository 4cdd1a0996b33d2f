import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

/// `etrust timestamp`: an RFC 3161 client. Asks a time-stamping authority for a token over a
/// file, and checks a token (the TSA's chain, its EKU, the imprint, the nonce).
struct TimestampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "RFC 3161: get a time-stamp token over a file from a TSA (`etrust timestamp --in F --url U --out F.tsr`), or check one.",
        subcommands: [Request.self, Check.self], defaultSubcommand: Request.self)

    /// The TSA's trust anchors: certificate files, or else the root CAs of a home.
    struct Anchors: ParsableArguments {
        @Option(name: .customLong("anchor"), help: "A trusted root certificate for the TSA's chain (repeatable; PEM or DER).")
        var anchors: [String] = []
        @Option(help: "Also accept intermediate certificates from FILE (PEM bundle).") var untrusted: String?
        @Option(help: "The CA home whose root CAs are trusted when no --anchor is given (default: $ETRUST_HOME or ./etrust-home).")
        var home: String?

        func load() throws -> (anchors: [Certificate], intermediates: [Certificate]) {
            var roots = try anchors.flatMap { try Certificate.all(bytes: try InputFile.read($0), what: $0) }
            var intermediates = try untrusted.map { try Certificate.all(bytes: try InputFile.read($0), what: $0) } ?? []
            if roots.isEmpty {
                let path = home ?? ProcessInfo.processInfo.environment["ETRUST_HOME"] ?? "./etrust-home"
                let authority = try Authority(home: try Home.open(path), passphrase: { throw ETrustError.environment("no key is needed here") })
                let cas = try authority.caRecords().map(\.certificate)
                roots = cas.filter(\.isSelfIssued)
                intermediates += cas.filter { !$0.isSelfIssued }
            }
            guard !roots.isEmpty else { throw ETrustError.badInput("no trust anchor: give --anchor FILE or a home with a root CA", code: .invalidArgument) }
            return (roots, intermediates)
        }
    }

    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request", abstract: "Ask the TSA at --url for a token over --in; write the reply (.tsr) to --out after checking it.")
        @Option(name: .customLong("in"), help: "The file to time-stamp.") var input: String
        @Option(help: "The TSA's URL (http://HOST:PORT/tsa).") var url: String
        @Option(help: "Where to write the TimeStampResp (DER).") var out: String
        @Option(help: "The digest of the imprint: sha256, sha384 or sha512.") var digest: String = "sha256"
        @Option(help: "Ask for this TSA policy OID.") var policy: String?
        @OptionGroup var trust: Anchors
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            guard TimeStamp.digests.contains(digest) else {
                throw ValidationError("--digest must be one of \(TimeStamp.digests.joined(separator: ", "))")
            }
            let data = try InputFile.readLarge(input)
            let (response, token, _, nonce) = try TimeStamp.fetch(imprint: try Digest.named(digest, data), digest: digest, url: url, policy: policy)
            let reply = response.der
            let (anchors, intermediates) = try trust.load()
            let info = try TimeStamp.verify(token: token, .init(anchors: anchors, intermediates: intermediates, data: data, nonceHex: nonce))
            try AtomicFile.write(reply, to: out)
            try TimestampCommand.report(info, file: out, json: json)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check a time-stamp reply or token against the file (or its digest); exit 0 valid, 1 not.")
        @Argument(help: "The TimeStampResp (.tsr) or token (DER).") var token: String
        @Option(name: .customLong("in"), help: "The time-stamped file.") var input: String?
        @Option(help: "Or the hex digest that was time-stamped (with the token's algorithm).") var digest: String?
        @OptionGroup var trust: Anchors
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            guard (input == nil) != (digest == nil) else { throw ValidationError("give --in FILE or --digest HEX") }
            let bytes = try InputFile.read(token)
            // A whole reply or just its token (as carried in a signature).
            let tokenDER: [UInt8]
            if let response = try? TimeStamp.response(bytes) {
                guard response.granted, let t = response.token else {
                    throw ETrustError.refused("\(token) is a refusal from the TSA (status \(response.status))", code: .badSignature)
                }
                tokenDER = t
            } else {
                tokenDER = bytes
            }
            let imprint = try digest.map { hex -> [UInt8] in
                guard let d = Hex.decode(hex) else { throw ETrustError.badInput("--digest is not hex", code: .invalidArgument) }
                return d
            }
            let (anchors, intermediates) = try trust.load()
            let info = try TimeStamp.verify(token: tokenDER, .init(anchors: anchors, intermediates: intermediates,
                                                                   data: try input.map { try InputFile.readLarge($0) }, imprint: imprint))
            try TimestampCommand.report(info, file: nil, json: json)
        }
    }

    static func report(_ info: TimeStamp.Info, file: String?, json: Bool) throws {
        if json {
            var o: [String: Any] = ["valid": true, "genTime": RFC3339.formatFractional(info.genTime), "serial": info.serialHex,
                                    "policy": info.policy, "hashAlgorithm": info.hashAlgorithm, "messageImprint": Hex.encode(info.messageImprint)]
            if let tsa = info.tsaName { o["tsa"] = tsa }
            if let a = info.accuracyMicroseconds { o["accuracyMicroseconds"] = a }
            if let n = info.nonceHex { o["nonce"] = n }
            if let file { o["out"] = file }
            try Output.json(o)
        } else {
            print("time-stamp valid: \(RFC3339.formatFractional(info.genTime)) by \(info.tsaName ?? "?"), serial \(info.serialHex), policy \(info.policy)"
                  + (file.map { " -> \($0)" } ?? ""))
        }
    }
}
