import ETrustCore
import Foundation

/// ETSI TS 119 612 v2 trusted lists: the names and URIs, and the mapping to etrust's list.
public enum ETSI {
    public static let tsl = "http://uri.etsi.org/02231/v2#"
    public static let ds = "http://www.w3.org/2000/09/xmldsig#"
    public static let xades = "http://uri.etsi.org/01903/v1.3.2#"
    public static let ecc = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
    public static let tslTag = "http://uri.etsi.org/19612/TSLTag"
    public static let statusPrefix = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
    public static let serviceTypePrefix = "http://uri.etsi.org/TrstSvc/Svctype/"
    public static let qualifierPrefix = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
    /// eIDAS levels of assurance (Implementing Regulation (EU) 2015/1502) as qualifier URIs.
    public static let loaPrefix = "http://eidas.europa.eu/LoA/"
    public static let ocspSupplyPoint = "http://uri.etsi.org/TrstSvc/Svctype/Certstatus/OCSP"
    public static let crlSupplyPoint = "http://uri.etsi.org/TrstSvc/Svctype/Certstatus/CRL"
    public static let signedPropertiesType = "http://uri.etsi.org/01903#SignedProperties"
    public static let envelopedTransform = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    public static let excC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    public static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"

    /// The CA service types etrust reads; other services (TSA, OCSP, ...) are skipped.
    public static let caServiceTypes = ["CA/QC", "CA/PKC", "NationalRootCA-QC"].map { serviceTypePrefix + $0 }

    /// etrust status -> ETSI status URI.
    public static func statusURI(_ status: String) -> String {
        switch status {
        case "withdrawn": statusPrefix + "withdrawn"
        case "suspended": statusPrefix + "supervisionincessation"
        default: statusPrefix + "granted"
        }
    }

    /// ETSI status URI (v2 and the v1 statuses still found in lists) -> etrust status.
    public static func status(_ uri: String) -> String? {
        guard uri.hasPrefix(statusPrefix) else { return nil }
        switch String(uri.dropFirst(statusPrefix.count)) {
        case "granted", "recognisedatnationallevel", "accredited", "undersupervision", "setbynationallaw": return "granted"
        case "withdrawn", "deprecatedatnationallevel", "deprecatedbynationallaw", "supervisionceased", "supervisionrevoked",
             "accreditationceased", "accreditationrevoked": return "withdrawn"
        case "supervisionincessation": return "suspended"
        default: return nil
        }
    }

    /// A qualifier URI -> the assurance level it stands for (nil: it says nothing of levels).
    public static func level(ofQualifier uri: String) -> AssuranceLevel? {
        if uri.hasPrefix(loaPrefix) { return AssuranceLevel(rawValue: String(uri.dropFirst(loaPrefix.count))) }
        guard uri.hasPrefix(qualifierPrefix) else { return nil }
        switch String(uri.dropFirst(qualifierPrefix.count)) {
        case "QCWithQSCD", "QCWithSSCD": return .high
        case "QCNoQSCD", "QCNoSSCD", "QCQSCDStatusAsInCert", "QCSSCDStatusAsInCert", "QCStatement": return .substantial
        default: return nil
        }
    }

    /// The service type of an authority: its own, else CA/QC for a list entry with a high level.
    public static func serviceType(_ a: TrustList.Authority) -> String {
        a.serviceType ?? serviceTypePrefix + (a.levels.contains { $0.level == AssuranceLevel.high.rawValue } ? "CA/QC" : "CA/PKC")
    }
}

/// Writes an etrust trust list as a TS 119 612 TrustServiceStatusList with a ds:Signature
/// template (XMLDSig enveloped, XAdES-BES SignedProperties) for xmlsec1 to fill in.
public struct ETSITrustListWriter {
    public var list: TrustList
    public var schemeOperator: String
    public var territory: String
    public var signer: Certificate
    public var signingTime: Date

    public init(list: TrustList, schemeOperator: String, territory: String, signer: Certificate, signingTime: Date) {
        self.list = list; self.schemeOperator = schemeOperator; self.territory = territory; self.signer = signer; self.signingTime = signingTime
    }

    public func template() throws -> [UInt8] {
        var x = XMLText()
        x.line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        x.open("tsl:TrustServiceStatusList", ["xmlns:tsl": ETSI.tsl, "xmlns:ds": ETSI.ds, "xmlns:xades": ETSI.xades,
                                              "xmlns:ecc": ETSI.ecc, "Id": "tsl", "TSLTag": ETSI.tslTag])
        schemeInformation(&x)
        x.open("tsl:TrustServiceProviderList")
        for a in list.authorities { try provider(a, &x) }
        x.close("tsl:TrustServiceProviderList")
        signatureTemplate(&x)
        x.close("tsl:TrustServiceStatusList")
        return Array(x.text.utf8)
    }

    private func schemeInformation(_ x: inout XMLText) {
        x.open("tsl:SchemeInformation")
        x.leaf("tsl:TSLVersionIdentifier", "5")
        x.leaf("tsl:TSLSequenceNumber", String(list.sequence))
        x.leaf("tsl:TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/\(territory)list")
        x.open("tsl:SchemeOperatorName"); x.leaf("tsl:Name", schemeOperator, ["xml:lang": "en"]); x.close("tsl:SchemeOperatorName")
        x.open("tsl:SchemeName"); x.leaf("tsl:Name", "\(territory):\(list.name)", ["xml:lang": "en"]); x.close("tsl:SchemeName")
        x.leaf("tsl:StatusDeterminationApproach", "http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/\(territory)determination")
        x.leaf("tsl:SchemeTerritory", territory)
        x.leaf("tsl:HistoricalInformationPeriod", "65535")
        x.leaf("tsl:ListIssueDateTime", list.issued)
        x.open("tsl:NextUpdate"); x.leaf("tsl:dateTime", list.nextUpdate); x.close("tsl:NextUpdate")
        x.close("tsl:SchemeInformation")
    }

    private func provider(_ a: TrustList.Authority, _ x: inout XMLText) throws {
        x.open("tsl:TrustServiceProvider")
        x.open("tsl:TSPInformation")
        x.open("tsl:TSPName"); x.leaf("tsl:Name", a.name, ["xml:lang": "en"]); x.close("tsl:TSPName")
        x.open("tsl:TSPAddress"); x.open("tsl:PostalAddresses"); x.open("tsl:PostalAddress", ["xml:lang": "en"])
        x.leaf("tsl:CountryName", a.country)
        x.close("tsl:PostalAddress"); x.close("tsl:PostalAddresses"); x.close("tsl:TSPAddress")
        x.close("tsl:TSPInformation")
        x.open("tsl:TSPServices"); x.open("tsl:TSPService")
        let current = a.history.last { $0.status == a.status }?.since ?? list.issued
        x.open("tsl:ServiceInformation")
        serviceCore(a, status: a.status, since: current, &x)
        supplyPoints(a, &x)
        extensions(a, &x)
        x.close("tsl:ServiceInformation")
        let earlier = Array(a.history.prefix { !($0.status == a.status && $0.since == current) }.reversed())
        if !earlier.isEmpty {
            x.open("tsl:ServiceHistory")
            for h in earlier { x.open("tsl:ServiceHistoryInstance"); serviceCore(a, status: h.status, since: h.since, &x); x.close("tsl:ServiceHistoryInstance") }
            x.close("tsl:ServiceHistory")
        }
        x.close("tsl:TSPService"); x.close("tsl:TSPServices")
        x.close("tsl:TrustServiceProvider")
    }

    private func serviceCore(_ a: TrustList.Authority, status: String, since: String, _ x: inout XMLText) {
        x.leaf("tsl:ServiceTypeIdentifier", ETSI.serviceType(a))
        x.open("tsl:ServiceName"); x.leaf("tsl:Name", a.name, ["xml:lang": "en"]); x.close("tsl:ServiceName")
        x.open("tsl:ServiceDigitalIdentity"); x.open("tsl:DigitalId"); x.leaf("tsl:X509Certificate", a.certificate)
        x.close("tsl:DigitalId"); x.close("tsl:ServiceDigitalIdentity")
        x.leaf("tsl:ServiceStatus", ETSI.statusURI(status))
        x.leaf("tsl:StatusStartingTime", since)
    }

    private func supplyPoints(_ a: TrustList.Authority, _ x: inout XMLText) {
        let points = (a.services.ocsp ?? []).map { ($0, ETSI.ocspSupplyPoint) } + (a.services.crl ?? []).map { ($0, ETSI.crlSupplyPoint) }
        guard !points.isEmpty else { return }
        x.open("tsl:ServiceSupplyPoints")
        for (url, type) in points { x.leaf("tsl:ServiceSupplyPoint", url, ["type": type]) }
        x.close("tsl:ServiceSupplyPoints")
    }

    /// Qualifications (one QualificationElement per level: its LoA qualifier over its policy
    /// OIDs) and the AdditionalServiceInformation URIs.
    private func extensions(_ a: TrustList.Authority, _ x: inout XMLText) {
        let info = a.additionalInformation ?? []
        guard !a.levels.isEmpty || !info.isEmpty else { return }
        x.open("tsl:ServiceInformationExtensions")
        for uri in info {
            x.open("tsl:Extension", ["Critical": "false"]); x.open("tsl:AdditionalServiceInformation")
            x.leaf("tsl:URI", uri, ["xml:lang": "en"])
            x.close("tsl:AdditionalServiceInformation"); x.close("tsl:Extension")
        }
        if !a.levels.isEmpty {
            x.open("tsl:Extension", ["Critical": "true"]); x.open("ecc:Qualifications")
            for l in a.levels {
                x.open("ecc:QualificationElement")
                x.open("ecc:Qualifiers"); x.leaf("ecc:Qualifier", nil, ["uri": ETSI.loaPrefix + l.level]); x.close("ecc:Qualifiers")
                x.open("ecc:CriteriaList", ["assert": "atLeastOne"])
                for p in l.policies {
                    x.open("ecc:PolicySet"); x.open("ecc:PolicyIdentifier")
                    x.leaf("xades:Identifier", "urn:oid:\(p)", ["Qualifier": "OIDAsURN"])
                    x.close("ecc:PolicyIdentifier"); x.close("ecc:PolicySet")
                }
                x.close("ecc:CriteriaList")
                x.close("ecc:QualificationElement")
            }
            x.close("ecc:Qualifications"); x.close("tsl:Extension")
        }
        x.close("tsl:ServiceInformationExtensions")
    }
}
