import ETrustTestSupport
import Foundation
import Testing

/// Tools/multinode.sh as CI runs it: its own PostgreSQL cluster, two issuing homes sharing it and
/// two etrust-ocspd. Smaller counts than the demo's (the script checks the same things).
@Suite struct MultinodeTests {
    static func run(_ mode: String, _ count: Int) throws -> TestSupport.Result {
        let bin = (TestSupport.etrustBinary as NSString).deletingLastPathComponent
        return try TestSupport.run("/bin/bash", [TestSupport.packageRoot + "/Tools/multinode.sh", mode, String(count)],
                                   environment: ["ETRUST_BIN_DIR": bin])
    }

    /// PostgreSQL stopped (pg_ctl stop -m immediate) in the middle of a batch: exit 3 with one line,
    /// nothing half-written, pre-signed answers still served, the rest issues after a restart and
    /// the audit log verifies.
    @Test func databaseStoppedInTheMiddleOfABatch() throws {
        let r = try Self.run("fault", 400)
        #expect(r.status == 0 && r.stdout.contains("== all checks passed"), "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("PASS the batch exits 3") && !r.stdout.contains("FAIL"), "\(r.stdout)")
    }

    /// Four issuers on two hosts and a revoker at once; both responders answer a revocation made
    /// through one host within 5 s.
    @Test func fourIssuersTwoHostsTwoResponders() throws {
        let r = try Self.run("load", 200)
        #expect(r.status == 0 && r.stdout.contains("== all checks passed"), "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("PASS 900 distinct serials"), "\(r.stdout)")
    }
}
