import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// Independent judges of the responder's answers: pyca/cryptography builds the requests, POSTs
/// them to 127.0.0.1 and checks the responses (status, serial, responder id, signature with the
/// delegated signer's key); pkilint's lint_ocsp_response finds no ERROR or FATAL in them.
@Suite("etrust-ocspd judged by pyca/cryptography and pkilint")
struct PycaPkilintTests {
    static let script = #"""
import hashlib, json, sys, urllib.request
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

url, issuer_path, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
issuer = x509.load_pem_x509_certificate(open(issuer_path, 'rb').read())
cases = json.loads(sys.argv[4])   # [[label, cert path or "", serial hex]]
results = {}
for label, cert_path, serial_hex in cases:
    builder = ocsp.OCSPRequestBuilder()
    if cert_path:
        cert = x509.load_pem_x509_certificate(open(cert_path, 'rb').read())
        builder = builder.add_certificate(cert, issuer, hashes.SHA1())
    else:
        name_hash = hashlib.sha1(issuer.subject.public_bytes()).digest()
        spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        # the BIT STRING content of the SubjectPublicKeyInfo: for EC keys, the point after the algorithm
        point = issuer.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        key_hash = hashlib.sha1(point).digest()
        builder = builder.add_certificate_by_hash(name_hash, key_hash, int(serial_hex, 16), hashes.SHA1())
    req = builder.build()
    http = urllib.request.Request(url, data=req.public_bytes(serialization.Encoding.DER),
                                  headers={'Content-Type': 'application/ocsp-request'}, method='POST')
    with urllib.request.urlopen(http, timeout=5) as r:
        body = r.read()
        content_type = r.headers.get('Content-Type')
    open(f'{out_dir}/{label}.der', 'wb').write(body)
    resp = ocsp.load_der_ocsp_response(body)
    o = {'content_type': content_type, 'response_status': resp.response_status.name}
    if resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
        o['certificate_status'] = resp.certificate_status.name
        o['serial'] = format(resp.serial_number, 'x')
        o['revocation_reason'] = resp.revocation_reason.name if resp.revocation_reason else None
        o['revocation_time'] = resp.revocation_time_utc.isoformat() if resp.revocation_time_utc else None
        o['hash_algorithm'] = resp.hash_algorithm.name
        o['issuer_key_hash_ok'] = resp.issuer_key_hash == req.issuer_key_hash
        o['issuer_name_hash_ok'] = resp.issuer_name_hash == req.issuer_name_hash
        o['certificates'] = len(resp.certificates)
        o['responder_name'] = resp.responder_name.rfc4514_string() if resp.responder_name else None
        signer = resp.certificates[0] if resp.certificates else None
        o['signer_subject'] = signer.subject.rfc4514_string() if signer else None
        if signer is not None:
            spki_point = signer.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) \
                if isinstance(signer.public_key(), ec.EllipticCurvePublicKey) else \
                signer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
            o['responder_key_hash_ok'] = resp.responder_key_hash == hashlib.sha1(spki_point).digest()
            eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            o['signer_ocsp_signing'] = ExtendedKeyUsageOID.OCSP_SIGNING in list(eku)
            o['signer_nocheck'] = any(e.oid.dotted_string == '1.3.6.1.5.5.7.48.1.5' for e in signer.extensions)
            o['signer_issued_by_issuer'] = signer.issuer == issuer.subject
            try:
                issuer.public_key().verify(signer.signature, signer.tbs_certificate_bytes, ec.ECDSA(signer.signature_hash_algorithm))
                o['signer_signature_ok'] = True
            except Exception as e:
                o['signer_signature_ok'] = False
            key = signer.public_key()
            try:
                if isinstance(key, ec.EllipticCurvePublicKey):
                    key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
                else:
                    key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), resp.signature_hash_algorithm)
                o['signature_ok'] = True
            except Exception as e:
                o['signature_ok'] = False
        o['extensions'] = [e.oid.dotted_string for e in resp.extensions]
    results[label] = o
print(json.dumps(results))
"""#

    @Test("pyca/cryptography: SHA-1 requests POSTed; status, serial, responder key hash and signature (delegated key) check; pkilint finds no ERROR")
    func pycaAndPkilint() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let python = try OT.venvTool("python")
        let cases: [[String]] = [["good", f.goodPath, f.good.serialHex], ["revoked", f.revokedPath, f.revoked.serialHex],
                                 ["unknown", "", "7a11ce0000beef"]]
        let casesJSON = String(decoding: try JSONSerialization.data(withJSONObject: cases), as: UTF8.self)
        let r = try TestSupport.run(python, ["-c", Self.script, "http://127.0.0.1:\(port)/ocsp", f.issuingPath, f.work, casesJSON])
        try #require(r.status == 0, "python: \(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]], "\(r.stdout)")

        let expected: [(String, String, String)] = [("good", "GOOD", f.good.serialHex), ("revoked", "REVOKED", f.revoked.serialHex),
                                                    ("unknown", "UNKNOWN", "7a11ce0000beef")]
        for (label, status, serial) in expected {
            let o = try #require(json[label], "\(json)")
            #expect(o["content_type"] as? String == "application/ocsp-response", "\(label)")
            #expect(o["response_status"] as? String == "SUCCESSFUL", "\(label): \(o)")
            #expect(o["certificate_status"] as? String == status, "\(label): \(o)")
            #expect(o["serial"] as? String == serial, "\(label): \(o)")
            #expect(o["hash_algorithm"] as? String == "sha1", "\(label): \(o)")
            #expect(o["issuer_name_hash_ok"] as? Bool == true && o["issuer_key_hash_ok"] as? Bool == true, "\(label): \(o)")
            #expect(o["certificates"] as? Int == 1, "\(label): \(o)")
            #expect(o["responder_name"] is NSNull, "\(label): the responder id is byKey: \(o)")
            #expect(o["responder_key_hash_ok"] as? Bool == true, "\(label): \(o)")
            #expect(o["signature_ok"] as? Bool == true, "\(label): \(o)")
            #expect(o["signer_ocsp_signing"] as? Bool == true, "\(label): \(o)")
            #expect(o["signer_nocheck"] as? Bool == true, "\(label): \(o)")
            #expect(o["signer_issued_by_issuer"] as? Bool == true && o["signer_signature_ok"] as? Bool == true, "\(label): \(o)")
            #expect((o["signer_subject"] as? String)?.contains("issuing OCSP Responder") == true, "\(label): \(o)")
        }
        let revoked = try #require(json["revoked"])
        #expect(revoked["revocation_reason"] as? String == "key_compromise", "\(revoked)")
        #expect(revoked["revocation_time"] is String, "\(revoked)")

        // pkilint: no ERROR or FATAL finding in the three responses.
        let lint = try OT.venvTool("lint_ocsp_response")
        for label in ["good", "revoked", "unknown"] {
            let file = f.work + "/\(label).der"
            let l = try TestSupport.run(lint, ["lint", "-s", "ERROR", "--document-format", "DER", file])
            let findings = (l.stdout + l.stderr).split(separator: "\n").filter { $0.contains("ERROR") || $0.contains("FATAL") }
            #expect(findings.isEmpty, "pkilint on the \(label) response:\n\(l.stdout)\(l.stderr)")
            #expect(l.status == 0, "pkilint exit \(l.status) on the \(label) response:\n\(l.stdout)\(l.stderr)")
        }
    }

    @Test("pkilint on an RFC 6960 2.2 'revoked' answer for a serial never issued (extended-revoke) and on a pre-signed response")
    func pkilintExtendedRevokeAndPresigned() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f) { $0.unknownSerial = .revoked }
        let never = try OCSPResponder.Query(issuer: f.issuing, serialHex: "7a11ce0000beef")
        let list: [UInt8] = { () -> [UInt8] in
            let cid = never.certIDDER
            let request: [UInt8] = [0x30, UInt8(cid.count)] + cid
            let requestList: [UInt8] = [0x30, UInt8(request.count)] + request
            let tbs: [UInt8] = [0x30, UInt8(requestList.count)] + requestList
            return [0x30, UInt8(tbs.count)] + tbs
        }()
        let extended = source.answer(list)
        #expect(extended.outcome == .revoked)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        _ = source.answer(req.der)
        let presigned = source.answer(req.der)
        #expect(presigned.fromCache)
        let lint = try OT.venvTool("lint_ocsp_response")
        for (label, body) in [("extended", extended.body), ("presigned", presigned.body)] {
            let file = f.work + "/\(label).der"
            try OT.write(body, to: file)
            let l = try TestSupport.run(lint, ["lint", "-s", "ERROR", "--document-format", "DER", file])
            #expect(l.status == 0 && !(l.stdout + l.stderr).contains("ERROR") && !(l.stdout + l.stderr).contains("FATAL"),
                    "pkilint on the \(label) response (exit \(l.status)):\n\(l.stdout)\(l.stderr)")
        }
    }
}
