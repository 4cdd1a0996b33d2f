import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// A CA home: `etrust.yaml`, the database, `policies/`, `keys/` (0700, encrypted keys 0600),
/// `certs/` (CA certificates, PEM) and `pub/` (what relying parties fetch: `pub/ca/NAME.crt` DER,
/// later `pub/crl/`).
public struct Home: Sendable {
    public let path: String
    public let config: HomeConfig

    public var keysDirectory: String { join("keys") }
    public var certsDirectory: String { join("certs") }
    public var pubDirectory: String { join("pub") }
    public var policiesDirectory: String {
        config.policiesDirectory.hasPrefix("/") ? config.policiesDirectory : join(config.policiesDirectory)
    }
    public var databasePath: String { config.databasePath.hasPrefix("/") ? config.databasePath : join(config.databasePath) }

    public func join(_ p: String) -> String { FilePath.join(path, p) }

    /// The same home with its store in PostgreSQL at `url` (`db migrate` proves the copy through
    /// it before etrust.yaml says so).
    public func using(database url: DatabaseURL, passwordFile: String?) -> Home {
        var c = config
        c.databaseEngine = .postgres
        c.databaseURL = url
        c.databasePasswordFile = passwordFile
        return Home(path: path, config: c)
    }

    public static func open(_ path: String) throws -> Home {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ETrustError.badInput("\(path): no such etrust home; run 'etrust init --home \(path)'", code: .notFound)
        }
        return Home(path: path, config: try HomeConfig.load(home: path))
    }

    /// Creates a new home with the default configuration and the embedded default profiles.
    /// Everything is written into a temporary folder first and renamed into place, so a failed
    /// init leaves nothing behind.
    /// `database` puts the home's store in PostgreSQL (created or joined: several homes may share
    /// one database) instead of the embedded SQLite file.
    public static func initialize(_ path: String, clock: ETrustClock = SystemClock(), publicURL: String? = nil,
                                  documentsURL: String? = nil, database: String? = nil) throws -> Home {
        // Checked before anything is written.
        let configText = try HomeConfig.newHomeText(publicURL: publicURL, documentsURL: documentsURL,
                                                   database: try database.map { try DatabaseURL($0) })
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? ["?"]
            if !contents.isEmpty {
                throw ETrustError.refused("\(path) already exists and is not empty; refusing to initialise over it", code: .alreadyExists)
            }
        }
        let parent = FilePath.directory(of: path)
        let staging = (parent.isEmpty ? "." : parent) + "/.etrust-init-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            for d in ["keys"] { try fm.createDirectory(atPath: staging + "/" + d, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700]) }
            for d in ["certs", "pub", "pub/ca", "pub/crl", "pub/audit", "policies"] {
                try fm.createDirectory(atPath: staging + "/" + d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            try AtomicFile.write(configText, to: staging + "/" + HomeConfig.fileName, mode: 0o640)
            for (name, text) in EmbeddedProfiles.files {
                try AtomicFile.write(text, to: staging + "/policies/" + name, mode: 0o644)
            }
            let config = try HomeConfig.parse(configText, file: HomeConfig.fileName)
            let store = try Home(path: staging, config: config).openStore(creating: true)
            let now = clock.now()
            let events = try EmbeddedProfiles.files.keys.sorted().map { name in
                let p = try ProfileLoader.load(text: EmbeddedProfiles.files[name]!, file: name)
                return AuditEvent(type: "policy", time: now, ca: nil, serialHex: nil, profile: p.name,
                                  fields: ["action": "loaded", "file": name, "sha256": Hex.encode(p.sha256)])
            }
            try AuditLog(storage: store).append(events)
            if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
            guard rename(staging, path) == 0 else {
                throw ETrustError.environment("cannot move the new home into \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            if let e = error as? ETrustError { throw e }
            throw ETrustError.environment("cannot initialise \(path): \(error)")
        }
        return try open(path)
    }

    /// Loads the home's profiles; any invalid profile makes the home unusable until fixed
    /// (`etrust policy check` lists every error).
    public func loadProfiles() throws -> [String: Profile] {
        let (profiles, errors) = ProfileLoader.loadDirectory(policiesDirectory)
        if let first = errors.first {
            throw ETrustError(.invalidProfile, "invalid profile: \(first.reason) (run 'etrust policy check')", category: .badInput)
        }
        return profiles
    }
}
