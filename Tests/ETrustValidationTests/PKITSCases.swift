// The NIST PKITS v1.0.1 conformance table, sections 4.1 to 4.16 (issue #5).
//
// Source of the cases: NIST, "Public Key Interoperability Test Suite (PKITS), Certification Path
// Validation", version 1.0.1 (2004, certificates re-issued 2011), as shipped in PyPI
// `cryptography-vectors` (x509/PKITS_data/{certs,crls}). For every test: the end-entity
// certificate, the intermediate certificates of its path as the description lists them (for the
// CRL tests also the CRL signing certificates that are not on the path), the CRLs of every CA of
// the path (delta-CRLs in 4.15, the special CRLs of 4.14), the initial settings of RFC 5280 6.1.1
// that the description names, and the expected result. Tests the description runs with several
// settings (4.8, 4.10, 4.12.3) have one row per sub-part. TrustAnchorRootCertificate is the
// anchor and TrustAnchorRootCRL is given in every case (the runner adds both).
//
// `validPolicies`: for valid paths, the policy set the description expects the path to be valid
// for (the user-constrained-policy-set when an initial-policy-set is given, otherwise the
// authorities-constrained-policy-set); nil means NIST-test-policy-1, the policy almost every PKITS
// certificate asserts.

import Testing

/// One PKITS test (or one sub-part of a test run with several settings).
struct PKITSCase: Sendable, CustomTestStringConvertible {
    enum Expected: String, Sendable { case valid, invalid }

    /// PKITS test number, e.g. "4.8.1".
    let number: String
    /// Sub-part, for tests the description runs with several initial settings.
    let subpart: Int?
    /// PKITS test name, e.g. "All Certificates Same Policy Test1".
    let name: String
    /// File names without extension (certs/NAME.crt, crls/NAME.crl).
    let endEntity: String
    let intermediates: [String]
    let crls: [String]
    /// user-initial-policy-set; empty means {anyPolicy}.
    let initialPolicies: [String]
    let explicitPolicy: Bool
    let policyMappingInhibit: Bool
    let anyPolicyInhibit: Bool
    let expected: Expected
    /// For valid paths: the policies the path must be valid for (see the file header).
    let validPolicies: [String]

    /// "4.8.1" or, for a sub-part, "4.8.1-2".
    var id: String { subpart.map { "\(number)-\($0)" } ?? number }
    var testDescription: String { "\(id) \(name)" }
}

enum PKITSCases {
    static let anyPolicy = "2.5.29.32.0"
    static let P1 = "2.16.840.1.101.3.2.1.48.1"
    static let P2 = "2.16.840.1.101.3.2.1.48.2"
    static let P3 = "2.16.840.1.101.3.2.1.48.3"
    static let P6 = "2.16.840.1.101.3.2.1.48.6"

    static func c(_ number: String, _ name: String, _ endEntity: String, _ expected: PKITSCase.Expected,
                          _ intermediates: [String], _ crls: [String], sub: Int? = nil, policies: [String] = [],
                          explicit: Bool = false, inhibitMapping: Bool = false, inhibitAny: Bool = false,
                          validPolicies: [String]? = nil) -> PKITSCase {
        PKITSCase(number: number, subpart: sub, name: name, endEntity: endEntity, intermediates: intermediates, crls: crls,
                  initialPolicies: policies, explicitPolicy: explicit, policyMappingInhibit: inhibitMapping,
                  anyPolicyInhibit: inhibitAny, expected: expected, validPolicies: validPolicies ?? [P1])
    }

    static let good = ["GoodCACert"], goodCRL = ["GoodCACRL"]

    /// Every PKITS test of sections 4.1 to 4.16, in document order.
    static let all: [PKITSCase] = signatures + validity + nameChaining + basicRevocation + selfIssued + basicConstraints
        + keyUsage + certificatePolicies + requireExplicitPolicy + policyMappings + inhibitPolicyMapping + inhibitAnyPolicy
        + nameConstraints + distributionPoints + deltaCRLs + privateExtensions

    // MARK: 4.1 Signature Verification
    static let signatures: [PKITSCase] = [
        c("4.1.1", "Valid Signatures Test1", "ValidCertificatePathTest1EE", .valid, good, goodCRL),
        c("4.1.2", "Invalid CA Signature Test2", "InvalidCASignatureTest2EE", .invalid, ["BadSignedCACert"], ["BadSignedCACRL"]),
        c("4.1.3", "Invalid EE Signature Test3", "InvalidEESignatureTest3EE", .invalid, good, goodCRL),
        c("4.1.4", "Valid DSA Signatures Test4", "ValidDSASignaturesTest4EE", .valid, ["DSACACert"], ["DSACACRL"]),
        c("4.1.5", "Valid DSA Parameter Inheritance Test5", "ValidDSAParameterInheritanceTest5EE", .valid,
          ["DSACACert", "DSAParametersInheritedCACert"], ["DSACACRL", "DSAParametersInheritedCACRL"]),
        c("4.1.6", "Invalid DSA Signature Test6", "InvalidDSASignatureTest6EE", .invalid, ["DSACACert"], ["DSACACRL"]),
    ]

    // MARK: 4.2 Validity Periods
    static let validity: [PKITSCase] = [
        c("4.2.1", "Invalid CA notBefore Date Test1", "InvalidCAnotBeforeDateTest1EE", .invalid,
          ["BadnotBeforeDateCACert"], ["BadnotBeforeDateCACRL"]),
        c("4.2.2", "Invalid EE notBefore Date Test2", "InvalidEEnotBeforeDateTest2EE", .invalid, good, goodCRL),
        c("4.2.3", "Valid pre2000 UTC notBefore Date Test3", "Validpre2000UTCnotBeforeDateTest3EE", .valid, good, goodCRL),
        c("4.2.4", "Valid GeneralizedTime notBefore Date Test4", "ValidGeneralizedTimenotBeforeDateTest4EE", .valid, good, goodCRL),
        c("4.2.5", "Invalid CA notAfter Date Test5", "InvalidCAnotAfterDateTest5EE", .invalid,
          ["BadnotAfterDateCACert"], ["BadnotAfterDateCACRL"]),
        c("4.2.6", "Invalid EE notAfter Date Test6", "InvalidEEnotAfterDateTest6EE", .invalid, good, goodCRL),
        c("4.2.7", "Invalid pre2000 UTC EE notAfter Date Test7", "Invalidpre2000UTCEEnotAfterDateTest7EE", .invalid, good, goodCRL),
        c("4.2.8", "Valid GeneralizedTime notAfter Date Test8", "ValidGeneralizedTimenotAfterDateTest8EE", .valid, good, goodCRL),
    ]

    // MARK: 4.3 Verifying Name Chaining
    static let nameChaining: [PKITSCase] = [
        c("4.3.1", "Invalid Name Chaining EE Test1", "InvalidNameChainingTest1EE", .invalid, good, goodCRL),
        c("4.3.2", "Invalid Name Chaining Order Test2", "InvalidNameChainingOrderTest2EE", .invalid,
          ["NameOrderingCACert"], ["NameOrderCACRL"]),
        c("4.3.3", "Valid Name Chaining Whitespace Test3", "ValidNameChainingWhitespaceTest3EE", .valid, good, goodCRL),
        c("4.3.4", "Valid Name Chaining Whitespace Test4", "ValidNameChainingWhitespaceTest4EE", .valid, good, goodCRL),
        c("4.3.5", "Valid Name Chaining Capitalization Test5", "ValidNameChainingCapitalizationTest5EE", .valid, good, goodCRL),
        c("4.3.6", "Valid Name Chaining UIDs Test6", "ValidNameUIDsTest6EE", .valid, ["UIDCACert"], ["UIDCACRL"]),
        c("4.3.7", "Valid RFC3280 Mandatory Attribute Types Test7", "ValidRFC3280MandatoryAttributeTypesTest7EE", .valid,
          ["RFC3280MandatoryAttributeTypesCACert"], ["RFC3280MandatoryAttributeTypesCACRL"]),
        c("4.3.8", "Valid RFC3280 Optional Attribute Types Test8", "ValidRFC3280OptionalAttributeTypesTest8EE", .valid,
          ["RFC3280OptionalAttributeTypesCACert"], ["RFC3280OptionalAttributeTypesCACRL"]),
        c("4.3.9", "Valid UTF8String Encoded Names Test9", "ValidUTF8StringEncodedNamesTest9EE", .valid,
          ["UTF8StringEncodedNamesCACert"], ["UTF8StringEncodedNamesCACRL"]),
        c("4.3.10", "Valid Rollover from PrintableString to UTF8String Test10", "ValidRolloverfromPrintableStringtoUTF8StringTest10EE",
          .valid, ["RolloverfromPrintableStringtoUTF8StringCACert"], ["RolloverfromPrintableStringtoUTF8StringCACRL"]),
        c("4.3.11", "Valid UTF8String Case Insensitive Match Test11", "ValidUTF8StringCaseInsensitiveMatchTest11EE", .valid,
          ["UTF8StringCaseInsensitiveMatchCACert"], ["UTF8StringCaseInsensitiveMatchCACRL"]),
    ]

    // MARK: 4.4 Basic Certificate Revocation Tests
    static let basicRevocation: [PKITSCase] = [
        c("4.4.1", "Missing CRL Test1", "InvalidMissingCRLTest1EE", .invalid, ["NoCRLCACert"], []),
        c("4.4.2", "Invalid Revoked CA Test2", "InvalidRevokedCATest2EE", .invalid,
          ["GoodCACert", "RevokedsubCACert"], ["GoodCACRL", "RevokedsubCACRL"]),
        c("4.4.3", "Invalid Revoked EE Test3", "InvalidRevokedEETest3EE", .invalid, good, goodCRL),
        c("4.4.4", "Invalid Bad CRL Signature Test4", "InvalidBadCRLSignatureTest4EE", .invalid,
          ["BadCRLSignatureCACert"], ["BadCRLSignatureCACRL"]),
        c("4.4.5", "Invalid Bad CRL Issuer Name Test5", "InvalidBadCRLIssuerNameTest5EE", .invalid,
          ["BadCRLIssuerNameCACert"], ["BadCRLIssuerNameCACRL"]),
        c("4.4.6", "Invalid Wrong CRL Test6", "InvalidWrongCRLTest6EE", .invalid, ["WrongCRLCACert"], ["WrongCRLCACRL"]),
        c("4.4.7", "Valid Two CRLs Test7", "ValidTwoCRLsTest7EE", .valid, ["TwoCRLsCACert"], ["TwoCRLsCAGoodCRL", "TwoCRLsCABadCRL"]),
        c("4.4.8", "Invalid Unknown CRL Entry Extension Test8", "InvalidUnknownCRLEntryExtensionTest8EE", .invalid,
          ["UnknownCRLEntryExtensionCACert"], ["UnknownCRLEntryExtensionCACRL"]),
        c("4.4.9", "Invalid Unknown CRL Extension Test9", "InvalidUnknownCRLExtensionTest9EE", .invalid,
          ["UnknownCRLExtensionCACert"], ["UnknownCRLExtensionCACRL"]),
        c("4.4.10", "Invalid Unknown CRL Extension Test10", "InvalidUnknownCRLExtensionTest10EE", .invalid,
          ["UnknownCRLExtensionCACert"], ["UnknownCRLExtensionCACRL"]),
        c("4.4.11", "Invalid Old CRL nextUpdate Test11", "InvalidOldCRLnextUpdateTest11EE", .invalid,
          ["OldCRLnextUpdateCACert"], ["OldCRLnextUpdateCACRL"]),
        c("4.4.12", "Invalid pre2000 CRL nextUpdate Test12", "Invalidpre2000CRLnextUpdateTest12EE", .invalid,
          ["pre2000CRLnextUpdateCACert"], ["pre2000CRLnextUpdateCACRL"]),
        c("4.4.13", "Valid GeneralizedTime CRL nextUpdate Test13", "ValidGeneralizedTimeCRLnextUpdateTest13EE", .valid,
          ["GeneralizedTimeCRLnextUpdateCACert"], ["GeneralizedTimeCRLnextUpdateCACRL"]),
        c("4.4.14", "Valid Negative Serial Number Test14", "ValidNegativeSerialNumberTest14EE", .valid,
          ["NegativeSerialNumberCACert"], ["NegativeSerialNumberCACRL"]),
        c("4.4.15", "Invalid Negative Serial Number Test15", "InvalidNegativeSerialNumberTest15EE", .invalid,
          ["NegativeSerialNumberCACert"], ["NegativeSerialNumberCACRL"]),
        c("4.4.16", "Valid Long Serial Number Test16", "ValidLongSerialNumberTest16EE", .valid,
          ["LongSerialNumberCACert"], ["LongSerialNumberCACRL"]),
        c("4.4.17", "Valid Long Serial Number Test17", "ValidLongSerialNumberTest17EE", .valid,
          ["LongSerialNumberCACert"], ["LongSerialNumberCACRL"]),
        c("4.4.18", "Invalid Long Serial Number Test18", "InvalidLongSerialNumberTest18EE", .invalid,
          ["LongSerialNumberCACert"], ["LongSerialNumberCACRL"]),
        c("4.4.19", "Valid Separate Certificate and CRL Keys Test19", "ValidSeparateCertificateandCRLKeysTest19EE", .valid,
          ["SeparateCertificateandCRLKeysCertificateSigningCACert", "SeparateCertificateandCRLKeysCRLSigningCert"],
          ["SeparateCertificateandCRLKeysCRL"]),
        c("4.4.20", "Invalid Separate Certificate and CRL Keys Test20", "InvalidSeparateCertificateandCRLKeysTest20EE", .invalid,
          ["SeparateCertificateandCRLKeysCertificateSigningCACert", "SeparateCertificateandCRLKeysCRLSigningCert"],
          ["SeparateCertificateandCRLKeysCRL"]),
        c("4.4.21", "Invalid Separate Certificate and CRL Keys Test21", "InvalidSeparateCertificateandCRLKeysTest21EE", .invalid,
          ["SeparateCertificateandCRLKeysCA2CertificateSigningCACert", "SeparateCertificateandCRLKeysCA2CRLSigningCert"],
          ["SeparateCertificateandCRLKeysCA2CRL"]),
    ]

    // MARK: 4.5 Verifying Paths with Self-Issued Certificates
    private static let newKey = ["BasicSelfIssuedNewKeyCACert", "BasicSelfIssuedNewKeyOldWithNewCACert"]
    private static let oldKey = ["BasicSelfIssuedOldKeyCACert", "BasicSelfIssuedOldKeyNewWithOldCACert"]
    private static let oldKeyCRLs = ["BasicSelfIssuedOldKeySelfIssuedCertCRL", "BasicSelfIssuedOldKeyCACRL"]
    private static let crlKey = ["BasicSelfIssuedCRLSigningKeyCACert", "BasicSelfIssuedCRLSigningKeyCRLCert"]
    private static let crlKeyCRLs = ["BasicSelfIssuedCRLSigningKeyCRLCertCRL", "BasicSelfIssuedCRLSigningKeyCACRL"]
    static let selfIssued: [PKITSCase] = [
        c("4.5.1", "Valid Basic Self-Issued Old With New Test1", "ValidBasicSelfIssuedOldWithNewTest1EE", .valid,
          newKey, ["BasicSelfIssuedNewKeyCACRL"]),
        c("4.5.2", "Invalid Basic Self-Issued Old With New Test2", "InvalidBasicSelfIssuedOldWithNewTest2EE", .invalid,
          newKey, ["BasicSelfIssuedNewKeyCACRL"]),
        c("4.5.3", "Valid Basic Self-Issued New With Old Test3", "ValidBasicSelfIssuedNewWithOldTest3EE", .valid, oldKey, oldKeyCRLs),
        c("4.5.4", "Valid Basic Self-Issued New With Old Test4", "ValidBasicSelfIssuedNewWithOldTest4EE", .valid, oldKey, oldKeyCRLs),
        c("4.5.5", "Invalid Basic Self-Issued New With Old Test5", "InvalidBasicSelfIssuedNewWithOldTest5EE", .invalid, oldKey, oldKeyCRLs),
        c("4.5.6", "Valid Basic Self-Issued CRL Signing Key Test6", "ValidBasicSelfIssuedCRLSigningKeyTest6EE", .valid, crlKey, crlKeyCRLs),
        c("4.5.7", "Invalid Basic Self-Issued CRL Signing Key Test7", "InvalidBasicSelfIssuedCRLSigningKeyTest7EE", .invalid,
          crlKey, crlKeyCRLs),
        c("4.5.8", "Invalid Basic Self-Issued CRL Signing Key Test8", "InvalidBasicSelfIssuedCRLSigningKeyTest8EE", .invalid,
          crlKey, crlKeyCRLs),
    ]

    // MARK: 4.6 Verifying Basic Constraints
    private static let pl0 = ["pathLenConstraint0CACert", "pathLenConstraint0subCACert"]
    private static let pl0CRLs = ["pathLenConstraint0CACRL", "pathLenConstraint0subCACRL"]
    private static let pl6_00 = ["pathLenConstraint6CACert", "pathLenConstraint6subCA0Cert", "pathLenConstraint6subsubCA00Cert"]
    private static let pl6_00CRLs = ["pathLenConstraint6CACRL", "pathLenConstraint6subCA0CRL", "pathLenConstraint6subsubCA00CRL"]
    private static let pl6_11 = ["pathLenConstraint6CACert", "pathLenConstraint6subCA1Cert", "pathLenConstraint6subsubCA11Cert",
                                 "pathLenConstraint6subsubsubCA11XCert"]
    private static let pl6_11CRLs = ["pathLenConstraint6CACRL", "pathLenConstraint6subCA1CRL", "pathLenConstraint6subsubCA11CRL",
                                     "pathLenConstraint6subsubsubCA11XCRL"]
    private static let pl6_41 = ["pathLenConstraint6CACert", "pathLenConstraint6subCA4Cert", "pathLenConstraint6subsubCA41Cert",
                                 "pathLenConstraint6subsubsubCA41XCert"]
    private static let pl6_41CRLs = ["pathLenConstraint6CACRL", "pathLenConstraint6subCA4CRL", "pathLenConstraint6subsubCA41CRL",
                                     "pathLenConstraint6subsubsubCA41XCRL"]
    static let basicConstraints: [PKITSCase] = [
        c("4.6.1", "Invalid Missing basicConstraints Test1", "InvalidMissingbasicConstraintsTest1EE", .invalid,
          ["MissingbasicConstraintsCACert"], ["MissingbasicConstraintsCACRL"]),
        c("4.6.2", "Invalid cA False Test2", "InvalidcAFalseTest2EE", .invalid,
          ["basicConstraintsCriticalcAFalseCACert"], ["basicConstraintsCriticalcAFalseCACRL"]),
        c("4.6.3", "Invalid cA False Test3", "InvalidcAFalseTest3EE", .invalid,
          ["basicConstraintsNotCriticalcAFalseCACert"], ["basicConstraintsNotCriticalcAFalseCACRL"]),
        c("4.6.4", "Valid basicConstraints Not Critical Test4", "ValidbasicConstraintsNotCriticalTest4EE", .valid,
          ["basicConstraintsNotCriticalCACert"], ["basicConstraintsNotCriticalCACRL"]),
        c("4.6.5", "Invalid pathLenConstraint Test5", "InvalidpathLenConstraintTest5EE", .invalid, pl0, pl0CRLs),
        c("4.6.6", "Invalid pathLenConstraint Test6", "InvalidpathLenConstraintTest6EE", .invalid, pl0, pl0CRLs),
        c("4.6.7", "Valid pathLenConstraint Test7", "ValidpathLenConstraintTest7EE", .valid,
          ["pathLenConstraint0CACert"], ["pathLenConstraint0CACRL"]),
        c("4.6.8", "Valid pathLenConstraint Test8", "ValidpathLenConstraintTest8EE", .valid,
          ["pathLenConstraint0CACert"], ["pathLenConstraint0CACRL"]),
        c("4.6.9", "Invalid pathLenConstraint Test9", "InvalidpathLenConstraintTest9EE", .invalid, pl6_00, pl6_00CRLs),
        c("4.6.10", "Invalid pathLenConstraint Test10", "InvalidpathLenConstraintTest10EE", .invalid, pl6_00, pl6_00CRLs),
        c("4.6.11", "Invalid pathLenConstraint Test11", "InvalidpathLenConstraintTest11EE", .invalid, pl6_11, pl6_11CRLs),
        c("4.6.12", "Invalid pathLenConstraint Test12", "InvalidpathLenConstraintTest12EE", .invalid, pl6_11, pl6_11CRLs),
        c("4.6.13", "Valid pathLenConstraint Test13", "ValidpathLenConstraintTest13EE", .valid, pl6_41, pl6_41CRLs),
        c("4.6.14", "Valid pathLenConstraint Test14", "ValidpathLenConstraintTest14EE", .valid, pl6_41, pl6_41CRLs),
        c("4.6.15", "Valid Self-Issued pathLenConstraint Test15", "ValidSelfIssuedpathLenConstraintTest15EE", .valid,
          ["pathLenConstraint0CACert", "pathLenConstraint0SelfIssuedCACert"], ["pathLenConstraint0CACRL"]),
        c("4.6.16", "Invalid Self-Issued pathLenConstraint Test16", "InvalidSelfIssuedpathLenConstraintTest16EE", .invalid,
          ["pathLenConstraint0CACert", "pathLenConstraint0SelfIssuedCACert", "pathLenConstraint0subCA2Cert"],
          ["pathLenConstraint0CACRL", "pathLenConstraint0subCA2CRL"]),
        c("4.6.17", "Valid Self-Issued pathLenConstraint Test17", "ValidSelfIssuedpathLenConstraintTest17EE", .valid,
          ["pathLenConstraint1CACert", "pathLenConstraint1SelfIssuedCACert", "pathLenConstraint1subCACert",
           "pathLenConstraint1SelfIssuedsubCACert"],
          ["pathLenConstraint1CACRL", "pathLenConstraint1subCACRL"]),
    ]

    // MARK: 4.7 Key Usage
    static let keyUsage: [PKITSCase] = [
        c("4.7.1", "Invalid keyUsage Critical keyCertSign False Test1", "InvalidkeyUsageCriticalkeyCertSignFalseTest1EE", .invalid,
          ["keyUsageCriticalkeyCertSignFalseCACert"], ["keyUsageCriticalkeyCertSignFalseCACRL"]),
        c("4.7.2", "Invalid keyUsage Not Critical keyCertSign False Test2", "InvalidkeyUsageNotCriticalkeyCertSignFalseTest2EE",
          .invalid, ["keyUsageNotCriticalkeyCertSignFalseCACert"], ["keyUsageNotCriticalkeyCertSignFalseCACRL"]),
        c("4.7.3", "Valid keyUsage Not Critical Test3", "ValidkeyUsageNotCriticalTest3EE", .valid,
          ["keyUsageNotCriticalCACert"], ["keyUsageNotCriticalCACRL"]),
        c("4.7.4", "Invalid keyUsage Critical cRLSign False Test4", "InvalidkeyUsageCriticalcRLSignFalseTest4EE", .invalid,
          ["keyUsageCriticalcRLSignFalseCACert"], ["keyUsageCriticalcRLSignFalseCACRL"]),
        c("4.7.5", "Invalid keyUsage Not Critical cRLSign False Test5", "InvalidkeyUsageNotCriticalcRLSignFalseTest5EE", .invalid,
          ["keyUsageNotCriticalcRLSignFalseCACert"], ["keyUsageNotCriticalcRLSignFalseCACRL"]),
    ]

    // MARK: 4.8 Certificate Policies
    private static let p2sub = ["GoodCACert", "PoliciesP2subCACert"], p2subCRLs = ["GoodCACRL", "PoliciesP2subCACRL"]
    private static let p1234 = ["PoliciesP1234CACert", "PoliciesP1234subCAP123Cert", "PoliciesP1234subsubCAP123P12Cert"]
    private static let p1234CRLs = ["PoliciesP1234CACRL", "PoliciesP1234subCAP123CRL", "PoliciesP1234subsubCAP123P12CRL"]
    static let certificatePolicies: [PKITSCase] = [
        c("4.8.1", "All Certificates Same Policy Test1", "ValidCertificatePathTest1EE", .valid, good, goodCRL,
          sub: 1, explicit: true),
        c("4.8.1", "All Certificates Same Policy Test1", "ValidCertificatePathTest1EE", .valid, good, goodCRL,
          sub: 2, policies: [P1], explicit: true),
        c("4.8.1", "All Certificates Same Policy Test1", "ValidCertificatePathTest1EE", .invalid, good, goodCRL,
          sub: 3, policies: [P2], explicit: true),
        c("4.8.1", "All Certificates Same Policy Test1", "ValidCertificatePathTest1EE", .valid, good, goodCRL,
          sub: 4, policies: [P1, P2], explicit: true),
        c("4.8.2", "All Certificates No Policies Test2", "AllCertificatesNoPoliciesTest2EE", .valid,
          ["NoPoliciesCACert"], ["NoPoliciesCACRL"], sub: 1, validPolicies: []),
        c("4.8.2", "All Certificates No Policies Test2", "AllCertificatesNoPoliciesTest2EE", .invalid,
          ["NoPoliciesCACert"], ["NoPoliciesCACRL"], sub: 2, explicit: true),
        c("4.8.3", "Different Policies Test3", "DifferentPoliciesTest3EE", .valid, p2sub, p2subCRLs, sub: 1, validPolicies: []),
        c("4.8.3", "Different Policies Test3", "DifferentPoliciesTest3EE", .invalid, p2sub, p2subCRLs, sub: 2, explicit: true),
        c("4.8.3", "Different Policies Test3", "DifferentPoliciesTest3EE", .invalid, p2sub, p2subCRLs,
          sub: 3, policies: [P1, P2], explicit: true),
        c("4.8.4", "Different Policies Test4", "DifferentPoliciesTest4EE", .invalid,
          ["GoodCACert", "GoodsubCACert"], ["GoodCACRL", "GoodsubCACRL"]),
        c("4.8.5", "Different Policies Test5", "DifferentPoliciesTest5EE", .invalid,
          ["GoodCACert", "PoliciesP2subCA2Cert"], ["GoodCACRL", "PoliciesP2subCA2CRL"]),
        c("4.8.6", "Overlapping Policies Test6", "OverlappingPoliciesTest6EE", .valid, p1234, p1234CRLs, sub: 1),
        c("4.8.6", "Overlapping Policies Test6", "OverlappingPoliciesTest6EE", .valid, p1234, p1234CRLs, sub: 2, policies: [P1]),
        c("4.8.6", "Overlapping Policies Test6", "OverlappingPoliciesTest6EE", .invalid, p1234, p1234CRLs, sub: 3, policies: [P2]),
        c("4.8.7", "Different Policies Test7", "DifferentPoliciesTest7EE", .invalid,
          ["PoliciesP123CACert", "PoliciesP123subCAP12Cert", "PoliciesP123subsubCAP12P1Cert"],
          ["PoliciesP123CACRL", "PoliciesP123subCAP12CRL", "PoliciesP123subsubCAP12P1CRL"]),
        c("4.8.8", "Different Policies Test8", "DifferentPoliciesTest8EE", .invalid,
          ["PoliciesP12CACert", "PoliciesP12subCAP1Cert", "PoliciesP12subsubCAP1P2Cert"],
          ["PoliciesP12CACRL", "PoliciesP12subCAP1CRL", "PoliciesP12subsubCAP1P2CRL"]),
        c("4.8.9", "Different Policies Test9", "DifferentPoliciesTest9EE", .invalid,
          ["PoliciesP123CACert", "PoliciesP123subCAP12Cert", "PoliciesP123subsubCAP12P2Cert", "PoliciesP123subsubsubCAP12P2P1Cert"],
          ["PoliciesP123CACRL", "PoliciesP123subCAP12CRL", "PoliciesP123subsubCAP2P2CRL", "PoliciesP123subsubsubCAP12P2P1CRL"]),
        c("4.8.10", "All Certificates Same Policies Test10", "AllCertificatesSamePoliciesTest10EE", .valid,
          ["PoliciesP12CACert"], ["PoliciesP12CACRL"], sub: 1, validPolicies: [P1, P2]),
        c("4.8.10", "All Certificates Same Policies Test10", "AllCertificatesSamePoliciesTest10EE", .valid,
          ["PoliciesP12CACert"], ["PoliciesP12CACRL"], sub: 2, policies: [P1]),
        c("4.8.10", "All Certificates Same Policies Test10", "AllCertificatesSamePoliciesTest10EE", .valid,
          ["PoliciesP12CACert"], ["PoliciesP12CACRL"], sub: 3, policies: [P2], validPolicies: [P2]),
        c("4.8.11", "All Certificates AnyPolicy Test11", "AllCertificatesanyPolicyTest11EE", .valid,
          ["anyPolicyCACert"], ["anyPolicyCACRL"], sub: 1, validPolicies: [anyPolicy]),
        c("4.8.11", "All Certificates AnyPolicy Test11", "AllCertificatesanyPolicyTest11EE", .valid,
          ["anyPolicyCACert"], ["anyPolicyCACRL"], sub: 2, policies: [P1]),
        c("4.8.12", "Different Policies Test12", "DifferentPoliciesTest12EE", .invalid, ["PoliciesP3CACert"], ["PoliciesP3CACRL"]),
        c("4.8.13", "All Certificates Same Policies Test13", "AllCertificatesSamePoliciesTest13EE", .valid,
          ["PoliciesP123CACert"], ["PoliciesP123CACRL"], sub: 1, policies: [P1]),
        c("4.8.13", "All Certificates Same Policies Test13", "AllCertificatesSamePoliciesTest13EE", .valid,
          ["PoliciesP123CACert"], ["PoliciesP123CACRL"], sub: 2, policies: [P2], validPolicies: [P2]),
        c("4.8.13", "All Certificates Same Policies Test13", "AllCertificatesSamePoliciesTest13EE", .valid,
          ["PoliciesP123CACert"], ["PoliciesP123CACRL"], sub: 3, policies: [P3], validPolicies: [P3]),
        c("4.8.14", "AnyPolicy Test14", "AnyPolicyTest14EE", .valid, ["anyPolicyCACert"], ["anyPolicyCACRL"], sub: 1, policies: [P1]),
        c("4.8.14", "AnyPolicy Test14", "AnyPolicyTest14EE", .invalid, ["anyPolicyCACert"], ["anyPolicyCACRL"], sub: 2, policies: [P2]),
        c("4.8.15", "User Notice Qualifier Test15", "UserNoticeQualifierTest15EE", .valid, [], []),
        c("4.8.16", "User Notice Qualifier Test16", "UserNoticeQualifierTest16EE", .valid, good, goodCRL),
        c("4.8.17", "User Notice Qualifier Test17", "UserNoticeQualifierTest17EE", .valid, good, goodCRL),
        c("4.8.18", "User Notice Qualifier Test18", "UserNoticeQualifierTest18EE", .valid,
          ["PoliciesP12CACert"], ["PoliciesP12CACRL"], sub: 1, policies: [P1]),
        c("4.8.18", "User Notice Qualifier Test18", "UserNoticeQualifierTest18EE", .valid,
          ["PoliciesP12CACert"], ["PoliciesP12CACRL"], sub: 2, policies: [P2], validPolicies: [P2]),
        c("4.8.19", "User Notice Qualifier Test19", "UserNoticeQualifierTest19EE", .valid, [], []),
        c("4.8.20", "CPS Pointer Qualifier Test20", "CPSPointerQualifierTest20EE", .valid, good, goodCRL,
          policies: [P1], explicit: true),
    ]

    // MARK: 4.9 Require Explicit Policy
    private static func rep(_ n: String) -> [String] {
        ["requireExplicitPolicy\(n)CACert", "requireExplicitPolicy\(n)subCACert", "requireExplicitPolicy\(n)subsubCACert",
         "requireExplicitPolicy\(n)subsubsubCACert"]
    }
    private static func repCRLs(_ n: String) -> [String] {
        ["requireExplicitPolicy\(n)CACRL", "requireExplicitPolicy\(n)subCACRL", "requireExplicitPolicy\(n)subsubCACRL",
         "requireExplicitPolicy\(n)subsubsubCACRL"]
    }
    static let requireExplicitPolicy: [PKITSCase] = [
        c("4.9.1", "Valid RequireExplicitPolicy Test1", "ValidrequireExplicitPolicyTest1EE", .valid, rep("10"), repCRLs("10"),
          validPolicies: []),
        c("4.9.2", "Valid RequireExplicitPolicy Test2", "ValidrequireExplicitPolicyTest2EE", .valid, rep("5"), repCRLs("5"),
          validPolicies: []),
        c("4.9.3", "Invalid RequireExplicitPolicy Test3", "InvalidrequireExplicitPolicyTest3EE", .invalid, rep("4"), repCRLs("4")),
        c("4.9.4", "Valid RequireExplicitPolicy Test4", "ValidrequireExplicitPolicyTest4EE", .valid, rep("0"), repCRLs("0")),
        c("4.9.5", "Invalid RequireExplicitPolicy Test5", "InvalidrequireExplicitPolicyTest5EE", .invalid,
          ["requireExplicitPolicy7CACert", "requireExplicitPolicy7subCARE2Cert", "requireExplicitPolicy7subsubCARE2RE4Cert",
           "requireExplicitPolicy7subsubsubCARE2RE4Cert"],
          ["requireExplicitPolicy7CACRL", "requireExplicitPolicy7subCARE2CRL", "requireExplicitPolicy7subsubCARE2RE4CRL",
           "requireExplicitPolicy7subsubsubCARE2RE4CRL"]),
        c("4.9.6", "Valid Self-Issued requireExplicitPolicy Test6", "ValidSelfIssuedrequireExplicitPolicyTest6EE", .valid,
          ["requireExplicitPolicy2CACert", "requireExplicitPolicy2SelfIssuedCACert"], ["requireExplicitPolicy2CACRL"],
          validPolicies: []),
        c("4.9.7", "Invalid Self-Issued requireExplicitPolicy Test7", "InvalidSelfIssuedrequireExplicitPolicyTest7EE", .invalid,
          ["requireExplicitPolicy2CACert", "requireExplicitPolicy2SelfIssuedCACert", "requireExplicitPolicy2subCACert"],
          ["requireExplicitPolicy2CACRL", "requireExplicitPolicy2subCACRL"]),
        c("4.9.8", "Invalid Self-Issued requireExplicitPolicy Test8", "InvalidSelfIssuedrequireExplicitPolicyTest8EE", .invalid,
          ["requireExplicitPolicy2CACert", "requireExplicitPolicy2SelfIssuedCACert", "requireExplicitPolicy2subCACert",
           "requireExplicitPolicy2SelfIssuedsubCACert"],
          ["requireExplicitPolicy2CACRL", "requireExplicitPolicy2subCACRL"]),
    ]

    // MARK: 4.10 Policy Mappings
    private static let m12 = ["Mapping1to2CACert"], m12CRLs = ["Mapping1to2CACRL"]
    private static let p12m13 = ["P12Mapping1to3CACert", "P12Mapping1to3subCACert", "P12Mapping1to3subsubCACert"]
    private static let p12m13CRLs = ["P12Mapping1to3CACRL", "P12Mapping1to3subCACRL", "P12Mapping1to3subsubCACRL"]
    private static let p1m1234 = ["P1Mapping1to234CACert", "P1Mapping1to234subCACert"]
    private static let p1m1234CRLs = ["P1Mapping1to234CACRL", "P1Mapping1to234subCACRL"]
    private static let goodsubAny = ["GoodCACert", "GoodsubCAPanyPolicyMapping1to2CACert"]
    private static let goodsubAnyCRLs = ["GoodCACRL", "GoodsubCAPanyPolicyMapping1to2CACRL"]
    static let policyMappings: [PKITSCase] = [
        c("4.10.1", "Valid Policy Mapping Test1", "ValidPolicyMappingTest1EE", .valid, m12, m12CRLs, sub: 1, policies: [P1]),
        c("4.10.1", "Valid Policy Mapping Test1", "ValidPolicyMappingTest1EE", .invalid, m12, m12CRLs, sub: 2, policies: [P2]),
        c("4.10.1", "Valid Policy Mapping Test1", "ValidPolicyMappingTest1EE", .invalid, m12, m12CRLs, sub: 3, inhibitMapping: true),
        c("4.10.2", "Invalid Policy Mapping Test2", "InvalidPolicyMappingTest2EE", .invalid, m12, m12CRLs, sub: 1),
        c("4.10.2", "Invalid Policy Mapping Test2", "InvalidPolicyMappingTest2EE", .invalid, m12, m12CRLs, sub: 2, inhibitMapping: true),
        c("4.10.3", "Valid Policy Mapping Test3", "ValidPolicyMappingTest3EE", .invalid, p12m13, p12m13CRLs, sub: 1, policies: [P1]),
        c("4.10.3", "Valid Policy Mapping Test3", "ValidPolicyMappingTest3EE", .valid, p12m13, p12m13CRLs, sub: 2, policies: [P2],
          validPolicies: [P2]),
        c("4.10.4", "Invalid Policy Mapping Test4", "InvalidPolicyMappingTest4EE", .invalid, p12m13, p12m13CRLs),
        c("4.10.5", "Valid Policy Mapping Test5", "ValidPolicyMappingTest5EE", .valid, p1m1234, p1m1234CRLs, sub: 1, policies: [P1]),
        c("4.10.5", "Valid Policy Mapping Test5", "ValidPolicyMappingTest5EE", .invalid, p1m1234, p1m1234CRLs, sub: 2, policies: [P6]),
        c("4.10.6", "Valid Policy Mapping Test6", "ValidPolicyMappingTest6EE", .valid, p1m1234, p1m1234CRLs, sub: 1, policies: [P1]),
        c("4.10.6", "Valid Policy Mapping Test6", "ValidPolicyMappingTest6EE", .invalid, p1m1234, p1m1234CRLs, sub: 2, policies: [P6]),
        c("4.10.7", "Invalid Mapping From anyPolicy Test7", "InvalidMappingFromanyPolicyTest7EE", .invalid,
          ["MappingFromanyPolicyCACert"], ["MappingFromanyPolicyCACRL"]),
        c("4.10.8", "Invalid Mapping To anyPolicy Test8", "InvalidMappingToanyPolicyTest8EE", .invalid,
          ["MappingToanyPolicyCACert"], ["MappingToanyPolicyCACRL"]),
        c("4.10.9", "Valid Policy Mapping Test9", "ValidPolicyMappingTest9EE", .valid,
          ["PanyPolicyMapping1to2CACert"], ["PanyPolicyMapping1to2CACRL"]),
        c("4.10.10", "Invalid Policy Mapping Test10", "InvalidPolicyMappingTest10EE", .invalid, goodsubAny, goodsubAnyCRLs),
        c("4.10.11", "Valid Policy Mapping Test11", "ValidPolicyMappingTest11EE", .valid, goodsubAny, goodsubAnyCRLs),
        c("4.10.12", "Valid Policy Mapping Test12", "ValidPolicyMappingTest12EE", .valid,
          ["P12Mapping1to3CACert"], ["P12Mapping1to3CACRL"], sub: 1, policies: [P1]),
        c("4.10.12", "Valid Policy Mapping Test12", "ValidPolicyMappingTest12EE", .valid,
          ["P12Mapping1to3CACert"], ["P12Mapping1to3CACRL"], sub: 2, policies: [P2], validPolicies: [P2]),
        c("4.10.13", "Valid Policy Mapping Test13", "ValidPolicyMappingTest13EE", .valid,
          ["P1anyPolicyMapping1to2CACert"], ["P1anyPolicyMapping1to2CACRL"]),
        c("4.10.14", "Valid Policy Mapping Test14", "ValidPolicyMappingTest14EE", .valid,
          ["P1anyPolicyMapping1to2CACert"], ["P1anyPolicyMapping1to2CACRL"]),
    ]

    // MARK: 4.11 Inhibit Policy Mapping
    private static let ipm1P12 = ["inhibitPolicyMapping1P12CACert", "inhibitPolicyMapping1P12subCACert"]
    private static let ipm1P12CRLs = ["inhibitPolicyMapping1P12CACRL", "inhibitPolicyMapping1P12subCACRL"]
    private static let ipm1P1 = ["inhibitPolicyMapping1P1CACert", "inhibitPolicyMapping1P1SelfIssuedCACert",
                                 "inhibitPolicyMapping1P1subCACert"]
    private static let ipm1P1CRLs = ["inhibitPolicyMapping1P1CACRL", "inhibitPolicyMapping1P1subCACRL"]
    static let inhibitPolicyMapping: [PKITSCase] = [
        c("4.11.1", "Invalid inhibitPolicyMapping Test1", "InvalidinhibitPolicyMappingTest1EE", .invalid,
          ["inhibitPolicyMapping0CACert", "inhibitPolicyMapping0subCACert"],
          ["inhibitPolicyMapping0CACRL", "inhibitPolicyMapping0subCACRL"]),
        c("4.11.2", "Valid inhibitPolicyMapping Test2", "ValidinhibitPolicyMappingTest2EE", .valid, ipm1P12, ipm1P12CRLs),
        c("4.11.3", "Invalid inhibitPolicyMapping Test3", "InvalidinhibitPolicyMappingTest3EE", .invalid,
          ipm1P12 + ["inhibitPolicyMapping1P12subsubCACert"], ipm1P12CRLs + ["inhibitPolicyMapping1P12subsubCACRL"]),
        c("4.11.4", "Valid inhibitPolicyMapping Test4", "ValidinhibitPolicyMappingTest4EE", .valid,
          ipm1P12 + ["inhibitPolicyMapping1P12subsubCACert"], ipm1P12CRLs + ["inhibitPolicyMapping1P12subsubCACRL"],
          validPolicies: [P2]),
        c("4.11.5", "Invalid inhibitPolicyMapping Test5", "InvalidinhibitPolicyMappingTest5EE", .invalid,
          ["inhibitPolicyMapping5CACert", "inhibitPolicyMapping5subCACert", "inhibitPolicyMapping5subsubCACert",
           "inhibitPolicyMapping5subsubsubCACert"],
          ["inhibitPolicyMapping5CACRL", "inhibitPolicyMapping5subCACRL", "inhibitPolicyMapping5subsubCACRL",
           "inhibitPolicyMapping5subsubsubCACRL"]),
        c("4.11.6", "Invalid inhibitPolicyMapping Test6", "InvalidinhibitPolicyMappingTest6EE", .invalid,
          ["inhibitPolicyMapping1P12CACert", "inhibitPolicyMapping1P12subCAIPM5Cert", "inhibitPolicyMapping1P12subsubCAIPM5Cert"],
          ["inhibitPolicyMapping1P12CACRL", "inhibitPolicyMapping1P12subCAIPM5CRL", "inhibitPolicyMapping1P12subsubCAIPM5CRL"]),
        c("4.11.7", "Valid Self-Issued inhibitPolicyMapping Test7", "ValidSelfIssuedinhibitPolicyMappingTest7EE", .valid,
          ipm1P1, ipm1P1CRLs),
        c("4.11.8", "Invalid Self-Issued inhibitPolicyMapping Test8", "InvalidSelfIssuedinhibitPolicyMappingTest8EE", .invalid,
          ipm1P1 + ["inhibitPolicyMapping1P1subsubCACert"], ipm1P1CRLs + ["inhibitPolicyMapping1P1subsubCACRL"]),
        c("4.11.9", "Invalid Self-Issued inhibitPolicyMapping Test9", "InvalidSelfIssuedinhibitPolicyMappingTest9EE", .invalid,
          ipm1P1 + ["inhibitPolicyMapping1P1subsubCACert"], ipm1P1CRLs + ["inhibitPolicyMapping1P1subsubCACRL"]),
        c("4.11.10", "Invalid Self-Issued inhibitPolicyMapping Test10", "InvalidSelfIssuedinhibitPolicyMappingTest10EE", .invalid,
          ipm1P1 + ["inhibitPolicyMapping1P1SelfIssuedsubCACert"], ipm1P1CRLs),
        c("4.11.11", "Invalid Self-Issued inhibitPolicyMapping Test11", "InvalidSelfIssuedinhibitPolicyMappingTest11EE", .invalid,
          ipm1P1 + ["inhibitPolicyMapping1P1SelfIssuedsubCACert"], ipm1P1CRLs),
    ]

    // MARK: 4.12 Inhibit Any Policy
    private static let iap1 = ["inhibitAnyPolicy1CACert", "inhibitAnyPolicy1subCA1Cert"]
    private static let iap1CRLs = ["inhibitAnyPolicy1CACRL", "inhibitAnyPolicy1subCA1CRL"]
    private static let iap1si = ["inhibitAnyPolicy1CACert", "inhibitAnyPolicy1SelfIssuedCACert", "inhibitAnyPolicy1subCA2Cert"]
    private static let iap1siCRLs = ["inhibitAnyPolicy1CACRL", "inhibitAnyPolicy1subCA2CRL"]
    static let inhibitAnyPolicy: [PKITSCase] = [
        c("4.12.1", "Invalid inhibitAnyPolicy Test1", "InvalidinhibitAnyPolicyTest1EE", .invalid,
          ["inhibitAnyPolicy0CACert"], ["inhibitAnyPolicy0CACRL"]),
        c("4.12.2", "Valid inhibitAnyPolicy Test2", "ValidinhibitAnyPolicyTest2EE", .valid,
          ["inhibitAnyPolicy0CACert"], ["inhibitAnyPolicy0CACRL"]),
        c("4.12.3", "inhibitAnyPolicy Test3", "inhibitAnyPolicyTest3EE", .valid, iap1, iap1CRLs, sub: 1),
        c("4.12.3", "inhibitAnyPolicy Test3", "inhibitAnyPolicyTest3EE", .invalid, iap1, iap1CRLs, sub: 2, inhibitAny: true),
        c("4.12.4", "Invalid inhibitAnyPolicy Test4", "InvalidinhibitAnyPolicyTest4EE", .invalid, iap1, iap1CRLs),
        c("4.12.5", "Invalid inhibitAnyPolicy Test5", "InvalidinhibitAnyPolicyTest5EE", .invalid,
          ["inhibitAnyPolicy5CACert", "inhibitAnyPolicy5subCACert", "inhibitAnyPolicy5subsubCACert"],
          ["inhibitAnyPolicy5CACRL", "inhibitAnyPolicy5subCACRL", "inhibitAnyPolicy5subsubCACRL"]),
        c("4.12.6", "Invalid inhibitAnyPolicy Test6", "InvalidinhibitAnyPolicyTest6EE", .invalid,
          ["inhibitAnyPolicy1CACert", "inhibitAnyPolicy1subCAIAP5Cert"], ["inhibitAnyPolicy1CACRL", "inhibitAnyPolicy1subCAIAP5CRL"]),
        c("4.12.7", "Valid Self-Issued inhibitAnyPolicy Test7", "ValidSelfIssuedinhibitAnyPolicyTest7EE", .valid, iap1si, iap1siCRLs),
        c("4.12.8", "Invalid Self-Issued inhibitAnyPolicy Test8", "InvalidSelfIssuedinhibitAnyPolicyTest8EE", .invalid,
          iap1si + ["inhibitAnyPolicy1subsubCA2Cert"], iap1siCRLs + ["inhibitAnyPolicy1subsubCA2CRL"]),
        c("4.12.9", "Valid Self-Issued inhibitAnyPolicy Test9", "ValidSelfIssuedinhibitAnyPolicyTest9EE", .valid,
          iap1si + ["inhibitAnyPolicy1SelfIssuedsubCA2Cert"], iap1siCRLs),
        c("4.12.10", "Invalid Self-Issued inhibitAnyPolicy Test10", "InvalidSelfIssuedinhibitAnyPolicyTest10EE", .invalid,
          iap1si, iap1siCRLs),
    ]
}
