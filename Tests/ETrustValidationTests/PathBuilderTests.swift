import ETrustCore
import ETrustTestSupport
@testable import ETrustValidation
import Foundation
import Testing

/// The candidate enumeration of PathBuilder on its own: order, loops and the depth bound.
@Suite("PathBuilder: candidate paths, depth first with backtracking")
struct PathBuilderTests {
    /// root -> Y (and X <-> Y certifying each other) -> X -> leaf.
    struct Mesh {
        let root, xByY, yByX, yByRoot, leaf: TestCertificate
        init() throws {
            root = try TestPKI.make("CN=Mesh Root,C=TG", ca: true)
            let xKey = try PrivateKey.generate(.ecP256), yKey = try PrivateKey.generate(.ecP256)
            let ySelf = try TestPKI.make("CN=Mesh Y,C=TG", ca: true, key: yKey)
            xByY = try TestPKI.make("CN=Mesh X,C=TG", issuer: ySelf, ca: true, key: xKey)
            yByX = try TestPKI.make("CN=Mesh Y,C=TG", issuer: xByY, ca: true, key: yKey)
            yByRoot = try TestPKI.make("CN=Mesh Y,C=TG", issuer: root, ca: true, key: yKey)
            leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: xByY, ca: false)
        }
    }

    static func candidates(_ m: Mesh, maxDepth: Int = 8) throws -> [[String]] {
        let builder = PathBuilder(anchors: [m.root.certificate], intermediates: [m.xByY, m.yByX, m.yByRoot].map(\.certificate),
                                  maxDepth: maxDepth)
        var paths: [[String]] = []
        try builder.enumerate(from: m.leaf.certificate) { path in
            paths.append(path.map { $0.subject.description + ($0.isSelfIssued ? " (self)" : " by " + $0.issuer.description) })
            return false
        }
        return paths
    }

    @Test("a loop X -> Y -> X is never followed: the one candidate goes through Y certified by the root")
    func loops() throws {
        let m = try Mesh()
        #expect(try Self.candidates(m) == [["CN=www.example.com,C=TG by CN=Mesh X,C=TG", "CN=Mesh X,C=TG by CN=Mesh Y,C=TG",
                                            "CN=Mesh Y,C=TG by CN=Mesh Root,C=TG", "CN=Mesh Root,C=TG (self)"]])
    }

    @Test("the depth bound: with at most one intermediate there is no candidate")
    func depthBound() throws {
        let m = try Mesh()
        #expect(try Self.candidates(m, maxDepth: 1).isEmpty)
        #expect(try Self.candidates(m, maxDepth: 2).count == 1)
    }

    @Test("issuers whose subjectKeyIdentifier matches the authorityKeyIdentifier are tried first, then the others (backtracking)")
    func order() throws {
        let root = try TestPKI.make("CN=Order Root,C=TG", ca: true)
        let key = try PrivateKey.generate(.ecP256)
        let other = try TestPKI.make("CN=Order CA,C=TG", issuer: root, ca: true)
        let right = try TestPKI.make("CN=Order CA,C=TG", issuer: root, ca: true, key: key)
        let leaf = try TestPKI.make("CN=www.example.com,C=TG", issuer: right, ca: false)
        let builder = PathBuilder(anchors: [root.certificate], intermediates: [other.certificate, right.certificate], maxDepth: 8)
        var firsts: [Certificate] = []
        try builder.enumerate(from: leaf.certificate) { path in firsts.append(path[1]); return false }
        #expect(firsts == [right.certificate, other.certificate])
    }
}
