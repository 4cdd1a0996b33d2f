import ETrustCore
import Foundation
import Testing

@Suite("Distinguished names (RFC 4514)")
struct DistinguishedNameTests {
    @Test("RFC 4514 text runs most-specific first; the DER runs C, O, CN")
    func orderAndRoundTrip() throws {
        let dn = try DistinguishedName(parsing: "CN=Alice,O=Gov,C=TG")
        #expect(dn.description == "CN=Alice,O=Gov,C=TG")
        #expect(dn.attributes.map(\.name) == ["C", "O", "CN"])
        #expect(dn.attributes.map(\.oid) == ["2.5.4.6", "2.5.4.10", "2.5.4.3"])
        #expect(dn.attributes.map(\.value) == ["TG", "Gov", "Alice"])
        #expect(dn.rdns.count == 3)
        #expect(dn.values(ofName: "cn") == ["Alice"])
        #expect(!dn.isEmpty)

        // The very first RDN of the DER is countryName: SEQUENCE { SET { SEQUENCE { OID 2.5.4.6, PrintableString "TG" }}}.
        let prefix: [UInt8] = [0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x54, 0x47]
        #expect(dn.der[0] == 0x30)
        #expect(Array(dn.der[2..<2 + prefix.count]) == prefix)

        // OpenSSL reads our DER the same way.
        #expect(try opensslNameText(dn.der) == "CN=Alice,O=Gov,C=TG")

        // DER round trip.
        let again = try DistinguishedName(der: dn.der)
        #expect(again == dn)
        #expect(try DistinguishedName(parsing: dn.description).der == dn.der)
    }

    @Test("countryName is a PrintableString, CN a UTF8String")
    func stringTypes() throws {
        let dn = try DistinguishedName(parsing: "CN=Alice,O=Gov,C=TG")
        #expect(contains(dn.der, [0x13, 0x02] + Array("TG".utf8)))
        #expect(!contains(dn.der, [0x0c, 0x02] + Array("TG".utf8)))
        #expect(contains(dn.der, [0x0c, 0x05] + Array("Alice".utf8)))
        #expect(contains(dn.der, [0x0c, 0x03] + Array("Gov".utf8)))
    }

    @Test("a multi-valued RDN stays one RDN")
    func multiValued() throws {
        let dn = try DistinguishedName(parsing: "CN=Alice+serialNumber=123,O=X,C=TG")
        #expect(dn.rdns.count == 3)
        #expect(dn.rdns[0].map(\.name) == ["C"])
        #expect(dn.rdns[1].map(\.name) == ["O"])
        let last = dn.rdns[2]
        #expect(Set(last.map(\.name)) == ["CN", "serialNumber"])
        #expect(last.first { $0.name == "serialNumber" }?.value == "123")
        #expect(last.first { $0.name == "serialNumber" }?.oid == "2.5.4.5")
        #expect(last.first { $0.name == "CN" }?.value == "Alice")
        // The DER has exactly three SETs (0x31) at the top level of the Name.
        #expect(topLevelSetCount(dn.der) == 3)
        // The text is one of the two orders of the set, and re-parses to the same DER.
        #expect(["CN=Alice+serialNumber=123,O=X,C=TG", "serialNumber=123+CN=Alice,O=X,C=TG"].contains(dn.description))
        #expect(try DistinguishedName(parsing: dn.description).der == dn.der)
        // Either order of the set in the input gives the same DER (SET OF is sorted in DER).
        #expect(try DistinguishedName(parsing: "serialNumber=123+CN=Alice,O=X,C=TG").der == dn.der)
        // OpenSSL sees a multi-valued RDN as well.
        let text = try opensslNameText(dn.der)
        #expect(text.hasSuffix(",O=X,C=TG"))
        #expect(text.contains("+"))
        #expect(dn.values(ofName: "serialNumber") == ["123"])
    }

    @Test("escaped specials round-trip", arguments: [
        "CN=Doe\\, John,O=A\\+B,C=TG",
        "CN=a\\=b\\;c\\<d\\>e,C=TG",
        "CN=back\\\\slash,C=TG",
        "CN=\\#hash,C=TG",
        "CN=\\ leading space,C=TG",
        "CN=quote\\\"d,C=TG",
    ])
    func escaping(_ text: String) throws {
        let dn = try DistinguishedName(parsing: text)
        #expect(dn.description == text)
        #expect(try DistinguishedName(parsing: dn.description).der == dn.der)
    }

    @Test("escaped values decode to the literal characters")
    func escapedValues() throws {
        let dn = try DistinguishedName(parsing: "CN=Doe\\, John,O=A\\+B,C=TG")
        #expect(dn.values(ofName: "CN") == ["Doe, John"])
        #expect(dn.values(ofName: "O") == ["A+B"])
        #expect(dn.rdns.count == 3)
        // Hex escapes (RFC 4514 2.4) decode to UTF-8 bytes.
        let hex = try DistinguishedName(parsing: "CN=Ama K\\C9\\94fi,C=GH")
        #expect(hex.values(ofName: "CN") == ["Ama Kɔfi"])
        // Unescaped spaces around separators are not part of the values.
        let spaced = try DistinguishedName(parsing: "CN=Alice , O=Gov,  C=TG")
        #expect(spaced.description == "CN=Alice,O=Gov,C=TG")
    }

    @Test("an escaped trailing space is part of the value (RFC 4514 2.4)")
    func escapedTrailingSpace() throws {
        // RFC4514.escape writes a trailing space as "\ "; the parser must read it back.
        let dn = try DistinguishedName(parsing: "CN=trailing\\ ,C=TG")
        #expect(dn.values(ofName: "CN") == ["trailing "])
        #expect(dn.description == "CN=trailing\\ ,C=TG")
        let last = try DistinguishedName(parsing: "C=TG,CN=trailing\\ ")
        #expect(last.values(ofName: "CN") == ["trailing "])
    }

    @Test("UTF-8 values round-trip and are UTF8Strings")
    func utf8() throws {
        let dn = try DistinguishedName(parsing: "CN=Ama Kɔfi,C=GH")
        #expect(dn.description == "CN=Ama Kɔfi,C=GH")
        #expect(dn.values(ofName: "CN") == ["Ama Kɔfi"])
        let cn = Array("Ama Kɔfi".utf8)
        #expect(contains(dn.der, [0x0c, UInt8(cn.count)] + cn))
        #expect(try opensslNameText(dn.der) == "CN=Ama Kɔfi,C=GH")
        #expect(try DistinguishedName(der: dn.der).description == "CN=Ama Kɔfi,C=GH")
    }

    @Test("other attribute types keep their RFC 4514 / OpenSSL short names")
    func attributeNames() throws {
        let text = "emailAddress=a@example.org,UID=u1,DC=example,OU=IT,L=Lome,ST=Maritime,organizationIdentifier=NTRTG-123,C=TG"
        let dn = try DistinguishedName(parsing: text)
        #expect(dn.description == text)
        #expect(dn.attributes.map(\.name) == ["C", "organizationIdentifier", "ST", "L", "OU", "DC", "UID", "emailAddress"])
        // A dotted OID is accepted as the type.
        let oid = try DistinguishedName(parsing: "2.5.4.3=ByOID,C=TG")
        #expect(oid.values(ofName: "CN") == ["ByOID"])
    }

    @Test("invalid names are refused as bad input", arguments: [
        "", "   ", "CN", "C=TOOLONG", "XX=1", "CN=a,,O=b", "CN=", "=x", "CN=a,", "CN=#04024869",
        "CN=a;b", "CN=trailing\\", "CN=bad\\q", "CN=a+,C=TG",
    ])
    func invalid(_ text: String) {
        expectETrustError(code: .invalidName, category: .badInput) { _ = try DistinguishedName(parsing: text) }
    }

    @Test("malformed DER is refused as bad input")
    func invalidDER() throws {
        let dn = try DistinguishedName(parsing: "CN=Alice,C=TG")
        expectETrustError(code: .invalidName, category: .badInput) { _ = try DistinguishedName(der: Array(dn.der.dropLast(3))) }
        expectETrustError(code: .invalidName, category: .badInput) { _ = try DistinguishedName(der: [0x04, 0x01, 0x00]) }
    }

    /// Number of elements directly inside the outer SEQUENCE (short-form lengths only).
    private func topLevelSetCount(_ der: [UInt8]) -> Int {
        var i = der[1] & 0x80 == 0 ? 2 : 2 + Int(der[1] & 0x7f)
        var count = 0
        while i < der.count {
            guard der[i] == 0x31, der[i + 1] & 0x80 == 0 else { return -1 }
            count += 1
            i += 2 + Int(der[i + 1])
        }
        return count
    }
}
