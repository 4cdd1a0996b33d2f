import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// Custodians through the library: the key reference, the share files, the unlock and its audit
/// event, the ceremony record. The CLI's refusals are judged end to end (CustodianTests).
@Suite struct CustodyTests {
    /// A field of a stored event (its payload is the canonical JSON of all of them).
    func field(_ e: AuditEvent, _ name: String) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(e.payload.utf8))) as? [String: Any])?[name] as? String
    }

    @Test("a CA split 2-of-3 signs only with two shares, and the log names them")
    func splitAndUse() throws {
        let pki = try PKI()
        let shares = pki.folder + "/shares"
        var r = Authority.CACreation(name: "vault", subject: "CN=Vault CA,O=etrust tests,C=TG")
        r.parent = "root"
        r.custody = CustodySplit(custodians: 3, threshold: 2, directory: shares)
        let (record, _) = try pki.authority.createCA(r)
        #expect(record.keyReference == "file:keys/vault.key.pem#shares=2of3")
        let spki = try record.certificate.publicKey.spkiSHA256
        let files = r.custody!.shareFiles(ca: "vault")
        #expect(files == (1...3).map { shares + "/vault-\($0).share.json" })
        for (i, file) in files.enumerated() {
            let share = try CustodianShare(parsing: try InputFile.read(file), file: file)
            #expect(share.id == "vault-\(i + 1)" && share.x == UInt8(i + 1) && share.spkiSHA256 == spki)
            #expect(share.threshold == 2 && share.total == 3 && share.y?.count == 32)
        }

        // The ceremony: an event in the log and a file in the home, with the same hashes.
        let ceremonies = try pki.authority.auditLog.events(matching: EventFilter(type: "ceremony", ca: "vault"))
        #expect(ceremonies.count == 1)
        let ceremony = try #require(ceremonies.first)
        #expect(field(ceremony, "spkiSHA256") == Hex.encode(spki))
        #expect(field(ceremony, "certificateSHA256") == Hex.encode(record.certificate.sha256Fingerprint))
        #expect(field(ceremony, "shares") == "vault-1,vault-2,vault-3")
        let text = try String(contentsOfFile: pki.home + "/" + KeyCeremony.relativePath(ca: "vault", date: record.createdAt), encoding: .utf8)
        #expect(text.contains(Hex.encode(spki)) && text.contains("2 of their shares"))

        // A new process: no shares, one share, then two.
        func fresh() throws -> Authority {
            try Authority(home: try Home.open(pki.home), passphrase: { Array(PKI.passphrase.utf8) })
        }
        let none = try fresh()
        #expect(throws: ETrustError.self) { _ = try none.publishCRL(ca: "vault") }
        let one = try fresh()
        one.keys.useShares(files: [files[1]])
        do {
            _ = try one.publishCRL(ca: "vault")
            Issue.record("one share of two unlocked the key")
        } catch let e as ETrustError {
            #expect(e.category == .refused && e.reason.contains("needs 2 of its 3"), "\(e.reason)")
        }
        let two = try fresh()
        two.keys.useShares(files: [files[2], files[0]])
        #expect(try two.publishCRL(ca: "vault").count >= 1)
        let unlocks = try two.auditLog.events(matching: EventFilter(type: "key", ca: "vault")).filter { field($0, "action") == "unlocked" }
        #expect(unlocks.map { field($0, "shares") } == ["vault-3,vault-1"])
        let refused = try two.auditLog.events(matching: EventFilter(type: "key", ca: "vault")).filter { field($0, "action") == "unlock-refused" }
        #expect(refused.count == 2)
    }

    @Test("a CA under the home's passphrase gets a ceremony record too")
    func ceremonyForPlainKeys() throws {
        let pki = try PKI()
        let root = try pki.authority.ca("root")
        let event = try #require(try pki.authority.auditLog.events(matching: EventFilter(type: "ceremony", ca: "root")).first)
        #expect(field(event, "keyReference") == "file:keys/root.key.pem")
        #expect(field(event, "operator") == pki.authority.requester)
        #expect(field(event, "algorithm") == "ec-p256")
        #expect(event.serialHex == root.certificate.serialHex)
        #expect(FileManager.default.fileExists(atPath: pki.home + "/" + KeyCeremony.relativePath(ca: "root", date: root.createdAt)))
    }
}
