import ArgumentParser
import ETrustCA
import ETrustCore
import Foundation

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a new CA home with the default configuration and profiles.")
    @Option(help: "The http:// base URL where relying parties fetch this home's CRLs, OCSP answers and CA certificates.")
    var publicUrl: String?
    @Option(help: "The https:// base URL of the PKI disclosure statements (qualified certificates).") var documentsUrl: String?
    @Option(help: "Keep the store in PostgreSQL: postgres://USER@HOST:PORT/DATABASE (password: ETRUST_DB_PASSWORD).") var database: String?
    @OptionGroup var options: HomeOptions

    func run() throws {
        let home = try Home.initialize(options.homePath, publicURL: publicUrl, documentsURL: documentsUrl, database: database)
        if options.json {
            try Output.json(["home": home.path, "config": home.join("etrust.yaml"), "policies": home.policiesDirectory,
                             "database": home.databaseDescription])
        } else {
            print("initialised etrust home \(home.path)")
            print("  config:   \(home.join("etrust.yaml"))")
            print("  policies: \(home.policiesDirectory)")
            print("  database: \(home.databaseDescription)")
        }
    }
}

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Profiles.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load every profile of a folder and report each error.")
        @Argument(help: "Folder of profiles (default: the home's policies).") var directory: String?
        @OptionGroup var options: HomeOptions

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
}
