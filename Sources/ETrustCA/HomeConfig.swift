import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// `etrust.yaml` in a CA home, decoded strictly like the profiles.
public struct HomeConfig: Sendable {
    public enum DatabaseEngine: String, Sendable { case sqlite, postgres }

    public var publicBaseURL: String
    /// Base of the https URLs of the CA's documents (CPS, PDS): {documents} in profiles.
    public var documentsBaseURL: String
    public var databaseEngine: DatabaseEngine
    public var databasePath: String
    /// PostgreSQL: where the database is (`database.url`), and the file holding its password
    /// (`database.passwordFile`, relative to the home; else ETRUST_DB_PASSWORD).
    public var databaseURL: DatabaseURL?
    public var databasePasswordFile: String?
    public var policiesDirectory: String
    public var keyIterations: Int32
    /// Certificates per durable commit in a batch (record before release holds per group).
    public var batchCommitSize: Int
    /// The audit log's origin line (C2SP checkpoint), unique per home; and whether the log is
    /// kept at all (off only to measure its cost).
    public var auditOrigin: String
    public var auditEnabled: Bool
    /// The PKCS#11 module (shared library) of the HSM that holds `pkcs11:` keys.
    public var pkcs11Module: String = HomeConfig.defaultPKCS11Module

    /// SoftHSM2's module on Debian (package softhsm2).
    public static let defaultPKCS11Module = "/usr/lib/softhsm/libsofthsm2.so"

    public static let fileName = "etrust.yaml"

    public static let defaultText = """
        # etrust CA home configuration.
        version: 1
        # Base of the URLs that profiles put into certificates ({base} in CDP and AIA templates);
        # etrust-ocspd serves /ocsp, /crl/ and /ca/ below it.
        publicBaseURL: http://pki.example.org
        # Base of the https URLs of published documents ({documents}: CPS, ETSI PKI disclosure statement).
        documentsBaseURL: https://pki.example.org
        database:
          engine: sqlite
          path: etrust.db
        policies: policies
        keys:
          # PBKDF2-HMAC-SHA256 iterations for CA keys at rest (PKCS#8 PBES2, AES-256-CBC).
          pbkdf2Iterations: 600000
        issuance:
          batchCommitSize: 500
        audit:
          # Origin line of the signed checkpoints of this home's audit log (C2SP tlog-checkpoint).
          origin: etrust.local/HOME-ID
        pkcs11:
          # The PKCS#11 module of the HSM for keys created with --key-store 'pkcs11:token=LABEL'.
          module: /usr/lib/softhsm/libsofthsm2.so

        """

    /// The default configuration for a new home, with a fresh audit origin.
    /// The configuration of a new home; `publicURL` (http://, where relying parties fetch CRLs,
    /// OCSP and CA certificates) and `documentsURL` (https://, the PKI disclosure statements)
    /// replace the example ones.
    public static func newHomeText(publicURL: String? = nil, documentsURL: String? = nil, database: DatabaseURL? = nil) throws -> String {
        var text: String = newHomeText()
        if let database { text = settingDatabase(in: text, url: database, passwordFile: nil) }
        if let publicURL {
            guard publicURL.hasPrefix("http://"), publicURL.count > 7 else {
                throw ETrustError.badInput("--public-url must be an http:// URL (RFC 5280 CDP and AIA are fetched over plain HTTP)", code: .invalidArgument)
            }
            text = text.replacingOccurrences(of: "publicBaseURL: http://pki.example.org",
                                             with: "publicBaseURL: " + String(publicURL.reversed().drop(while: { $0 == "/" }).reversed()))
        }
        if let documentsURL {
            guard documentsURL.hasPrefix("https://"), documentsURL.count > 8 else {
                throw ETrustError.badInput("--documents-url must be an https:// URL (ETSI EN 319 412-5 PDS)", code: .invalidArgument)
            }
            text = text.replacingOccurrences(of: "documentsBaseURL: https://pki.example.org",
                                             with: "documentsBaseURL: " + String(documentsURL.reversed().drop(while: { $0 == "/" }).reversed()))
        }
        return text
    }

    /// `text` (an etrust.yaml) with its `database:` block replaced by one naming PostgreSQL at
    /// `url`; the rest of the file is kept as it is.
    public static func settingDatabase(in text: String, url: DatabaseURL, passwordFile: String?) -> String {
        let block = """
            database:
              engine: postgres
              url: \(url)
              # The password: in passwordFile (relative to the home, mode 0600) or ETRUST_DB_PASSWORD.
            \(passwordFile.map { "  passwordFile: \($0)" } ?? "  # passwordFile: db-password")
            """
        var out: [Substring] = []
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "database:" {
                inBlock = true
                out.append(contentsOf: block.split(separator: "\n"))
                continue
            }
            if inBlock, line.hasPrefix(" ") || line.isEmpty { continue }
            inBlock = false
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    public static func newHomeText() -> String {
        let id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return defaultText.replacingOccurrences(of: "HOME-ID", with: id)
    }

    public static func load(home: String) throws -> HomeConfig {
        let path = FilePath.join(home, fileName)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ETrustError.badInput("\(home) is not an etrust home (no readable \(fileName)); run 'etrust init --home \(home)'", code: .notFound)
        }
        do {
            return try parse(text, file: path)
        } catch let e as ETrustError {
            throw ETrustError(e.code, e.reason, category: .badInput)
        }
    }

    public static func parse(_ text: String, file: String) throws -> HomeConfig {
        let root = try StrictYAML.load(text, file: file)
        let m = try root.mapping(allowed: ["version", "publicBaseURL", "documentsBaseURL", "database", "policies", "keys", "issuance", "audit", "pkcs11"])
        if let v = m["version"], try v.int() != 1 { throw v.fail("unsupported configuration version") }
        var c = HomeConfig(publicBaseURL: "http://pki.example.org", documentsBaseURL: "https://pki.example.org", databaseEngine: .sqlite, databasePath: "etrust.db",
                           policiesDirectory: "policies", keyIterations: 600_000, batchCommitSize: 500,
                           auditOrigin: "etrust.local/unnamed", auditEnabled: true)
        if let u = m["publicBaseURL"] {
            c.publicBaseURL = try u.string()
            guard c.publicBaseURL.hasPrefix("http://") else { throw u.fail("publicBaseURL must be an http:// URL (RFC 5280 CDP/AIA)") }
            while c.publicBaseURL.hasSuffix("/") { c.publicBaseURL.removeLast() }
        }
        if let u = m["documentsBaseURL"] {
            c.documentsBaseURL = try u.string()
            guard c.documentsBaseURL.hasPrefix("https://") else { throw u.fail("documentsBaseURL must be an https:// URL (ETSI EN 319 412-5 PDS)") }
            while c.documentsBaseURL.hasSuffix("/") { c.documentsBaseURL.removeLast() }
        }
        if let d = m["database"] {
            try parseDatabase(d, into: &c)
        }
        c.policiesDirectory = try m["policies"]?.string() ?? c.policiesDirectory
        if let k = m["keys"] {
            let km = try k.mapping(allowed: ["pbkdf2Iterations"])
            c.keyIterations = Int32(try km["pbkdf2Iterations"]?.int(min: 1_000, max: 10_000_000) ?? 600_000)
        }
        if let i = m["issuance"] {
            let im = try i.mapping(allowed: ["batchCommitSize"])
            c.batchCommitSize = try im["batchCommitSize"]?.int(min: 1, max: 100_000) ?? 500
        }
        if let a = m["audit"] {
            let am = try a.mapping(allowed: ["origin", "enabled"])
            if let o = am["origin"] {
                c.auditOrigin = try o.string()
                guard !c.auditOrigin.isEmpty, !c.auditOrigin.contains(where: { $0 == " " || $0 == "\n" || $0 == "+" }) else {
                    throw o.fail("origin must be one word without spaces or '+'")
                }
            }
            c.auditEnabled = try am["enabled"]?.bool() ?? true
        }
        if let p = m["pkcs11"] {
            let pm = try p.mapping(allowed: ["module"])
            if let module = pm["module"] {
                c.pkcs11Module = try module.string()
                guard c.pkcs11Module.hasPrefix("/") else { throw module.fail("module must be an absolute path to a PKCS#11 shared library") }
            }
        }
        return c
    }

    private static func parseDatabase(_ d: StrictYAML, into c: inout HomeConfig) throws {
        let dm = try d.mapping(allowed: ["engine", "path", "url", "passwordFile"])
        if let e = dm["engine"] {
            guard let engine = DatabaseEngine(rawValue: try e.string()) else { throw e.fail("engine must be sqlite or postgres") }
            c.databaseEngine = engine
        }
        c.databasePath = try dm["path"]?.string() ?? c.databasePath
        if let u = dm["url"] {
            do { c.databaseURL = try DatabaseURL(try u.string()) } catch let e as ETrustError { throw u.fail(e.reason) }
        }
        // A postgres engine without url is refused when the store is opened (Home.openStore).
        c.databasePasswordFile = try dm["passwordFile"]?.string()
    }
}
