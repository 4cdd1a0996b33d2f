import ETrustCore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// One rule of the profile layer (or the path builder), with a positive and a negative PKI that
/// differ only in what the rule looks at.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let rule: String
    /// The errorCode the negative case must be refused with.
    let code: String
    let build: @Sendable (_ broken: Bool) throws -> RuleSetup
    var testDescription: String { "\(rule) [\(code)]" }
}

/// What to validate: the leaf, its trust inputs and the request.
struct RuleSetup {
    var anchors: [Certificate]
    var intermediates: [Certificate]
    var leaf: Certificate
    var request = ValidationRequest()
    var crls: [CertificateRevocationList] = []

    init(_ pki: (root: TestCertificate, intermediate: TestCertificate, leaf: TestCertificate), purpose: Purpose = .tlsServer) {
        anchors = [pki.root.certificate]
        intermediates = [pki.intermediate.certificate]
        leaf = pki.leaf.certificate
        request.parameters.purpose = purpose
    }

    func validate() throws -> ValidationResult {
        try Validator(anchors: anchors, intermediates: intermediates, crls: crls).validate(leaf, request)
    }
}

/// Shorthands for the tables.
enum R {
    static func rule(_ rule: String, _ code: String, _ build: @escaping @Sendable (Bool) throws -> RuleSetup) -> RuleCase {
        RuleCase(rule: rule, code: code, build: build)
    }

    /// A standard chain whose leaf is edited only in the negative case.
    static func leaf(_ purpose: Purpose = .tlsServer, san: [GeneralName] = [.dns("www.example.com")],
                     _ edit: @escaping @Sendable (inout TBSCertificate) throws -> Void) -> @Sendable (Bool) throws -> RuleSetup {
        { broken in RuleSetup(try TestPKI.chain(leafSAN: san, editLeaf: broken ? edit : { _ in }), purpose: purpose) }
    }

    /// A standard chain whose intermediate is edited only in the negative case.
    static func intermediate(_ purpose: Purpose = .tlsServer, san: [GeneralName] = [.dns("www.example.com")],
                             good: @escaping @Sendable (inout TBSCertificate) throws -> Void = { _ in },
                             _ edit: @escaping @Sendable (inout TBSCertificate) throws -> Void) -> @Sendable (Bool) throws -> RuleSetup {
        { broken in RuleSetup(try TestPKI.chain(leafSAN: san, editIntermediate: broken ? edit : good), purpose: purpose) }
    }

    static func ext(_ oid: String, critical: Bool, _ value: [UInt8]) -> Extension { Extension(oid: oid, critical: critical, value: value) }

    static func nameConstraints(permitted: [GeneralName], excluded: [GeneralName] = []) throws -> Extension {
        try Extension.nameConstraints(permitted: permitted.map(GeneralSubtree.init), excluded: excluded.map(GeneralSubtree.init))
    }

    /// A leaf with this SubjectPublicKeyInfo in the negative case, P-256 in the positive one.
    static func leafKey(_ spki: @escaping @Sendable () throws -> [UInt8]) -> @Sendable (Bool) throws -> RuleSetup {
        leaf { $0.subjectPublicKeyInfo = try spki() }
    }
}

@Suite("etrust verify: one positive and one negative case per profile rule")
struct ProfileRuleTests {
    @Test("RFC 5280 section 4 profile rules", arguments: ProfileRuleTables.rfc5280)
    func rfc5280(_ c: RuleCase) throws { try Self.check(c) }

    @Test("Web PKI (CA/Browser Forum BR) rules for tls-server", arguments: ProfileRuleTables.webPKI)
    func webPKI(_ c: RuleCase) throws { try Self.check(c) }

    @Test("relying-party requirements and path building", arguments: ProfileRuleTables.requirements + ProfileRuleTables.pathBuilding)
    func requirements(_ c: RuleCase) throws { try Self.check(c) }

    static func check(_ c: RuleCase) throws {
        let good = try c.build(false).validate()
        let (goodValid, goodCode, goodReason) = (good.valid, good.errorCode, good.reason)
        #expect(goodValid, "positive case refused: \(goodCode): \(goodReason)")
        let bad = try c.build(true).validate()
        let (badValid, badCode, badReason) = (bad.valid, bad.errorCode, bad.reason)
        #expect(!badValid, "negative case accepted")
        #expect(badCode == c.code, "negative case refused as \(badCode): \(badReason)")
        #expect(VerifyErrorCodes.all.contains(badCode), "\(badCode) is not in the list of errorCodes")
    }
}
