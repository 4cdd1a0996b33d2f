import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new CA home with the default configuration and profiles.",
        discussion: "On a terminal and without --public-url, a short wizard asks for the organisation, country and URLs.")
    @Option(help: "The http:// base URL where relying parties fetch this home's CRLs, OCSP answers and CA certificates.")
    var publicUrl: String?
    @Option(help: "The https:// base URL of the PKI disclosure statements (qualified certificates).") var documentsUrl: String?
    @Option(help: "Keep the store in PostgreSQL: postgres://USER@HOST:PORT/DATABASE (password: ETRUST_DB_PASSWORD).") var database: String?
    @Option(help: "The organisation (O=) of the CA names suggested in the next steps.") var organisation: String?
    @Option(help: "The ISO 3166 country code (C=) of the CA names suggested in the next steps.") var country: String?
    @OptionGroup var options: ReadOptions

    func run() throws {
        var answers = InitAnswers(publicURL: publicUrl, documentsURL: documentsUrl, organisation: organisation, country: country)
        if publicUrl == nil && !options.json && InitWizard.interactive { answers = try InitWizard.ask(answers) }
        let names = try answers.caNames()
        let home = try Home.initialize(options.homePath, publicURL: answers.publicURL, documentsURL: answers.documentsURL, database: database)
        let steps = InitAnswers.nextSteps(home: options.homePath, names: names, exampleURL: answers.publicURL == nil)
        if options.json {
            try Output.json(["home": home.path, "config": home.join("etrust.yaml"), "policies": home.policiesDirectory,
                             "database": home.databaseDescription, "publicBaseURL": home.config.publicBaseURL, "nextSteps": steps])
        } else {
            print("initialised etrust home \(home.path)")
            print("  config:   \(home.join("etrust.yaml"))")
            print("  policies: \(home.policiesDirectory)")
            print("  database: \(home.databaseDescription)")
            print("  URLs in certificates: \(home.config.publicBaseURL)/crl/, /ca/, /ocsp")
            print("next steps:")
            for step in steps { print("  \(step)") }
        }
    }
}

/// What `etrust init` is told, by flags or by the wizard.
struct InitAnswers {
    var publicURL: String?
    var documentsURL: String?
    var organisation: String?
    var country: String?

    /// The subject DNs suggested for a root and an issuing CA, checked now so that a bad
    /// organisation or country stops init before anything is written.
    func caNames() throws -> (root: String, issuing: String) {
        if let country, country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            throw ETrustError.badInput("--country must be an ISO 3166 two-letter code in capitals, e.g. TG", code: .invalidArgument)
        }
        if let organisation, organisation.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ETrustError.badInput("--organisation must not be empty", code: .invalidArgument)
        }
        // Placeholders the operator replaces when the flags were not given.
        let o = organisation ?? "ORGANISATION", c = country ?? "CC"
        func dn(_ cn: String) throws -> String {
            try DistinguishedName(parsing: "CN=\(Self.escape(cn)),O=\(Self.escape(o)),C=\(c)").description
        }
        let label = o
        return (try dn("\(label) Root CA"), try dn("\(label) Issuing CA"))
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            if ",+\"\\<>;=#".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func nextSteps(home: String, names: (root: String, issuing: String), exampleURL: Bool) -> [String] {
        let h = home.contains(" ") ? "'\(home)'" : home
        var steps: [String] = []
        if exampleURL {
            steps.append("set publicBaseURL in \(FilePath.join(home, "etrust.yaml")) (still http://pki.example.org: ca create and issue refuse it)")
        }
        steps += [
            "etrust ca create root --home \(h) --key ec-p384 --subject '\(names.root)'",
            "etrust ca create issuing --home \(h) --parent root --subject '\(names.issuing)'",
            "etrust issue --home \(h) --ca issuing --profile tls-server --csr req.pem --san dns:www.example.tg",
            "etrust crl --home \(h) --ca issuing; etrust ocsp provision --home \(h) --ca issuing; etrust-ocspd --home \(h)",
        ]
        return steps.enumerated().map { "\($0.offset + 1). \($0.element)" }
    }
}

/// `etrust init` on a terminal without flags: a few questions, as `step ca init` asks them.
enum InitWizard {
    static var interactive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    static func ask(_ given: InitAnswers) throws -> InitAnswers {
        var a = given
        print("Setting up a new etrust home (Ctrl-C to stop; nothing is written until the end).")
        a.organisation = a.organisation ?? question("Organisation (O= of your CA names)", default: nil)
        a.country = a.country ?? question("Country, ISO 3166 two letters (C=)", default: nil)?.uppercased()
        let host = a.organisation.map { "pki." + $0.lowercased().filter { $0.isLetter || $0.isNumber } + "." + (a.country ?? "org").lowercased() }
        a.publicURL = question("Public base URL where relying parties fetch CRLs, OCSP and CA certificates (http://)",
                               default: host.map { "http://" + $0 })
        if let p = a.publicURL, !p.hasPrefix("http://") { a.publicURL = "http://" + p }
        a.documentsURL = a.documentsURL ?? question("Base URL of your published documents, CPS and PDS (https://)",
                                                    default: a.publicURL.map { "https://" + $0.dropFirst("http://".count) })
        return a
    }

    /// One answer read from the terminal; empty takes the default; end of input stops the wizard.
    static func question(_ text: String, default value: String?) -> String? {
        FileHandle.standardOutput.write(Data((value.map { "\(text) [\($0)]: " } ?? "\(text): ").utf8))
        guard let line = readLine() else { return value }
        let answer = line.trimmingCharacters(in: .whitespaces)
        return answer.isEmpty ? value : answer
    }
}

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Profiles.", subcommands: [Check.self, Document.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load every profile of a folder and report each error.")
        @Argument(help: "Folder of profiles (default: the home's policies).") var directory: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let dir = try directory ?? Home.open(options.homePath).policiesDirectory
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ETrustError.badInput("\(dir): no such folder", code: .notFound)
            }
            let (profiles, errors) = ProfileLoaderFacade.load(dir)
            if options.json {
                try Output.json(["directory": dir, "profiles": profiles.sorted(), "errors": errors, "valid": errors.isEmpty])
            } else {
                for e in errors { print("error: \(e)") }
                print("\(profiles.count) profile(s) valid, \(errors.count) error(s) in \(dir)")
            }
            if !errors.isEmpty { throw ExitCode(1) }
        }
    }

    struct Document: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an RFC 3647 CP/CPS skeleton: every section, with what the profiles and configuration fix filled in.")
        @Option(help: "md or html.") var format: String = "md"
        @Option(help: "The file to write (default: standard output).") var out: String?
        @OptionGroup var options: ReadOptions

        func run() throws {
            let f = format.lowercased()
            guard f == "md" || f == "html" else { throw ETrustError.badInput("--format must be md or html", code: .invalidArgument) }
            if let out { try OutputPath.checkWritableFile(out) }
            let authority = try options.openAuthority()
            let document = PolicyDocument(config: authority.home.config, profiles: try authority.home.loadProfiles(), cas: try authority.caRecords())
            let text = f == "md" ? document.markdown() : document.html()
            if let out { try AtomicFile.write(text, to: out) }
            let filled = document.sections.filter { !$0.lines.isEmpty }.count
            if options.json {
                var o: [String: Any] = ["format": f, "sections": document.sections.count, "filled": filled]
                if let out { o["out"] = out } else { o["document"] = text }
                try Output.json(o)
            } else if let out {
                print("wrote \(out): \(document.sections.count) RFC 3647 sections, \(filled) filled from the home")
            } else {
                print(text, terminator: "")
            }
        }
    }
}
