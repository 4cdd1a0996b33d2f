import ETrustCore
import Foundation
import Testing

/// Shamir's secret sharing over GF(2^8) mod 0x11B. The field is judged by FIPS-197's own worked
/// examples; the share vectors below follow from them by hand (see each test's arithmetic).
@Suite("Shamir's secret sharing")
struct ShamirTests {
    // MARK: The field

    @Test("GF(256) multiplication matches FIPS-197's worked examples")
    func fips197Examples() {
        // FIPS-197 4.2: {57} • {83} = {c1}; 4.2.1: {57} • {13} = {fe}, via xtime {57}•{02} = {ae},
        // {57}•{04} = {47}, {57}•{08} = {8e}, {57}•{10} = {07}.
        let examples: [(UInt8, UInt8, UInt8)] = [(0x57, 0x83, 0xc1), (0x57, 0x13, 0xfe), (0x57, 0x02, 0xae), (0x57, 0x04, 0x47),
                                                  (0x57, 0x08, 0x8e), (0x57, 0x10, 0x07),
                                                  // The S-box's first step (FIPS-197 5.1.1): {53}^-1 = {ca}.
                                                  (0x53, 0xca, 0x01)]
        for (a, b, product) in examples {
            #expect(GF256.multiply(a, b) == product, "\(a) • \(b)")
            #expect(GF256.multiply(b, a) == product)
            #expect(GF256.slowMultiply(a, b) == product)
        }
        #expect(GF256.inverse(0x53) == 0xca)
        #expect(GF256.divide(0xc1, 0x83) == 0x57)
    }

    @Test("the log/exp tables agree with shift-and-add on every pair, and every non-zero element has an inverse")
    func tablesAgree() {
        for a in 0...255 {
            for b in 0...255 {
                let (x, y) = (UInt8(a), UInt8(b))
                if GF256.multiply(x, y) != GF256.slowMultiply(x, y) {
                    Issue.record("\(a) • \(b): tables \(GF256.multiply(x, y)), shift-and-add \(GF256.slowMultiply(x, y))")
                    return
                }
            }
            if a != 0 { #expect(GF256.multiply(UInt8(a), GF256.inverse(UInt8(a))) == 1) }
        }
    }

    // MARK: Known vectors

    /// f(x) = s + {57}x for s = 53 00 ff:
    /// f(1) = s ^ 57 = 04 57 a8; f(2) = s ^ ae = fd ae 51; f(3) = s ^ ({ae} ^ {57} = f9) = aa f9 06.
    @Test("2-of-3 with fixed coefficients gives the shares computed by hand, and any two give the secret back")
    func twoOfThreeVector() throws {
        let secret: [UInt8] = [0x53, 0x00, 0xff]
        let shares = try ShamirSecretSharing.split(secret, threshold: 2, count: 3) { n in
            #expect(n == 3)
            return [0x57, 0x57, 0x57]
        }
        #expect(shares == [ShamirSecretSharing.Share(x: 1, y: [0x04, 0x57, 0xa8]),
                           ShamirSecretSharing.Share(x: 2, y: [0xfd, 0xae, 0x51]),
                           ShamirSecretSharing.Share(x: 3, y: [0xaa, 0xf9, 0x06])])
        for pair in [[0, 1], [0, 2], [1, 2], [2, 0]] {
            #expect(try ShamirSecretSharing.combine(pair.map { shares[$0] }) == secret)
        }
    }

    /// The same line through FIPS-197's products: f(83) = s ^ c1, f(13) = s ^ fe.
    @Test("shares at x = 0x83 and 0x13 of f(x) = s + {57}x interpolate to s")
    func fips197Shares() throws {
        let s: [UInt8] = [0x53, 0x00, 0xff]
        let a = ShamirSecretSharing.Share(x: 0x83, y: s.map { $0 ^ 0xc1 })
        let b = ShamirSecretSharing.Share(x: 0x13, y: s.map { $0 ^ 0xfe })
        #expect(a.y == [0x92, 0xc1, 0x3e] && b.y == [0xad, 0xfe, 0x01])
        #expect(try ShamirSecretSharing.combine([a, b]) == s)
    }

    /// f(x) = 53 + 57x + 83x^2. {83}•2 = 1d, {83}•4 = 3a, 3•3 = 5, {83}•5 = 3a ^ 83 = b9:
    /// f(1) = 53^57^83 = 87; f(2) = 53^ae^3a = c7; f(3) = 53^f9^b9 = 13.
    @Test("3-of-3 with fixed coefficients gives the shares computed by hand")
    func threeOfThreeVector() throws {
        let shares = try ShamirSecretSharing.split([0x53], threshold: 3, count: 3) { _ in [0x57, 0x83] }
        #expect(shares.map(\.y) == [[0x87], [0xc7], [0x13]])
        #expect(try ShamirSecretSharing.combine(shares) == [0x53])
        #expect(try ShamirSecretSharing.combine([shares[2], shares[0], shares[1]]) == [0x53])
    }

    // MARK: Properties

    @Test("3-of-5: every 3 (and 4, and 5) of the shares give the secret; every 2 give something else")
    func anyThreeOfFive() throws {
        let secret = try CSPRNG.bytes(32)
        let shares = try ShamirSecretSharing.split(secret, threshold: 3, count: 5)
        #expect(shares.map(\.x) == [1, 2, 3, 4, 5])
        #expect(Set(shares.map(\.y)).count == 5)
        var combinations = 0
        for i in 0..<5 {
            for j in (i + 1)..<5 {
                #expect(try ShamirSecretSharing.combine([shares[i], shares[j]]) != secret)
                for k in (j + 1)..<5 {
                    #expect(try ShamirSecretSharing.combine([shares[k], shares[i], shares[j]]) == secret)
                    combinations += 1
                }
            }
        }
        #expect(combinations == 10)
        #expect(try ShamirSecretSharing.combine(Array(shares.prefix(4))) == secret)
        #expect(try ShamirSecretSharing.combine(shares) == secret)
    }

    @Test("thresholds from 2 to 16 of up to 16 shares", arguments: [(2, 2), (2, 16), (5, 9), (16, 16)])
    func sizes(_ threshold: Int, _ count: Int) throws {
        let secret = try CSPRNG.bytes(32)
        let shares = try ShamirSecretSharing.split(secret, threshold: threshold, count: count)
        #expect(try ShamirSecretSharing.combine(Array(shares.suffix(threshold))) == secret)
        if threshold > 2 { #expect(try ShamirSecretSharing.combine(Array(shares.prefix(threshold - 1))) != secret) }
    }

    /// Perfect secrecy, checked exhaustively for one byte and 3-of-3: over all 65,536 choices of
    /// the two random coefficients, the first two shares take every pair of values exactly once,
    /// whatever the secret. Two shares therefore say nothing about it.
    @Test("M-1 shares do not determine the secret: their distribution is the same for every secret")
    func twoOfThreeSayNothing() throws {
        for secret: UInt8 in [0x00, 0xa5] {
            var seen = [Bool](repeating: false, count: 65536)
            for a1 in 0...255 {
                for a2 in 0...255 {
                    let shares = try ShamirSecretSharing.split([secret], threshold: 3, count: 3) { _ in [UInt8(a1), UInt8(a2)] }
                    let slot = Int(shares[0].y[0]) << 8 | Int(shares[1].y[0])
                    if seen[slot] { Issue.record("the pair \(slot) appeared twice for secret \(secret)") }
                    seen[slot] = true
                }
            }
            #expect(seen.allSatisfy { $0 })
        }
    }

    @Test("bad parameters and inconsistent shares are errors")
    func badInput() {
        _ = expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ShamirSecretSharing.split([1], threshold: 1, count: 3) }
        _ = expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ShamirSecretSharing.split([1], threshold: 4, count: 3) }
        _ = expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ShamirSecretSharing.split([], threshold: 2, count: 3) }
        let a = ShamirSecretSharing.Share(x: 1, y: [1, 2])
        _ = expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ShamirSecretSharing.combine([a]) }
        _ = expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ShamirSecretSharing.combine([a, a]) }
        _ = expectETrustError(code: .invalidArgument, category: .badInput) {
            _ = try ShamirSecretSharing.combine([a, ShamirSecretSharing.Share(x: 2, y: [1])])
        }
        _ = expectETrustError(code: .invalidArgument, category: .badInput) {
            _ = try ShamirSecretSharing.combine([a, ShamirSecretSharing.Share(x: 0, y: [1, 2])])
        }
    }

    // MARK: Sealing a share under a passphrase

    @Test("a sealed secret opens with its passphrase and context only")
    func passphraseSeal() throws {
        let secret = try CSPRNG.bytes(32)
        let pass = Array("custodian three".utf8)
        let context = Array("root-3".utf8)
        let box = try PassphraseSeal.seal(secret, passphrase: pass, associatedData: context, iterations: 1000)
        #expect(box.sealed.count == 32 + 16)
        #expect(box.salt.count == 16 && box.nonce.count == 12)
        #expect(try box.open(passphrase: pass, associatedData: context) == secret)
        _ = expectETrustError(code: .wrongPassphrase, category: .badInput) { _ = try box.open(passphrase: Array("wrong".utf8), associatedData: context) }
        _ = expectETrustError(code: .wrongPassphrase, category: .badInput) { _ = try box.open(passphrase: pass, associatedData: Array("root-4".utf8)) }
        var altered = box
        altered.sealed[0] ^= 1
        _ = expectETrustError(code: .wrongPassphrase, category: .badInput) { _ = try altered.open(passphrase: pass, associatedData: context) }
        // Fresh salt and nonce each time.
        let again = try PassphraseSeal.seal(secret, passphrase: pass, associatedData: context, iterations: 1000)
        #expect(again.salt != box.salt && again.sealed != box.sealed)
    }
}
