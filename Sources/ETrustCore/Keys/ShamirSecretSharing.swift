/// Shamir's secret sharing (Shamir 1979, "How to share a secret") byte by byte over GF(2^8) with
/// the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11B, FIPS-197 4.2), the field SLIP-0039
/// and HashiCorp Vault use. Each byte of the secret is the constant term of its own random
/// polynomial of degree threshold-1; share i holds the values of all those polynomials at x = i
/// (1...255). Any `threshold` shares give the secret back by Lagrange interpolation at x = 0;
/// fewer say nothing about it (every secret is equally likely).
///
/// Not constant-time in the table look-ups: etrust runs it once per key unlock, on the CA host.
public enum ShamirSecretSharing {
    /// One share: the x coordinate (1...255, never 0: f(0) is the secret) and f(x) for each byte.
    public struct Share: Sendable, Equatable {
        public var x: UInt8
        public var y: [UInt8]
        public init(x: UInt8, y: [UInt8]) { self.x = x; self.y = y }
    }

    /// Splits `secret` into `count` shares (x = 1...count), any `threshold` of which recover it.
    /// `random(n)` supplies the coefficients: OpenSSL's CSPRNG, or fixed bytes in tests.
    public static func split(_ secret: [UInt8], threshold: Int, count: Int,
                             random: (Int) throws -> [UInt8] = CSPRNG.bytes) throws -> [Share] {
        guard threshold >= 2, threshold <= count, count <= 255 else {
            throw ETrustError.badInput("Shamir: need 2 <= threshold (\(threshold)) <= shares (\(count)) <= 255", code: .invalidArgument)
        }
        guard !secret.isEmpty else { throw ETrustError.badInput("Shamir: the secret is empty", code: .invalidArgument) }
        // coefficients[b] = [secret[b], a1, ..., a(threshold-1)] for byte b.
        let degree = threshold - 1
        let randomBytes = try random(secret.count * degree)
        guard randomBytes.count == secret.count * degree else {
            throw ETrustError.environment("Shamir: the random source returned \(randomBytes.count) bytes, not \(secret.count * degree)")
        }
        var shares: [Share] = []
        shares.reserveCapacity(count)
        for i in 1...count {
            let x = UInt8(i)
            var y = [UInt8](repeating: 0, count: secret.count)
            for b in 0..<secret.count {
                // Horner: ((a_d x + a_(d-1)) x + ...) x + a_0
                var acc: UInt8 = 0
                for k in stride(from: degree, through: 1, by: -1) {
                    acc = GF256.multiply(acc ^ randomBytes[b * degree + k - 1], x)
                }
                y[b] = acc ^ secret[b]
            }
            shares.append(Share(x: x, y: y))
        }
        return shares
    }

    /// The secret the shares interpolate at x = 0. The caller checks that there are at least
    /// `threshold` of them: with fewer the result is a random-looking wrong value, not an error.
    public static func combine(_ shares: [Share]) throws -> [UInt8] {
        guard shares.count >= 2 else {
            throw ETrustError.badInput("Shamir: at least two shares are needed, \(shares.count) given", code: .invalidArgument)
        }
        let length = shares[0].y.count
        guard length > 0, shares.allSatisfy({ $0.y.count == length }) else {
            throw ETrustError.badInput("Shamir: the shares are of different lengths", code: .invalidArgument)
        }
        guard shares.allSatisfy({ $0.x != 0 }) else { throw ETrustError.badInput("Shamir: a share has x = 0", code: .invalidArgument) }
        guard Set(shares.map(\.x)).count == shares.count else {
            throw ETrustError.badInput("Shamir: two shares have the same x", code: .invalidArgument)
        }
        // Lagrange basis at 0: l_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR.
        let basis: [UInt8] = shares.indices.map { i in
            var numerator: UInt8 = 1, denominator: UInt8 = 1
            for j in shares.indices where j != i {
                numerator = GF256.multiply(numerator, shares[j].x)
                denominator = GF256.multiply(denominator, shares[j].x ^ shares[i].x)
            }
            return GF256.divide(numerator, denominator)
        }
        var secret = [UInt8](repeating: 0, count: length)
        for b in 0..<length {
            var acc: UInt8 = 0
            for i in shares.indices { acc ^= GF256.multiply(shares[i].y[b], basis[i]) }
            secret[b] = acc
        }
        return secret
    }
}

/// GF(2^8) modulo 0x11B, through log/exp tables over the generator 0x03 (FIPS-197 4.2).
public enum GF256 {
    /// exp[i] = 3^i for i in 0..<510 (doubled so that log a + log b needs no reduction); log[3^i] = i.
    static let tables: (exp: [UInt8], log: [UInt8]) = {
        var exp = [UInt8](repeating: 0, count: 510)
        var log = [UInt8](repeating: 0, count: 256)
        var v: UInt8 = 1
        for i in 0..<255 {
            exp[i] = v
            exp[i + 255] = v
            log[Int(v)] = UInt8(i)
            v = slowMultiply(v, 0x03)
        }
        return (exp, log)
    }()

    /// Shift-and-add multiplication (FIPS-197 4.2.1, xtime), used to build the tables and by the
    /// tests to check them.
    public static func slowMultiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a, b = b, p: UInt8 = 0
        while b != 0 {
            if b & 1 != 0 { p ^= a }
            a = (a << 1) ^ (a & 0x80 != 0 ? 0x1B : 0)
            b >>= 1
        }
        return p
    }

    public static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + Int(tables.log[Int(b)])]
    }

    /// a / b; b must not be 0.
    public static func divide(_ a: UInt8, _ b: UInt8) -> UInt8 {
        precondition(b != 0, "GF(256) division by zero")
        if a == 0 { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + 255 - Int(tables.log[Int(b)])]
    }

    public static func inverse(_ a: UInt8) -> UInt8 { divide(1, a) }
}
