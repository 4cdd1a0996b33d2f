import ETrustCore
import Foundation

extension ETSITrustListReader {
    /// The scheme information and the CA services, checked element by element.
    static func read(_ root: XMLTreeElement, what: String) throws -> (TrustList, Int) {
        guard root.name == "TrustServiceStatusList", root.namespace == ETSI.tsl else {
            throw fail(what, "the root element is \(root.name), not tsl:TrustServiceStatusList")
        }
        guard root.attributes["TSLTag"] == ETSI.tslTag else { throw fail(what, "TSLTag is not \(ETSI.tslTag)") }
        guard let scheme = root.child("SchemeInformation", ETSI.tsl) else { throw fail(what, "no SchemeInformation") }
        func required(_ path: [String]) throws -> String {
            guard let t = scheme.at(path, ETSI.tsl)?.text, !t.isEmpty else { throw fail(what, "SchemeInformation lacks \(path.joined(separator: "/"))") }
            return t
        }
        let version = try required(["TSLVersionIdentifier"])
        guard version == "5" || version == "6" else {
            throw ETrustError.refused("\(what): TSLVersionIdentifier \(version) is not TS 119 612 v2 (5 or 6)", code: .unsupportedAlgorithm)
        }
        guard let sequence = Int(try required(["TSLSequenceNumber"])), sequence >= 1 else { throw fail(what, "TSLSequenceNumber is not a positive integer") }
        let territory = try required(["SchemeTerritory"])
        let issued = try RFC3339.parse(try required(["ListIssueDateTime"]))
        guard let next = scheme.at(["NextUpdate", "dateTime"], ETSI.tsl)?.text else {
            throw ETrustError.refused("\(what): a closed list (no NextUpdate/dateTime) is not used", code: .badSignature)
        }
        let schemeName = scheme.at(["SchemeName", "Name"], ETSI.tsl)?.text ?? territory
        var list = TrustList(name: schemeName.hasPrefix(territory + ":") ? String(schemeName.dropFirst(territory.count + 1)) : schemeName,
                             issued: issued, nextUpdate: try RFC3339.parse(next))
        list.sequence = sequence
        list.schemeOperator = try required(["SchemeOperatorName", "Name"])
        list.territory = territory
        var skipped = 0
        for tsp in root.child("TrustServiceProviderList", ETSI.tsl)?.children("TrustServiceProvider", ETSI.tsl) ?? [] {
            let country = tsp.at(["TSPInformation", "TSPAddress", "PostalAddresses", "PostalAddress", "CountryName"], ETSI.tsl)?.text ?? territory
            for service in tsp.child("TSPServices", ETSI.tsl)?.children("TSPService", ETSI.tsl) ?? [] {
                let entries = try authorities(service, country: country, what: what)
                if entries.isEmpty { skipped += 1 }
                list.authorities += entries
            }
        }
        return (list, skipped)
    }

    /// One etrust authority per certificate of a CA service (none for other service types).
    static func authorities(_ service: XMLTreeElement, country: String, what: String) throws -> [TrustList.Authority] {
        guard let info = service.child("ServiceInformation", ETSI.tsl) else { throw fail(what, "a TSPService without ServiceInformation") }
        let current = try statusEntry(info, what: what)
        guard ETSI.caServiceTypes.contains(current.type) else { return [] }
        let history = try (service.child("ServiceHistory", ETSI.tsl)?.children("ServiceHistoryInstance", ETSI.tsl) ?? [])
            .map { try statusEntry($0, what: what).change }.reversed() + [current.change]
        let name = info.at(["ServiceName", "Name"], ETSI.tsl)?.text ?? "unnamed service"
        let certificates = (info.child("ServiceDigitalIdentity", ETSI.tsl)?.children("DigitalId", ETSI.tsl) ?? [])
            .compactMap { $0.child("X509Certificate", ETSI.tsl)?.text }
        guard !certificates.isEmpty else { throw fail(what, "service '\(name)' has no X509Certificate in its ServiceDigitalIdentity") }
        let (levels, additional) = extensions(info)
        var services = TrustList.Services(crl: nil, ocsp: nil)
        for point in info.child("ServiceSupplyPoints", ETSI.tsl)?.children("ServiceSupplyPoint", ETSI.tsl) ?? [] {
            if point.attributes["type"] == ETSI.ocspSupplyPoint { services.ocsp = (services.ocsp ?? []) + [point.text] }
            else if point.attributes["type"] == ETSI.crlSupplyPoint { services.crl = (services.crl ?? []) + [point.text] }
        }
        return try certificates.map { b64 in
            guard let der = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else { throw fail(what, "service '\(name)': certificate is not base64") }
            let cert = try Certificate(der: [UInt8](der), what: "\(what): certificate of '\(name)'")
            return TrustList.Authority(name: name, country: country, certificate: Data(cert.der).base64EncodedString(),
                                       sha256: Hex.encode(cert.sha256Fingerprint), status: current.change.status, history: Array(history),
                                       levels: levels, services: services,
                                       serviceType: current.type, additionalInformation: additional.isEmpty ? nil : additional)
        }
    }

    /// ServiceTypeIdentifier, ServiceStatus and StatusStartingTime of a service or history instance.
    static func statusEntry(_ e: XMLTreeElement, what: String) throws -> (type: String, change: TrustList.StatusChange) {
        guard let type = e.child("ServiceTypeIdentifier", ETSI.tsl)?.text, let statusURI = e.child("ServiceStatus", ETSI.tsl)?.text,
              let since = e.child("StatusStartingTime", ETSI.tsl)?.text else {
            throw fail(what, "a service lacks ServiceTypeIdentifier, ServiceStatus or StatusStartingTime")
        }
        guard let status = ETSI.status(statusURI) else { throw fail(what, "unknown ServiceStatus \(statusURI)") }
        return (type, .init(status: status, since: RFC3339.format(try RFC3339.parse(since))))
    }

    /// Levels from the Qualifications extension (qualifier -> level, over its policy OIDs) and
    /// the AdditionalServiceInformation URIs.
    static func extensions(_ info: XMLTreeElement) -> ([TrustList.Level], [String]) {
        var byLevel: [String: [String]] = [:]
        var additional: [String] = []
        for ext in info.child("ServiceInformationExtensions", ETSI.tsl)?.children("Extension", ETSI.tsl) ?? [] {
            if let uri = ext.at(["AdditionalServiceInformation", "URI"], ETSI.tsl)?.text { additional.append(uri) }
            for q in ext.child("Qualifications", ETSI.ecc)?.children("QualificationElement", ETSI.ecc) ?? [] {
                let levels = (q.child("Qualifiers", ETSI.ecc)?.children("Qualifier", ETSI.ecc) ?? []).compactMap { $0.attributes["uri"].flatMap(ETSI.level(ofQualifier:)) }
                guard let level = levels.max() else { continue }
                let oids = (q.child("CriteriaList", ETSI.ecc)?.children("PolicySet", ETSI.ecc) ?? []).flatMap { set in
                    set.children("PolicyIdentifier", ETSI.ecc).compactMap { $0.child("Identifier", ETSI.xades)?.text }
                }.map { $0.hasPrefix("urn:oid:") ? String($0.dropFirst(8)) : $0 }
                let known = byLevel[level.rawValue] ?? []
                if !oids.isEmpty { byLevel[level.rawValue] = known + oids.filter { !known.contains($0) } }
            }
        }
        let levels = AssuranceLevel.allCases.compactMap { l in byLevel[l.rawValue].map { TrustList.Level(level: l.rawValue, policies: $0) } }
        return (levels, additional)
    }
}
