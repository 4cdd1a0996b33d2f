import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// How a new CA's file key is put under the control of custodians
/// (`etrust ca create ... --custodians N --threshold M --shares-out DIR`).
///
/// The key file is the usual encrypted PKCS#8, but under a fresh random 32-byte secret instead of
/// the home's passphrase (the passphrase is the secret's lower-case hex, so that custodians can
/// also recover the key with `openssl pkcs8` in an emergency). The secret is split M-of-N with
/// Shamir's scheme over GF(256) into one share file per custodian and never written anywhere.
/// The key's reference records the split: `file:keys/NAME.key.pem#shares=MofN`.
public struct CustodySplit: Sendable {
    public var custodians: Int
    public var threshold: Int
    /// Where the share files go (created 0700 if missing); existing files are never overwritten.
    public var directory: String
    /// Empty (shares in clear) or one passphrase per custodian, in custodian order: share i is
    /// then sealed under passphrase i.
    public var passphrases: [[UInt8]]

    public static let maximumCustodians = 16
    /// The secret that encrypts the key file.
    static let secretLength = 32

    public init(custodians: Int, threshold: Int, directory: String, passphrases: [[UInt8]] = []) {
        self.custodians = custodians; self.threshold = threshold; self.directory = directory; self.passphrases = passphrases
    }

    public func shareFiles(ca: String) -> [String] {
        (1...max(custodians, 1)).map { FilePath.join(directory, CustodianShare.fileName(ca: ca, index: $0)) }
    }

    /// Checked before any key is generated: the numbers, the key store, and that no share file exists.
    func validate(ca: String, keyStore: String) throws {
        guard keyStore == "file" else {
            throw ETrustError.badInput("--custodians splits file keys only; drop --key-store \(keyStore) or --custodians", code: .invalidArgument)
        }
        guard threshold >= 2 else {
            throw ETrustError.badInput("--threshold must be at least 2 (one custodian alone must not unlock the key)", code: .invalidArgument)
        }
        guard threshold <= custodians, custodians <= CustodySplit.maximumCustodians else {
            throw ETrustError.badInput("need --threshold (\(threshold)) <= --custodians (\(custodians)) <= \(CustodySplit.maximumCustodians)",
                                       code: .invalidArgument)
        }
        guard passphrases.isEmpty || passphrases.count == custodians else {
            throw ETrustError.badInput("give --custodian-passphrase-file once per custodian (\(custodians)) or not at all; \(passphrases.count) given",
                                       code: .invalidArgument)
        }
        for file in shareFiles(ca: ca) where FileManager.default.fileExists(atPath: file) {
            throw ETrustError.refused("\(file) already exists; refusing to overwrite a custodian's share", code: .alreadyExists)
        }
    }
}

/// What the key store knows about custodians in this process: the shares the operator gave
/// (`--share FILE`, M times) and the share files a creation wrote, so a failed one removes them.
final class CustodyState {
    var shareFiles: [String] = []
    var sharePassphrases: [() throws -> [UInt8]] = []
    var written: [String: [String]] = [:]
    /// For the audit events of unlocks; weak: the environment owns the key store.
    weak var environment: CAEnvironment?
}

/// The parts of a key reference about custody: `file:keys/NAME.key.pem#shares=3of5`.
enum CustodyReference {
    static let marker = "#shares="

    static func make(file relative: String, threshold: Int, total: Int) -> String {
        "file:\(relative)\(marker)\(threshold)of\(total)"
    }

    /// (M, N) of a share-protected reference, nil for any other.
    static func split(_ reference: String) -> (threshold: Int, total: Int)? {
        guard reference.hasPrefix("file:"), let r = reference.range(of: marker) else { return nil }
        let parts = reference[r.upperBound...].split(separator: "of")
        guard parts.count == 2, let m = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        return (m, n)
    }

    /// The file's path relative to the home, without the custody fragment.
    static func relativePath(_ reference: String) -> String {
        let body = String(reference.dropFirst("file:".count))
        guard let r = body.range(of: marker) else { return body }
        return String(body[..<r.lowerBound])
    }
}

extension KeyStore {
    /// The custodians' share files for this process (`--share FILE`, M times), and the files
    /// holding the passphrases of sealed shares (`--share-passphrase-file FILE`, any order: each
    /// sealed share is opened by the one that fits). Read only when a share-protected key is needed.
    public func useShares(files: [String], passphrases: [() throws -> [UInt8]] = []) {
        custody.shareFiles = files
        custody.sharePassphrases = passphrases
    }

    /// The PKCS#8 passphrase a custody secret stands for.
    static func passphrase(forSecret secret: [UInt8]) -> [UInt8] { Array(Hex.encode(secret).utf8) }

    /// Stores a new key under `keys/NAME.key.pem` encrypted under a fresh secret, writes the
    /// secret's shares (mode 0600, never over a file) and returns the reference and the share ids.
    func storeSplit(_ key: PrivateKey, name: String, split: CustodySplit) throws -> (reference: String, shareIDs: [String]) {
        let relative = "keys/\(name).key.pem"
        let secret = try CSPRNG.bytes(CustodySplit.secretLength)
        let spki = try key.publicKey.spkiSHA256
        let points = try ShamirSecretSharing.split(secret, threshold: split.threshold, count: split.custodians)
        let shares: [CustodianShare] = try points.enumerated().map { i, point in
            var share = CustodianShare(id: CustodianShare.id(ca: name, index: i + 1), ca: name, spkiSHA256: spki, threshold: split.threshold,
                                       total: split.custodians, x: point.x, y: point.y, sealed: nil)
            if !split.passphrases.isEmpty {
                share.sealed = try PassphraseSeal.seal(point.y, passphrase: split.passphrases[i], associatedData: Array(share.header.utf8),
                                                       iterations: Int(home.config.keyIterations))
                share.y = nil
            }
            return share
        }
        let reference = CustodyReference.make(file: relative, threshold: split.threshold, total: split.custodians)
        try key.write(toFile: home.join(relative), passphrase: KeyStore.passphrase(forSecret: secret), iterations: home.config.keyIterations)
        var written: [String] = []
        do {
            if !FileManager.default.fileExists(atPath: split.directory) {
                try FileManager.default.createDirectory(atPath: split.directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            for (share, path) in zip(shares, split.shareFiles(ca: name)) {
                try AtomicFile.write(try share.json(), to: path, mode: 0o600, replace: false)
                written.append(path)
            }
        } catch {
            for path in written { unlink(path) }
            unlink(home.join(relative))
            throw error
        }
        custody.written[reference] = written
        return (reference, shares.map(\.id))
    }

    /// Removes the share files `storeSplit` wrote for a reference whose record was not committed.
    func discardShares(_ reference: String) {
        for path in custody.written.removeValue(forKey: reference) ?? [] { unlink(path) }
    }

    /// The CA's key, decrypted with the secret its custodians' shares interpolate. Refused (exit
    /// 1, nothing signed) with fewer than M shares, a share given twice, a share of another key or
    /// a corrupted one; every unlock and every refused attempt is logged with the share ids.
    func unlockWithShares(_ ca: CARecord, threshold m: Int, total n: Int) throws -> PrivateKey {
        var ids: [String] = []
        do {
            let key = try reconstruct(ca, threshold: m, total: n, ids: &ids)
            try recordUnlock(ca, fields: ["action": "unlocked", "custody": "\(m)of\(n)", "shares": ids.joined(separator: ",")])
            return key
        } catch let e as ETrustError where e.category == .refused {
            try? recordUnlock(ca, fields: ["action": "unlock-refused", "custody": "\(m)of\(n)", "shares": ids.joined(separator: ","),
                                           "reason": e.reason])
            throw e
        }
    }

    private func reconstruct(_ ca: CARecord, threshold m: Int, total n: Int, ids: inout [String]) throws -> PrivateKey {
        let expected = try ca.certificate.publicKey.spkiSHA256
        guard !custody.shareFiles.isEmpty else {
            throw ETrustError.refused("the key of CA \(ca.name) is held by \(n) custodians: give --share FILE \(m) times (any \(m) of the \(n) shares)",
                                      code: .missingPassphrase)
        }
        var shares: [CustodianShare] = []
        for file in custody.shareFiles {
            let share = try CustodianShare(parsing: try InputFile.read(file), file: file)
            guard share.spkiSHA256 == expected else {
                throw ETrustError.refused("\(file): share \(share.id) belongs to another key (SPKI SHA-256 \(Hex.encode(share.spkiSHA256.prefix(8)))…), not to CA \(ca.name)'s",
                                          code: .invalidArgument)
            }
            guard share.threshold == m, share.total == n, Int(share.x) <= n else {
                throw CustodianShare.corrupted(file, "it says \(share.threshold) of \(share.total), x = \(share.x); CA \(ca.name) is \(m) of \(n)")
            }
            if let earlier = shares.first(where: { $0.x == share.x }) {
                throw ETrustError.refused("share \(share.id) was given twice (\(file)); \(m) different custodians' shares are needed"
                                          + (earlier.id == share.id ? "" : " (\(earlier.id) has the same x)"), code: .invalidArgument)
            }
            shares.append(share)
            ids.append(share.id)
        }
        guard shares.count >= m else {
            throw ETrustError.refused("CA \(ca.name) needs \(m) of its \(n) custodians' shares; \(shares.count) given (\(ids.joined(separator: ", ")))",
                                      code: .missingPassphrase)
        }
        let values = try openShares(shares)
        var secret = try ShamirSecretSharing.combine(zip(shares, values).map { ShamirSecretSharing.Share(x: $0.x, y: $1) })
        defer { for i in secret.indices { secret[i] = 0 } }
        let path = home.join(CustodyReference.relativePath(ca.keyReference))
        do {
            return try PrivateKey.load(fromFile: path, passphrase: KeyStore.passphrase(forSecret: secret))
        } catch let e as ETrustError where e.code == .wrongPassphrase {
            throw ETrustError.refused("the shares \(ids.joined(separator: ", ")) do not unlock the key of CA \(ca.name): one of them is corrupted or forged",
                                      code: .wrongPassphrase)
        }
    }

    /// The shares' values in clear: a sealed share is opened by the first unused passphrase that fits.
    private func openShares(_ shares: [CustodianShare]) throws -> [[UInt8]] {
        var unused = custody.sharePassphrases
        return try shares.map { share in
            guard share.isSealed else { return try share.value(passphrase: nil) }
            guard !unused.isEmpty else { return try share.value(passphrase: nil) }
            for (i, read) in unused.enumerated() {
                if let value = try? share.value(passphrase: try read()) {
                    unused.remove(at: i)
                    return value
                }
            }
            throw ETrustError.badInput("no --share-passphrase-file opens share \(share.id): wrong passphrase", code: .wrongPassphrase)
        }
    }

    private func recordUnlock(_ ca: CARecord, fields: [String: String]) throws {
        guard let env = custody.environment else { return }
        var all = fields
        all["requester"] = env.requester
        all["spkiSHA256"] = Hex.encode(try ca.certificate.publicKey.spkiSHA256)
        try env.audit.log.append([AuditEvent(type: "key", time: env.clock.now(), ca: ca.name, serialHex: nil, profile: nil, fields: all)])
    }
}
