import ETrustTestSupport
import Foundation
import Testing

/// Tools/crashtest.sh as CI runs it: 10 SIGKILLs at random points of each of issuance, revocation,
/// CRL publication and the responder; after each, files on disk are in the database, serials and
/// CRL numbers are sound, published files are whole and `audit verify` passes.
@Suite struct CrashStormTests {
    @Test func tenKillsOfEach() throws {
        let bin = (TestSupport.etrustBinary as NSString).deletingLastPathComponent
        let r = try TestSupport.run("/bin/bash", [TestSupport.packageRoot + "/Tools/crashtest.sh", "10"], environment: ["ETRUST_BIN_DIR": bin])
        #expect(r.status == 0 && r.stdout.contains("== all checks passed after 40 kills"), "\(r.stdout)\n\(r.stderr)")
        #expect(!r.stdout.contains("FAIL"), "\(r.stdout)")
    }
}
