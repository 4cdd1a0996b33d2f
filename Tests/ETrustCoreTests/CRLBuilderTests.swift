import ETrustCore
import Foundation
import Testing

@Suite("CRLBuilder fast path")
struct CRLBuilderFastPathTests {
    /// The raw-row path used for large CRLs must write exactly what the general path writes.
    @Test("add(serialHex:...) and add(serial:...) produce identical DER", arguments: [1, 7, 300])
    func rawPathMatchesGeneralPath(_ count: Int) throws {
        let issuer = try DistinguishedName(parsing: "CN=CRL Test CA,O=etrust,C=TG")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var general = CRLBuilder(issuer: issuer, signatureAlgorithm: .ecdsaWithSHA256, thisUpdate: now,
                                 nextUpdate: now.addingTimeInterval(86_400 * 7), extensions: [.crlNumber(5)])
        var raw = general
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count {
            // Serials of every shape: leading zero nibbles, odd digit counts, high bit set, short.
            var bytes = (0..<(1 + i % 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 5 == 0 { bytes[0] = 0x00 }
            if i % 7 == 0 { bytes[0] = 0x80 }
            let hex = Hex.encode(bytes)
            let oddHex = i % 3 == 0 ? String(hex.drop(while: { $0 == "0" })) : hex
            let revoked = Int64(1_700_000_000 + i * 977) + (i % 11 == 0 ? 1_000_000_000 : 0)   // some after 2050
            let reasons: [RevocationReason] = [.unspecified, .keyCompromise, .cACompromise, .superseded, .certificateHold, .removeFromCRL, .privilegeWithdrawn]
            let reason = reasons[i % reasons.count]
            let invalidity: Int64? = i % 4 == 0 ? revoked - 86_400 : nil
            let magnitude = Hex.decode(oddHex.isEmpty ? "0" : oddHex)!
            general.add(serial: magnitude, revocationDate: Date(timeIntervalSince1970: TimeInterval(revoked)), reason: reason,
                        invalidityDate: invalidity.map { Date(timeIntervalSince1970: TimeInterval($0)) })
            var text = Array((oddHex.isEmpty ? "0" : oddHex).utf8)
            text.withUnsafeMutableBufferPointer { raw.add(serialHex: UnsafeBufferPointer($0), revokedAt: revoked, reason: reason.rawValue, invalidityDate: invalidity) }
        }
        #expect(general.count == count)
        #expect(raw.count == count)
        #expect(general.tbsDER() == raw.tbsDER())
    }
}
