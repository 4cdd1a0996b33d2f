import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import Foundation
import Testing

/// A token key handed to OpenSSL's own signers, in-process: CMS_sign and OCSP_basic_sign take the
/// libp11-backed EVP_PKEY unchanged, and the `openssl` CLI verifies what they made. One test only:
/// SoftHSM2 reads SOFTHSM2_CONF of this process when the module is first initialised.
@Suite(.serialized) struct HSMLibraryTests {
    @Test("CMS and OCSP signed in-process by a CA key in the token; the key cannot be exported")
    func openSSLSignersTakeTheTokenKey() throws {
        let token = try SoftHSM(label: "etrust-lib")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        let created = try HSMRun.etrust(["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key-store", "pkcs11:token=etrust-lib"],
                                        token: token)
        try #require(created.status == 0, "ca create root: \(created.stderr)")
        setenv("SOFTHSM2_CONF", token.conf, 1)
        let authority = try Authority(home: try Home.open(home), passphrase: { Array("test-passphrase".utf8) }, pin: { Array(SoftHSM.pin.utf8) })
        let record = try authority.ca("root")
        let key = try authority.keys.privateKey(record.keyReference, owner: "CA root")
        #expect(key.isTokenKey)
        #expect(try key.subjectPublicKeyInfo == record.certificate.subjectPublicKeyInfo)
        #expect(throws: ETrustError.self) { try key.encryptedPKCS8PEM(passphrase: Array("x".utf8), iterations: 1000) }

        let rootPEM = home + "/certs/root.pem"
        let cms = try CMSSignature.sign(Array("a document".utf8), certificate: record.certificate, key: key, chain: [], detached: false)
        let cmsFile = token.directory + "/doc.p7s"
        try Data(cms).write(to: URL(fileURLWithPath: cmsFile))
        let cmsOK = try TestSupport.openssl(["cms", "-verify", "-inform", "DER", "-in", cmsFile, "-noverify", "-out", "/dev/null"])
        #expect(cmsOK.status == 0 && cmsOK.stderr.contains("Verification successful"), "openssl cms -verify: \(cmsOK.stderr)")

        let query = try OCSPResponder.Query(issuer: record.certificate, serialHex: "0102")
        let response = try OCSPResponder.sign(answers: [.init(query: query, status: .good)], signerCertificate: record.certificate, signer: key,
                                              includeCertificate: false, now: Date(), validity: 3600, nonceFrom: nil)
        let responseFile = token.directory + "/resp.der"
        try Data(response).write(to: URL(fileURLWithPath: responseFile))
        let ocspOK = try TestSupport.openssl(["ocsp", "-respin", responseFile, "-VAfile", rootPEM, "-CAfile", rootPEM, "-resp_text"])
        #expect(ocspOK.status == 0 && (ocspOK.stdout + ocspOK.stderr).contains("Response verify OK"), "openssl ocsp: \(ocspOK.stdout) \(ocspOK.stderr)")

        let check = authority.keys.check(record, repeat: 10)
        #expect(check.ok && check.signatures == 10, "\(String(describing: check.error))")
    }
}
