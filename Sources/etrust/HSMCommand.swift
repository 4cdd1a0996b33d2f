import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import Foundation

/// `etrust hsm list` and `etrust hsm check`: the PKCS#11 tokens of the home's module and the CA
/// keys of the home, file or token.
struct HSM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsm", abstract: "PKCS#11 tokens and the CA keys of the home.",
        subcommands: [List.self, Check.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The tokens of the home's PKCS#11 module (pkcs11.module in etrust.yaml), their key objects and the CA using each.")
        @Option(help: "Only the token with this label.") var token: String?
        @Option(name: .long, help: "A file holding the PIN of the home's PKCS#11 tokens (or set ETRUST_PKCS11_PIN).")
        var pinFile: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let authority = try options.openAuthority(pin: SecretSource.pkcs11PIN.lazy(file: pinFile))
            let inventory = try authority.keys.inventory(cas: try authority.caRecords(), token: token)
            if options.json {
                try Output.json(["module": inventory.module, "tokens": inventory.tokens.map { t -> [String: Any] in
                    ["label": t.info.label, "manufacturer": t.info.manufacturer, "model": t.info.model, "serial": t.info.serial,
                     "slotID": t.info.slotID, "uri": t.info.uri.description,
                     "keys": t.keys.map { k -> [String: Any] in
                         ["label": k.info.label, "id": Hex.encode(k.info.id), "class": k.info.isPrivate ? "private" : "public",
                          "type": k.info.keyType, "uri": k.info.uri.description, "ca": k.ca ?? NSNull(),
                          "sensitive": k.info.sensitive ?? NSNull(), "extractable": k.info.extractable ?? NSNull(),
                          "alwaysSensitive": k.info.alwaysSensitive ?? NSNull(), "neverExtractable": k.info.neverExtractable ?? NSNull()]
                     }]
                }])
                return
            }
            print("module \(inventory.module)")
            if inventory.tokens.isEmpty { print("  (no initialised token)") }
            for t in inventory.tokens {
                print("token \(t.info.label)  (\(t.info.manufacturer) \(t.info.model), serial \(t.info.serial), slot \(t.info.slotID))  \(t.info.uri)")
                if t.keys.isEmpty { print("  (no key objects)") }
                for k in t.keys {
                    var flags: [String] = []
                    if k.info.sensitive == true { flags.append("sensitive") }
                    if k.info.extractable == true { flags.append("EXTRACTABLE") }
                    if k.info.neverExtractable == true { flags.append("never-extractable") }
                    let cls = k.info.isPrivate ? "private" : "public "
                    print("  \(cls) \(k.info.keyType)\tlabel=\(k.info.label)\tid=\(Hex.encode(k.info.id))"
                          + (flags.isEmpty ? "" : "\t" + flags.joined(separator: ","))
                          + "\t" + (k.ca.map { "CA \($0)" } ?? "(no CA of this home)"))
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign and verify a test message with every CA key of the home (file or token); exit 1 if any fails.")
        @Option(help: "Only this CA.") var ca: String?
        @Option(help: "Signatures per key (to measure signatures/s; default 1).") var `repeat`: Int = 1
        @OptionGroup var options: HomeOptions

        func run() throws {
            let authority = try options.openAuthority()
            let cas = try ca.map { [try authority.ca($0)] } ?? authority.caRecords()
            guard (1...1_000_000).contains(`repeat`) else { throw ETrustError.badInput("--repeat must be 1 to 1000000", code: .invalidArgument) }
            let checks = cas.map { authority.keys.check($0, repeat: `repeat`) }
            let ok = checks.allSatisfy(\.ok)
            if options.json {
                try Output.json(["ok": ok, "cas": checks.map { c -> [String: Any] in
                    var o: [String: Any] = ["name": c.ca, "ok": c.ok, "key": c.reference, "algorithm": c.algorithm ?? NSNull(),
                                            "error": c.error ?? NSNull(), "milliseconds": (c.milliseconds * 100).rounded() / 100,
                                            "signatures": c.signatures, "signaturesPerSecond": c.signaturesPerSecond.map { $0.rounded() } ?? NSNull()]
                    for (k, v) in c.location { o[k] = v }
                    return o
                }])
            } else {
                if checks.isEmpty { print("(this home has no CA)") }
                for c in checks {
                    let store = c.location["store"] ?? "?"
                    var line = "\(c.ok ? "ok  " : "FAIL") \(c.ca)\t\(store)\t\(c.algorithm ?? "-")\t\(String(format: "%.1f ms", c.milliseconds))"
                    if c.signatures > 1, let rate = c.signaturesPerSecond { line += String(format: "\t%d signatures, %.0f/s", c.signatures, rate) }
                    print(c.error.map { line + "\t" + $0 } ?? line)
                }
            }
            if !ok { throw ExitCode(1) }
        }
    }
}
