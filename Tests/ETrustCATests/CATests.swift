import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

@Suite("CA creation")
struct CATests {
    @Test("makePKI creates a root and an issuing CA that verifies under it")
    func makePKI() throws {
        let pki = try PKI()
        let store = pki.authority.store
        let root = try #require(try store.ca(named: "root"))
        let issuing = try #require(try store.ca(named: "issuing"))
        #expect(try store.cas().map(\.name) == ["root", "issuing"])

        #expect(root.parent == nil)
        #expect(root.profile == "root-ca")
        #expect(root.keyReference == "file:keys/root.key.pem")
        #expect(issuing.parent == "root")
        #expect(issuing.profile == "sub-ca")

        // Signatures, checked by our code...
        #expect(root.certificate.isSelfIssued)
        #expect(try root.certificate.isSigned(by: root.certificate.publicKey))
        #expect(try issuing.certificate.isSigned(by: root.certificate.publicKey))
        #expect(try !issuing.certificate.isSigned(by: issuing.certificate.publicKey))
        #expect(issuing.certificate.issuer == root.certificate.subject)
        #expect(issuing.certificate.subject.description == "CN=Test Issuing CA,O=etrust tests,C=TG")

        // ...and by OpenSSL, from the files in HOME/certs.
        let verify = try TestSupport.openssl(["verify", "-x509_strict", "-CAfile", pki.rootPEM, pki.issuingPEM])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("issuing.pem: OK"))
        let rootPEM = try String(contentsOfFile: pki.rootPEM, encoding: .utf8)
        #expect(rootPEM == root.certificate.pem)
        let published = try #require(FileManager.default.contents(atPath: pki.home + "/pub/ca/issuing.crt"))
        #expect([UInt8](published) == issuing.certificate.der)

        // RFC 5280 4.2.1.9: the root unconstrained, the issuing CA at pathLength 0 (sub-ca profile).
        #expect(root.certificate.basicConstraints?.ca == true)
        #expect(root.certificate.basicConstraints?.pathLength == nil)
        #expect(issuing.certificate.basicConstraints?.ca == true)
        #expect(issuing.certificate.basicConstraints?.pathLength == 0)
        #expect(root.certificate.keyUsage == [.keyCertSign, .cRLSign])
        #expect(issuing.certificate.keyUsage == [.digitalSignature, .keyCertSign, .cRLSign])
        #expect(root.certificate.serial.count == 16)

        // The issuing CA's certificate is also a record of its parent.
        let record = try #require(try store.certificates(serialHex: issuing.certificate.serialHex).first)
        #expect(record.ca == "root")
        #expect(record.der == issuing.certificate.der)
        #expect(record.profile == "sub-ca")

        // Audit: a key event and a ca event per CA.
        let events = try pki.authority.auditLog.events()
        let keyEvents = events.filter { $0.type == "key" }
        let caEvents = events.filter { $0.type == "ca" }
        #expect(keyEvents.map(\.ca) == ["root", "issuing"])
        #expect(caEvents.map(\.ca) == ["root", "issuing"])
        #expect(caEvents.map(\.serialHex) == [root.certificate.serialHex, issuing.certificate.serialHex])
        #expect(caEvents.last?.payload.contains(Hex.encode(issuing.certificate.sha256Fingerprint)) == true)
        #expect(caEvents.last?.payload.contains("\"parent\":\"root\"") == true)
        #expect(keyEvents.allSatisfy { $0.payload.contains("\"action\":\"generated\"") })
        #expect(keyEvents.first?.payload.contains(Hex.encode(try root.certificate.publicKey.spkiSHA256)) == true)
        // Home.initialize recorded the profiles it installed.
        #expect(events.filter { $0.type == "policy" }.count >= 9)
    }

    @Test("CA private keys are encrypted PKCS#8 files of mode 0600 in a 0700 folder")
    func keyFiles() throws {
        let pki = try PKI()
        #expect(try pki.keyFiles() == ["issuing.key.pem", "root.key.pem"])
        let dirMode = try #require(try FileManager.default.attributesOfItem(atPath: pki.keysDirectory)[.posixPermissions] as? NSNumber)
        #expect(dirMode.intValue & 0o777 == 0o700)
        for name in ["root", "issuing"] {
            let path = pki.keysDirectory + "/\(name).key.pem"
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
            #expect(mode.intValue & 0o777 == 0o600, "\(path) has mode \(String(mode.intValue, radix: 8))")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
            #expect(!text.contains("BEGIN PRIVATE KEY"))
            #expect(!text.contains("BEGIN EC PRIVATE KEY"))

            // OpenSSL opens it with the passphrase only, and it is the key the certificate certifies.
            let wrong = try TestSupport.openssl(["pkey", "-in", path, "-passin", "pass:not-the-passphrase", "-noout"])
            #expect(wrong.status != 0)
            let pub = try TestSupport.openssl(["pkey", "-in", path, "-passin", "pass:\(PKI.passphrase)", "-pubout"])
            #expect(pub.status == 0, "\(pub.stderr)")
            let certPub = try TestSupport.openssl(["x509", "-in", pki.certsDirectory + "/\(name).pem", "-noout", "-pubkey"])
            #expect(!pub.stdout.isEmpty)
            #expect(pub.stdout == certPub.stdout)
        }
    }

    /// Runs a refused createCA and checks that nothing was left behind.
    func expectNothingLeft(_ pki: PKI, _ body: () throws -> Void) throws -> ETrustError {
        let keysBefore = try pki.keyFiles()
        let casBefore = try pki.authority.store.cas().map(\.name)
        let certsBefore = try FileManager.default.contentsOfDirectory(atPath: pki.certsDirectory).sorted()
        let recordsBefore = try pki.allCertificateRecords().count
        let error = try #require(throws: ETrustError.self) { try body() }
        #expect(try pki.keyFiles() == keysBefore)
        #expect(try pki.authority.store.cas().map(\.name) == casBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: pki.certsDirectory).sorted() == certsBefore)
        #expect(try pki.allCertificateRecords().count == recordsBefore)
        return error
    }

    @Test("createCA refusals leave no key, record or certificate behind")
    func refusals() throws {
        let pki = try PKI()
        let authority = pki.authority

        // RFC 5280 4.2.1.9: the issuing CA has pathLength 0 and cannot certify another CA.
        var sub = Authority.CACreation(name: "sub2", subject: "CN=Second Level CA,O=etrust tests,C=TG")
        sub.parent = "issuing"
        let pathLen = try expectNothingLeft(pki) { try authority.createCA(sub) }
        #expect(pathLen.category == .refused)
        #expect(pathLen.reason.contains("pathLength"), "\(pathLen.reason)")

        let exists = try expectNothingLeft(pki) {
            try authority.createCA(Authority.CACreation(name: "issuing", subject: "CN=Again,O=etrust tests,C=TG"))
        }
        #expect(exists.code == .alreadyExists)
        #expect(exists.category == .refused)

        let badName = try expectNothingLeft(pki) {
            try authority.createCA(Authority.CACreation(name: "Bad Name", subject: "CN=Bad,O=etrust tests,C=TG"))
        }
        #expect(badName.category == .badInput)

        var hsm = Authority.CACreation(name: "hsm-root", subject: "CN=HSM Root,O=etrust tests,C=TG")
        hsm.keyStore = "pkcs11:token=etrust;id=%01"   // etrust chooses the id of a key it generates
        let pkcs11 = try expectNothingLeft(pki) { try authority.createCA(hsm) }
        #expect(pkcs11.category == .badInput)
        #expect(pkcs11.reason.contains("pkcs11"))

        var unknownParent = Authority.CACreation(name: "orphan", subject: "CN=Orphan,O=etrust tests,C=TG")
        unknownParent.parent = "no-such-ca"
        let orphan = try expectNothingLeft(pki) { try authority.createCA(unknownParent) }
        #expect(orphan.category == .badInput)
        #expect(orphan.code == .notFound)

        var leafProfile = Authority.CACreation(name: "leafy", subject: "CN=Leafy,O=etrust tests,C=TG")
        leafProfile.profile = "tls-client"
        leafProfile.parent = "root"
        let notCA = try expectNothingLeft(pki) { try authority.createCA(leafProfile) }
        #expect(notCA.category == .badInput)

        var subWithoutParent = Authority.CACreation(name: "floating", subject: "CN=Floating,O=etrust tests,C=TG")
        subWithoutParent.profile = "sub-ca"
        #expect(try expectNothingLeft(pki) { try authority.createCA(subWithoutParent) }.category == .badInput)
    }

    @Test("a CA request the profile refuses is audited and leaves no key")
    func profileRefusal() throws {
        let pki = try PKI()
        let eventsBefore = try pki.authority.auditLog.events().count
        // root-ca wants O; this subject has none.
        let error = try expectNothingLeft(pki) {
            try pki.authority.createCA(Authority.CACreation(name: "root2", subject: "CN=Second Root,C=TG"))
        }
        #expect(error.category == .refused)
        #expect(error.reason.contains("root-ca"), "\(error.reason)")
        #expect(error.reason.contains("subject.attributes.O"), "\(error.reason)")
        let events = try pki.authority.auditLog.events()
        #expect(events.count == eventsBefore + 1)
        #expect(events.last?.type == "refuse")
        #expect(events.last?.payload.contains("subject.attributes.O") == true)
    }

    @Test("a home configured for PostgreSQL is not silently run on SQLite")
    func postgresEngine() throws {
        let pki = try PKI()
        let configPath = pki.home + "/etrust.yaml"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(text.contains("engine: sqlite"))
        try text.replacingOccurrences(of: "engine: sqlite", with: "engine: postgres")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let home = try Home.open(pki.home)
        #expect(home.config.databaseEngine == .postgres)
        // Either the engine is used, or the home is refused; opening etrust.db would split the records.
        #expect(throws: ETrustError.self) {
            _ = try Authority(home: home, passphrase: { Array(PKI.passphrase.utf8) })
        }
    }

    @Test("a second root and a sub-CA under it are created and chain correctly")
    func secondHierarchy() throws {
        let pki = try PKI()
        var root = Authority.CACreation(name: "root-b", subject: "CN=Root B,O=etrust tests,C=TG")
        root.key = .ecP384
        root.validity = try ValidityDuration(parsing: "12y")
        let (rootRecord, rootPath) = try pki.authority.createCA(root)
        #expect(rootPath == pki.certsDirectory + "/root-b.pem")
        #expect(try rootRecord.certificate.publicKey.kind == .ec(curve: "P-384", bits: 384))
        let days = rootRecord.certificate.notAfter.timeIntervalSince(rootRecord.certificate.notBefore) + 1
        #expect(days == 12 * 365 * 86_400)

        var sub = Authority.CACreation(name: "issuing-b", subject: "CN=Issuing B,O=etrust tests,C=TG")
        sub.parent = "root-b"
        let (subRecord, _) = try pki.authority.createCA(sub)
        #expect(try subRecord.certificate.isSigned(by: rootRecord.certificate.publicKey))
        #expect(try pki.authority.chain(of: "issuing-b").map(\.der) == [subRecord.certificate.der, rootRecord.certificate.der])
        let verify = try TestSupport.openssl(["verify", "-x509_strict", "-CAfile", rootPath, pki.certsDirectory + "/issuing-b.pem"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // Not under the first root.
        let cross = try TestSupport.openssl(["verify", "-CAfile", pki.rootPEM, pki.certsDirectory + "/issuing-b.pem"])
        #expect(cross.status != 0)
    }
}
