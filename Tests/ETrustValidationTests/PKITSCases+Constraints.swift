import Testing

/// PKITS 4.13-4.16 (the table continues from PKITSCases.swift).
extension PKITSCases {
    // MARK: 4.13 Name Constraints
    /// A name-constraints CA: "nameConstraintsX" -> (["nameConstraintsXCert"], ["nameConstraintsXCRL"]).
    private static func nc(_ ca: String) -> [String] { ["nameConstraints\(ca)Cert"] }
    private static func ncCRL(_ ca: String) -> [String] { ["nameConstraints\(ca)CRL"] }
    private static func ncSub(_ ca: String, _ sub: String) -> [String] { ["nameConstraints\(ca)CACert", "nameConstraints\(ca)\(sub)Cert"] }
    private static func ncSubCRLs(_ ca: String, _ sub: String) -> [String] { ["nameConstraints\(ca)CACRL", "nameConstraints\(ca)\(sub)CRL"] }
    static let nameConstraints: [PKITSCase] = [
        c("4.13.1", "Valid DN nameConstraints Test1", "ValidDNnameConstraintsTest1EE", .valid, nc("DN1CA"), ncCRL("DN1CA")),
        c("4.13.2", "Invalid DN nameConstraints Test2", "InvalidDNnameConstraintsTest2EE", .invalid, nc("DN1CA"), ncCRL("DN1CA")),
        c("4.13.3", "Invalid DN nameConstraints Test3", "InvalidDNnameConstraintsTest3EE", .invalid, nc("DN1CA"), ncCRL("DN1CA")),
        c("4.13.4", "Valid DN nameConstraints Test4", "ValidDNnameConstraintsTest4EE", .valid, nc("DN1CA"), ncCRL("DN1CA")),
        c("4.13.5", "Valid DN nameConstraints Test5", "ValidDNnameConstraintsTest5EE", .valid, nc("DN2CA"), ncCRL("DN2CA")),
        c("4.13.6", "Valid DN nameConstraints Test6", "ValidDNnameConstraintsTest6EE", .valid, nc("DN3CA"), ncCRL("DN3CA")),
        c("4.13.7", "Invalid DN nameConstraints Test7", "InvalidDNnameConstraintsTest7EE", .invalid, nc("DN3CA"), ncCRL("DN3CA")),
        c("4.13.8", "Invalid DN nameConstraints Test8", "InvalidDNnameConstraintsTest8EE", .invalid, nc("DN4CA"), ncCRL("DN4CA")),
        c("4.13.9", "Invalid DN nameConstraints Test9", "InvalidDNnameConstraintsTest9EE", .invalid, nc("DN4CA"), ncCRL("DN4CA")),
        c("4.13.10", "Invalid DN nameConstraints Test10", "InvalidDNnameConstraintsTest10EE", .invalid, nc("DN5CA"), ncCRL("DN5CA")),
        c("4.13.11", "Valid DN nameConstraints Test11", "ValidDNnameConstraintsTest11EE", .valid, nc("DN5CA"), ncCRL("DN5CA")),
        c("4.13.12", "Invalid DN nameConstraints Test12", "InvalidDNnameConstraintsTest12EE", .invalid,
          ncSub("DN1", "subCA1"), ncSubCRLs("DN1", "subCA1")),
        c("4.13.13", "Invalid DN nameConstraints Test13", "InvalidDNnameConstraintsTest13EE", .invalid,
          ncSub("DN1", "subCA2"), ncSubCRLs("DN1", "subCA2")),
        c("4.13.14", "Valid DN nameConstraints Test14", "ValidDNnameConstraintsTest14EE", .valid,
          ncSub("DN1", "subCA2"), ncSubCRLs("DN1", "subCA2")),
        c("4.13.15", "Invalid DN nameConstraints Test15", "InvalidDNnameConstraintsTest15EE", .invalid,
          ncSub("DN3", "subCA1"), ncSubCRLs("DN3", "subCA1")),
        c("4.13.16", "Invalid DN nameConstraints Test16", "InvalidDNnameConstraintsTest16EE", .invalid,
          ncSub("DN3", "subCA1"), ncSubCRLs("DN3", "subCA1")),
        c("4.13.17", "Invalid DN nameConstraints Test17", "InvalidDNnameConstraintsTest17EE", .invalid,
          ncSub("DN3", "subCA2"), ncSubCRLs("DN3", "subCA2")),
        c("4.13.18", "Valid DN nameConstraints Test18", "ValidDNnameConstraintsTest18EE", .valid,
          ncSub("DN3", "subCA2"), ncSubCRLs("DN3", "subCA2")),
        c("4.13.19", "Valid Self-Issued DN nameConstraints Test19", "ValidDNnameConstraintsTest19EE", .valid,
          ["nameConstraintsDN1CACert", "nameConstraintsDN1SelfIssuedCACert"], ncCRL("DN1CA")),
        c("4.13.20", "Invalid Self-Issued DN nameConstraints Test20", "InvalidDNnameConstraintsTest20EE", .invalid,
          nc("DN1CA"), ncCRL("DN1CA")),
        c("4.13.21", "Valid RFC822 nameConstraints Test21", "ValidRFC822nameConstraintsTest21EE", .valid, nc("RFC822CA1"), ncCRL("RFC822CA1")),
        c("4.13.22", "Invalid RFC822 nameConstraints Test22", "InvalidRFC822nameConstraintsTest22EE", .invalid,
          nc("RFC822CA1"), ncCRL("RFC822CA1")),
        c("4.13.23", "Valid RFC822 nameConstraints Test23", "ValidRFC822nameConstraintsTest23EE", .valid, nc("RFC822CA2"), ncCRL("RFC822CA2")),
        c("4.13.24", "Invalid RFC822 nameConstraints Test24", "InvalidRFC822nameConstraintsTest24EE", .invalid,
          nc("RFC822CA2"), ncCRL("RFC822CA2")),
        c("4.13.25", "Valid RFC822 nameConstraints Test25", "ValidRFC822nameConstraintsTest25EE", .valid, nc("RFC822CA3"), ncCRL("RFC822CA3")),
        c("4.13.26", "Invalid RFC822 nameConstraints Test26", "InvalidRFC822nameConstraintsTest26EE", .invalid,
          nc("RFC822CA3"), ncCRL("RFC822CA3")),
        c("4.13.27", "Valid DN and RFC822 nameConstraints Test27", "ValidDNandRFC822nameConstraintsTest27EE", .valid,
          ncSub("DN1", "subCA3"), ncSubCRLs("DN1", "subCA3")),
        c("4.13.28", "Invalid DN and RFC822 nameConstraints Test28", "InvalidDNandRFC822nameConstraintsTest28EE", .invalid,
          ncSub("DN1", "subCA3"), ncSubCRLs("DN1", "subCA3")),
        c("4.13.29", "Invalid DN and RFC822 nameConstraints Test29", "InvalidDNandRFC822nameConstraintsTest29EE", .invalid,
          ncSub("DN1", "subCA3"), ncSubCRLs("DN1", "subCA3")),
        c("4.13.30", "Valid DNS nameConstraints Test30", "ValidDNSnameConstraintsTest30EE", .valid, nc("DNS1CA"), ncCRL("DNS1CA")),
        c("4.13.31", "Invalid DNS nameConstraints Test31", "InvalidDNSnameConstraintsTest31EE", .invalid, nc("DNS1CA"), ncCRL("DNS1CA")),
        c("4.13.32", "Valid DNS nameConstraints Test32", "ValidDNSnameConstraintsTest32EE", .valid, nc("DNS2CA"), ncCRL("DNS2CA")),
        c("4.13.33", "Invalid DNS nameConstraints Test33", "InvalidDNSnameConstraintsTest33EE", .invalid, nc("DNS2CA"), ncCRL("DNS2CA")),
        c("4.13.34", "Valid URI nameConstraints Test34", "ValidURInameConstraintsTest34EE", .valid, nc("URI1CA"), ncCRL("URI1CA")),
        c("4.13.35", "Invalid URI nameConstraints Test35", "InvalidURInameConstraintsTest35EE", .invalid, nc("URI1CA"), ncCRL("URI1CA")),
        c("4.13.36", "Valid URI nameConstraints Test36", "ValidURInameConstraintsTest36EE", .valid, nc("URI2CA"), ncCRL("URI2CA")),
        c("4.13.37", "Invalid URI nameConstraints Test37", "InvalidURInameConstraintsTest37EE", .invalid, nc("URI2CA"), ncCRL("URI2CA")),
        c("4.13.38", "Invalid DNS nameConstraints Test38", "InvalidDNSnameConstraintsTest38EE", .invalid, nc("DNS1CA"), ncCRL("DNS1CA")),
    ]

    // MARK: 4.14 Distribution Points
    private static let dp1 = ["distributionPoint1CACert"], dp1CRL = ["distributionPoint1CACRL"]
    private static let dp2 = ["distributionPoint2CACert"], dp2CRL = ["distributionPoint2CACRL"]
    private static let osr1CRLs = ["onlySomeReasonsCA1compromiseCRL", "onlySomeReasonsCA1otherreasonsCRL"]
    private static let osr4CRLs = ["onlySomeReasonsCA4compromiseCRL", "onlySomeReasonsCA4otherreasonsCRL"]
    private static let ind2 = ["indirectCRLCA2Cert", "indirectCRLCA1Cert"]
    private static let ind3 = ["indirectCRLCA3Cert", "indirectCRLCA3cRLIssuerCert"]
    private static let ind3CRLs = ["indirectCRLCA3CRL", "indirectCRLCA3cRLIssuerCRL"]
    private static let ind56 = ["indirectCRLCA5Cert", "indirectCRLCA6Cert"]
    static let distributionPoints: [PKITSCase] = [
        c("4.14.1", "Valid distributionPoint Test1", "ValiddistributionPointTest1EE", .valid, dp1, dp1CRL),
        c("4.14.2", "Invalid distributionPoint Test2", "InvaliddistributionPointTest2EE", .invalid, dp1, dp1CRL),
        c("4.14.3", "Invalid distributionPoint Test3", "InvaliddistributionPointTest3EE", .invalid, dp1, dp1CRL),
        c("4.14.4", "Valid distributionPoint Test4", "ValiddistributionPointTest4EE", .valid, dp1, dp1CRL),
        c("4.14.5", "Valid distributionPoint Test5", "ValiddistributionPointTest5EE", .valid, dp2, dp2CRL),
        c("4.14.6", "Invalid distributionPoint Test6", "InvaliddistributionPointTest6EE", .invalid, dp2, dp2CRL),
        c("4.14.7", "Valid distributionPoint Test7", "ValiddistributionPointTest7EE", .valid, dp2, dp2CRL),
        c("4.14.8", "Invalid distributionPoint Test8", "InvaliddistributionPointTest8EE", .invalid, dp2, dp2CRL),
        c("4.14.9", "Invalid distributionPoint Test9", "InvaliddistributionPointTest9EE", .invalid, dp2, dp2CRL),
        c("4.14.10", "Valid No issuingDistributionPoint Test10", "ValidNoissuingDistributionPointTest10EE", .valid,
          ["NoissuingDistributionPointCACert"], ["NoissuingDistributionPointCACRL"]),
        c("4.14.11", "Invalid onlyContainsUserCerts CRL Test11", "InvalidonlyContainsUserCertsTest11EE", .invalid,
          ["onlyContainsUserCertsCACert"], ["onlyContainsUserCertsCACRL"]),
        c("4.14.12", "Invalid onlyContainsCACerts CRL Test12", "InvalidonlyContainsCACertsTest12EE", .invalid,
          ["onlyContainsCACertsCACert"], ["onlyContainsCACertsCACRL"]),
        c("4.14.13", "Valid onlyContainsCACerts CRL Test13", "ValidonlyContainsCACertsTest13EE", .valid,
          ["onlyContainsCACertsCACert"], ["onlyContainsCACertsCACRL"]),
        c("4.14.14", "Invalid onlyContainsAttributeCerts Test14", "InvalidonlyContainsAttributeCertsTest14EE", .invalid,
          ["onlyContainsAttributeCertsCACert"], ["onlyContainsAttributeCertsCACRL"]),
        c("4.14.15", "Invalid onlySomeReasons Test15", "InvalidonlySomeReasonsTest15EE", .invalid, ["onlySomeReasonsCA1Cert"], osr1CRLs),
        c("4.14.16", "Invalid onlySomeReasons Test16", "InvalidonlySomeReasonsTest16EE", .invalid, ["onlySomeReasonsCA1Cert"], osr1CRLs),
        c("4.14.17", "Invalid onlySomeReasons Test17", "InvalidonlySomeReasonsTest17EE", .invalid,
          ["onlySomeReasonsCA2Cert"], ["onlySomeReasonsCA2CRL1", "onlySomeReasonsCA2CRL2"]),
        c("4.14.18", "Valid onlySomeReasons Test18", "ValidonlySomeReasonsTest18EE", .valid,
          ["onlySomeReasonsCA3Cert"], ["onlySomeReasonsCA3compromiseCRL", "onlySomeReasonsCA3otherreasonsCRL"]),
        c("4.14.19", "Valid onlySomeReasons Test19", "ValidonlySomeReasonsTest19EE", .valid, ["onlySomeReasonsCA4Cert"], osr4CRLs),
        c("4.14.20", "Invalid onlySomeReasons Test20", "InvalidonlySomeReasonsTest20EE", .invalid, ["onlySomeReasonsCA4Cert"], osr4CRLs),
        c("4.14.21", "Invalid onlySomeReasons Test21", "InvalidonlySomeReasonsTest21EE", .invalid, ["onlySomeReasonsCA4Cert"], osr4CRLs),
        c("4.14.22", "Valid IDP with indirectCRL Test22", "ValidIDPwithindirectCRLTest22EE", .valid,
          ["indirectCRLCA1Cert"], ["indirectCRLCA1CRL"]),
        c("4.14.23", "Invalid IDP with indirectCRL Test23", "InvalidIDPwithindirectCRLTest23EE", .invalid,
          ["indirectCRLCA1Cert"], ["indirectCRLCA1CRL"]),
        c("4.14.24", "Valid IDP with indirectCRL Test24", "ValidIDPwithindirectCRLTest24EE", .valid, ind2, ["indirectCRLCA1CRL"]),
        c("4.14.25", "Valid IDP with indirectCRL Test25", "ValidIDPwithindirectCRLTest25EE", .valid, ind2, ["indirectCRLCA1CRL"]),
        c("4.14.26", "Invalid IDP with indirectCRL Test26", "InvalidIDPwithindirectCRLTest26EE", .invalid, ind2, ["indirectCRLCA1CRL"]),
        c("4.14.27", "Invalid cRLIssuer Test27", "InvalidcRLIssuerTest27EE", .invalid, ["indirectCRLCA2Cert", "GoodCACert"], goodCRL),
        c("4.14.28", "Valid cRLIssuer Test28", "ValidcRLIssuerTest28EE", .valid, ind3, ind3CRLs),
        c("4.14.29", "Valid cRLIssuer Test29", "ValidcRLIssuerTest29EE", .valid, ind3, ind3CRLs),
        c("4.14.30", "Valid cRLIssuer Test30", "ValidcRLIssuerTest30EE", .valid,
          ["indirectCRLCA4Cert", "indirectCRLCA4cRLIssuerCert"], ["indirectCRLCA4cRLIssuerCRL"]),
        c("4.14.31", "Invalid cRLIssuer Test31", "InvalidcRLIssuerTest31EE", .invalid, ind56, ["indirectCRLCA5CRL"]),
        c("4.14.32", "Invalid cRLIssuer Test32", "InvalidcRLIssuerTest32EE", .invalid, ind56, ["indirectCRLCA5CRL"]),
        c("4.14.33", "Valid cRLIssuer Test33", "ValidcRLIssuerTest33EE", .valid, ind56, ["indirectCRLCA5CRL"]),
        c("4.14.34", "Invalid cRLIssuer Test34", "InvalidcRLIssuerTest34EE", .invalid, ["indirectCRLCA5Cert"], ["indirectCRLCA5CRL"]),
        c("4.14.35", "Invalid cRLIssuer Test35", "InvalidcRLIssuerTest35EE", .invalid, ["indirectCRLCA5Cert"], ["indirectCRLCA5CRL"]),
    ]

    // MARK: 4.15 Delta-CRLs
    private static let d1 = ["deltaCRLCA1Cert"], d1CRLs = ["deltaCRLCA1CRL", "deltaCRLCA1deltaCRL"]
    private static let d2 = ["deltaCRLCA2Cert"], d2CRLs = ["deltaCRLCA2CRL", "deltaCRLCA2deltaCRL"]
    static let deltaCRLs: [PKITSCase] = [
        c("4.15.1", "Invalid deltaCRLIndicator No Base Test1", "InvaliddeltaCRLIndicatorNoBaseTest1EE", .invalid,
          ["deltaCRLIndicatorNoBaseCACert"], ["deltaCRLIndicatorNoBaseCACRL"]),
        c("4.15.2", "Valid delta-CRL Test2", "ValiddeltaCRLTest2EE", .valid, d1, d1CRLs),
        c("4.15.3", "Invalid delta-CRL Test3", "InvaliddeltaCRLTest3EE", .invalid, d1, d1CRLs),
        c("4.15.4", "Invalid delta-CRL Test4", "InvaliddeltaCRLTest4EE", .invalid, d1, d1CRLs),
        c("4.15.5", "Valid delta-CRL Test5", "ValiddeltaCRLTest5EE", .valid, d1, d1CRLs),
        c("4.15.6", "Invalid delta-CRL Test6", "InvaliddeltaCRLTest6EE", .invalid, d1, d1CRLs),
        c("4.15.7", "Valid delta-CRL Test7", "ValiddeltaCRLTest7EE", .valid, d1, d1CRLs),
        c("4.15.8", "Valid delta-CRL Test8", "ValiddeltaCRLTest8EE", .valid, d2, d2CRLs),
        c("4.15.9", "Invalid delta-CRL Test9", "InvaliddeltaCRLTest9EE", .invalid, d2, d2CRLs),
        c("4.15.10", "Invalid delta-CRL Test10", "InvaliddeltaCRLTest10EE", .invalid,
          ["deltaCRLCA3Cert"], ["deltaCRLCA3CRL", "deltaCRLCA3deltaCRL"]),
    ]

    // MARK: 4.16 Private Certificate Extensions
    static let privateExtensions: [PKITSCase] = [
        c("4.16.1", "Valid Unknown Not Critical Certificate Extension Test1", "ValidUnknownNotCriticalCertificateExtensionTest1EE",
          .valid, [], []),
        c("4.16.2", "Invalid Unknown Critical Certificate Extension Test2", "InvalidUnknownCriticalCertificateExtensionTest2EE",
          .invalid, [], []),
    ]

    /// Cases etrust still gets wrong, by id, with the reason. Up to the first ":" is how etrust
    /// fails now (the JSON errorCode, or "exit N" when it prints no verdict); the test checks that
    /// each still fails that way, so that a fix shows up as an out-of-date entry here.
    ///
    /// None: `openssl verify -crl_check_all -extended_crl -use_deltas -policy_check` (OpenSSL 3.0)
    /// fails 4.1.5 and 4.14.30, which etrust completes in Swift: DSA parameter inheritance
    /// (DSAInheritance) and the CRL issuer whose certificate only its own indirect CRL covers
    /// (Leniency).
    static let knownFailures: [String: String] = [:]
}

