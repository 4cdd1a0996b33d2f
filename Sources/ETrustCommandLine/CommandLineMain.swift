import ArgumentParser
import ETrustCore
import Foundation

/// The one mapping from failures to the contract's exit codes, for both executables:
/// refused 1, usage or unreadable input 2, environment 3. One line on stderr names the cause;
/// with `--json`, the same error is also one JSON object on stdout:
/// `{"error", "code", "category": "refused|usage|environment", "profile", "rule", "serial"}` (serial:
/// a certificate committed before the failure).
public enum CommandLineMain {
    /// `bareIsUsage`: a command of subcommands run with no argument at all prints its help and
    /// exits 2 (the contract's bare `etrust`).
    public static func run<C: ParsableCommand>(_ command: C.Type, name: String, bareIsUsage: Bool = false,
                                               arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        ETrustBuild.version = ETrustVersion.string
        let json = arguments.contains("--json")
        if bareIsUsage && arguments.isEmpty {
            print(C.helpMessage())
            exit(2)
        }
        do {
            var parsed = try C.parseAsRoot(arguments)
            try parsed.run()
            exit(0)
        } catch let e as ETrustError {
            fail(name: name, message: e.reason, code: e.category.exitCode, category: category(e.category), json: json,
                 profile: e.profile, rule: e.rule, serial: e.committedSerial)
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            let code = C.exitCode(for: error)
            let message = C.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            // argument-parser's usage errors (64, and its validation failures) become 2.
            let mapped: Int32 = code == .validationFailure || code.rawValue == 64 || code.rawValue == 1 ? 2 : code.rawValue
            // One prefix: "etrust: ...", not argument-parser's "etrust: Error: ...".
            var line = message.split(separator: "\n").first.map(String.init) ?? message
            if line.hasPrefix("Error: ") { line.removeFirst("Error: ".count) }
            fail(name: name, message: line, code: mapped,
                 category: mapped == 3 ? "environment" : mapped == 1 ? "refused" : "usage", json: json)
        }
    }

    static func category(_ c: ETrustError.Category) -> String {
        switch c {
        case .refused: "refused"
        case .badInput: "usage"
        case .environment: "environment"
        }
    }

    static func fail(name: String, message: String, code: Int32, category: String, json: Bool, profile: String? = nil, rule: String? = nil,
                     serial: String? = nil) -> Never {
        if !message.isEmpty { FileHandle.standardError.write(Data("\(name): \(message)\n".utf8)) }
        if json {
            var object: [String: Any] = ["error": message, "code": Int(code), "category": category]
            if let profile { object["profile"] = profile }
            if let rule { object["rule"] = rule }
            if let serial { object["serial"] = serial }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        }
        exit(code)
    }
}
