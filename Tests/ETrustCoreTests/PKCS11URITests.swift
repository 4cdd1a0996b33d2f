import ETrustCore
import Testing

/// RFC 7512 PKCS#11 URIs as etrust stores them in key references.
@Suite struct PKCS11URITests {
    @Test func parsesAndPrintsCanonically() throws {
        let uri = try PKCS11URI(parsing: "pkcs11:token=My%20Token;object=root;id=%01%ab;type=private")
        #expect(uri.token == "My Token")
        #expect(uri.object == "root")
        #expect(uri.id == [0x01, 0xab])
        #expect(uri.type == "private")
        #expect(uri.description == "pkcs11:token=My%20Token;object=root;id=%01%ab;type=private")
        #expect(try PKCS11URI(parsing: uri.description) == uri)
        #expect(uri.tokenOnly.description == "pkcs11:token=My%20Token")
    }

    /// RFC 7512 2.3: a literal ';' or '%' in a value is percent-encoded; other characters may be.
    @Test func encodesReservedCharacters() throws {
        let uri = PKCS11URI(token: "a;b%c/d", object: "ü")
        #expect(uri.description == "pkcs11:token=a%3Bb%25c%2Fd;object=%C3%BC")
        #expect(try PKCS11URI(parsing: uri.description) == uri)
    }

    @Test(arguments: ["pkcs11:token=t?pin-value=1234", "pkcs11:token=t;pin-value=1234", "pkcs11:token=t?module-path=/x.so",
                      "pkcs11:token=t;flavour=x", "pkcs11:token=%zz", "pkcs11:token", "pkcs11:token=t;type=secret", "file:keys/x.pem"])
    func refuses(_ text: String) {
        do {
            let parsed = try PKCS11URI(parsing: text)
            Issue.record("\(text) was accepted as \(parsed)")
        } catch let e as ETrustError {
            #expect(e.category == .badInput)
            #expect(!e.reason.contains("1234"), "the PIN is repeated in the message: \(e.reason)")
        } catch { Issue.record("\(error)") }
    }
}
