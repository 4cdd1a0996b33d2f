import ETrustCA
import ETrustCore
@testable import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The responder as an operator runs it: answers from memory while the store is busy, /readyz
/// that names what is wrong (and recovers when it is fixed), access lines in both formats,
/// metrics that count OCSP only, and the HTTP handler on an EmbeddedChannel.
@Suite("Responder in production")
struct ResponderOperationsTests {
    static func readyz(_ port: Int) throws -> (status: Int, checks: [String], body: String) {
        let r = try HTTP.request(port: port, "GET", "/readyz")
        let object = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
        let failing = (object?["failing"] as? [[String: String]]) ?? []
        return (r.status, failing.map { "\($0["check"] ?? "?")/\($0["ca"] ?? "-")" }, String(decoding: r.body, as: UTF8.self))
    }

    static func waitReadiness(_ port: Int, ready: Bool, containing check: String? = nil, seconds: TimeInterval = 8) throws -> String {
        var last = ""
        let ok = try eventually(seconds) {
            let r = try readyz(port)
            last = r.body
            return (r.status == 200) == ready && (check.map { r.checks.contains($0) } ?? true)
        }
        #expect(ok, "readyz \(ready ? "200" : "503")\(check.map { " naming \($0)" } ?? ""): \(last)")
        return last
    }

    @Test("a pre-signed answer is served within 50 ms while the store is held by a long write transaction, and while the responder's own store lock is held")
    func busyStore() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        #expect(try HTTP.postOCSP(port: port, req).status == 200)
        // Another connection holds the database's write lock for 1.5 s.
        let other = try OT.authority(f.home)
        let holding = DispatchSemaphore(value: 0)
        let writer = Thread {
            try? other.store.transaction {
                try other.store.save(presigned: [], ca: "issuing")
                _ = try other.store.cas()
                try other.store.insert(ocspSigner: try other.store.currentOCSPSigner(ca: "root")!, at: Date())
                holding.signal()
                Thread.sleep(forTimeInterval: 1.5)
                throw OT.Failure("rolled back on purpose")
            }
        }
        writer.start()
        #expect(holding.wait(timeout: .now() + 5) == .success)
        var start = DispatchTime.now()
        let a = try HTTP.postOCSP(port: port, req)
        var ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        #expect(a.status == 200 && ms < 50, "served in \(ms) ms while the store was busy")

        // The responder's own store lock held (a stuck query): a request that needs the store waits
        // on the thread pool; a pre-signed one does not.
        let locked = DispatchSemaphore(value: 0)
        let stuck = Thread {
            _ = try? server.source.gate.withStore { _ in locked.signal(); Thread.sleep(forTimeInterval: 1.5) }
        }
        stuck.start()
        #expect(locked.wait(timeout: .now() + 5) == .success)
        let live = Thread { _ = try? HTTP.postOCSP(port: port, try! OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true).der) }
        live.start()
        usleep(50_000)
        start = DispatchTime.now()
        let b = try HTTP.postOCSP(port: port, req)
        ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        #expect(b.status == 200 && ms < 50, "served in \(ms) ms while a live request waited for the store")
        #expect(b.body == a.body)
    }

    @Test("draining shutdown: a request being answered when shutdown starts gets its answer; idle keep-alive connections are closed; new connections are refused")
    func drain() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        let idle = try RawConnection(port: port)
        #expect(try idle.request("GET", "/healthz", keepAlive: true).status == 200)
        // The store held: a live request waits on the thread pool while shutdown begins.
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread { _ = try? server.source.gate.withStore { _ in locked.signal(); _ = release.wait(timeout: .now() + 5) } }.start()
        #expect(locked.wait(timeout: .now() + 5) == .success)
        let result = Mutex<HTTPResponse?>(nil)
        let answered = DispatchSemaphore(value: 0)
        let nonce = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true).der
        Thread {
            result.withLock { $0 = try? HTTP.postOCSP(port: port, nonce) }
            answered.signal()
        }.start()
        usleep(200_000)
        let stopped = DispatchSemaphore(value: 0)
        Thread { server.shutdown(grace: 5); stopped.signal() }.start()
        usleep(200_000)
        #expect(idle.closedByPeer(within: 2), "an idle keep-alive connection is closed at once by the drain")
        #expect((try? HTTP.request(port: port, "GET", "/healthz")) == nil, "no new connection is accepted while draining")
        release.signal()
        #expect(answered.wait(timeout: .now() + 5) == .success)
        let r = try #require(result.withLock { $0 }, "the in-flight request got no answer")
        #expect(r.status == 200 && r.body.count > 100)
        #expect(stopped.wait(timeout: .now() + 6) == .success, "shutdown finished after the last answer")
    }

    @Test("/readyz: 503 naming ocsp-signer-margin when the responder certificate is within its margin (fixed clock); 200 again after ocsp provision")
    func signerMargin() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let clock = SettableClock()
        let (server, port) = try OT.startServer(f, clock: clock) { $0.refreshInterval = 0.2 }
        defer { server.shutdown(grace: 1) }
        _ = try Self.waitReadiness(port, ready: true)
        let notAfter = try #require(server.source.signerHealth().first { $0.ca == "issuing" }?.notAfter)
        clock.set(notAfter.addingTimeInterval(-3600))
        let body = try Self.waitReadiness(port, ready: false, containing: "ocsp-signer-margin/issuing")
        #expect(body.contains("etrust ocsp provision --ca issuing"), "\(body)")
        let metrics = try HTTP.metrics(port: port)
        #expect(metrics.contains("etrust_ocsp_signer_ready{ca=\"issuing\"} 0"), "\(metrics)")
        let host = try OT.authority(f.home, clock: clock)
        for ca in ["root", "issuing"] {
            _ = try OCSPSigning(authority: host).provision(ca: ca, rotate: true, signerPassphrase: Array(OT.passphrase.utf8))
        }
        _ = try Self.waitReadiness(port, ready: true)
    }

    @Test("/readyz: 503 naming database-file when the database file is made unreadable, or removed; 200 again when it is back")
    func databaseFile() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.refreshInterval = 0.2 }
        defer { server.shutdown(grace: 1) }
        _ = try Self.waitReadiness(port, ready: true)
        let db = f.home + "/etrust.db"
        chmod(db, 0)
        _ = try Self.waitReadiness(port, ready: false, containing: "database-file/-")
        chmod(db, 0o600)
        _ = try Self.waitReadiness(port, ready: true)
        try FileManager.default.moveItem(atPath: db, toPath: db + ".away")
        let body = try Self.waitReadiness(port, ready: false, containing: "database-file/-")
        #expect(body.contains("missing"), "\(body)")
        // Pre-signed answers keep coming from memory meanwhile.
        let a = try HTTP.postOCSP(port: port, try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der)
        #expect(a.status == 200 && a.body.count > 100)
        try FileManager.default.moveItem(atPath: db + ".away", toPath: db)
        _ = try Self.waitReadiness(port, ready: true)
    }

    @Test("/readyz: 503 naming database-integrity when bytes are written over the database's pages under the running responder")
    func databaseIntegrity() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.refreshInterval = 0.2; $0.integrityCheckInterval = 0.2 }
        defer { server.shutdown(grace: 1) }
        _ = try Self.waitReadiness(port, ready: true)
        // Random bytes over every page but the first (the header stays intact, the file in place),
        // once the write-ahead log has been written back into the file.
        let db = f.home + "/etrust.db"
        let checkpoint = try TestSupport.run("/usr/bin/sqlite3", [db, "PRAGMA wal_checkpoint(TRUNCATE)"])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        let handle = try #require(FileHandle(forUpdatingAtPath: db))
        let size = try handle.seekToEnd()
        #expect(size > 8192)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data((0..<Int(size) - 4096).map { _ in UInt8.random(in: 0...255) }))
        try handle.close()
        let body = try Self.waitReadiness(port, ready: false, containing: "database-integrity/-")
        #expect(body.contains("damaged") && body.contains("restore"), "\(body)")
    }

    @Test("/readyz: 503 naming crl when a CA's CRL passes its nextUpdate (fixed clock); 200 again after publishing the due CRLs")
    func staleCRL() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let clock = SettableClock()
        let host = try OT.authority(f.home, clock: clock)
        _ = try host.crls.publishAll(ifDue: false)
        let (server, port) = try OT.startServer(f, clock: clock) { $0.refreshInterval = 0.2; $0.renewalMargin = 1 }
        defer { server.shutdown(grace: 1) }
        _ = try Self.waitReadiness(port, ready: true)
        let next = try #require(server.source.readiness.crlStates.first { $0.ca == "issuing" && $0.kind == "full" }?.nextUpdate)
        let metrics = try HTTP.metrics(port: port)
        #expect(metrics.contains("etrust_crl_next_update_seconds{ca=\"issuing\",crl=\"full\"}")
                || metrics.contains("etrust_crl_next_update_seconds{crl=\"full\",ca=\"issuing\"}"), "\(metrics)")
        clock.set(next.addingTimeInterval(60))
        _ = try Self.waitReadiness(port, ready: false, containing: "crl/issuing")
        let rounds = try host.crls.publishAll(ifDue: true)
        #expect(rounds.first { $0.ca == "issuing" }?.published.isEmpty == false)
        for ca in ["root", "issuing"] {
            _ = try OCSPSigning(authority: host).provision(ca: ca, signerPassphrase: Array(OT.passphrase.utf8))
        }
        _ = try Self.waitReadiness(port, ready: true)
        #expect(try host.crls.publishAll(ifDue: true).allSatisfy { $0.published.isEmpty }, "nothing is due right after publishing")
    }

    @Test("CRL readiness: online CRLs warn within their overlap and fail past nextUpdate; an offline CA's warns --offline-crl-warning ahead; none published is a warning")
    func crlJudgement() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func judge(next: TimeInterval?, offline: Bool) -> (failing: [String], warnings: [String]) {
            let state = Readiness.CRLState(ca: "x", kind: "full", file: "x.crl", nextUpdate: next.map { now.addingTimeInterval($0) },
                                           offline: offline, overlap: 86_400)
            let (f, w) = Readiness.judge(state, now: now, offlineWarning: 7 * 86_400)
            return (f.map(\.check), w.map(\.check))
        }
        #expect(judge(next: 2 * 86_400, offline: false) == ([], []))
        #expect(judge(next: 3600, offline: false) == ([], ["crl-due"]))
        #expect(judge(next: -1, offline: false) == (["crl"], []))
        #expect(judge(next: 8 * 86_400, offline: true) == ([], []))
        #expect(judge(next: 6 * 86_400, offline: true) == ([], ["crl-offline-expiring"]))
        #expect(judge(next: -1, offline: true) == (["crl"], []))
        #expect(judge(next: nil, offline: false) == ([], ["crl-missing"]))
        let reason = Readiness.judge(Readiness.CRLState(ca: "root", kind: "full", file: "root.crl", nextUpdate: now, offline: true, overlap: 0),
                                     now: now, offlineWarning: 0).failing.first?.reason ?? ""
        #expect(reason.contains("crl import"), "an offline CA's CRL is fixed by importing one: \(reason)")
    }

    @Test("access log: one line per request, text and json, with client, method, path, status, outcome, serial and latency; /metrics counts OCSP requests only")
    func accessLogAndMetrics() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        for format in LogFormat.allCases {
            let path = f.work + "/access-\(format).log"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try #require(fd >= 0)
            let writer = LogWriter(fd: fd, interval: 0.05)
            let (server, port) = try OT.startServer(f, accessLog: AccessLogging(format: format, writer: writer))
            let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
            #expect(try HTTP.postOCSP(port: port, req).status == 200)
            for _ in 0..<3 { _ = try HTTP.request(port: port, "GET", "/healthz") }
            _ = try HTTP.metrics(port: port)
            let metrics = try HTTP.metrics(port: port)
            let ocspCount = metrics.split(separator: "\n").filter { $0.hasPrefix("etrust_ocsp_requests_total{") }
                .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
            #expect(ocspCount == 1, "only the OCSP request is an OCSP request: \(metrics)")
            #expect(metrics.contains("etrust_build_info{version=\"test\"} 1"), "\(metrics)")
            #expect(metrics.contains("etrust_ca_not_after_seconds{ca=\"issuing\"}"), "\(metrics)")
            #expect(metrics.contains("# TYPE etrust_ocsp_request_duration_seconds histogram"), "\(metrics)")
            server.shutdown(grace: 1)
            writer.close()
            close(fd)
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 6, "\(lines)")
            // Lines from different event loops may be flushed out of order: find the OCSP one.
            let ocspLine = try #require(lines.first { $0.contains("/ocsp") })
            switch format {
            case .text:
                #expect(ocspLine.contains(" 127.0.0.1:") && ocspLine.contains(" POST /ocsp 200 good serial=\(f.good.serialHex) ")
                        && ocspLine.hasSuffix("ms"), "\(ocspLine)")
            case .json:
                for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
                let o = try #require(try JSONSerialization.jsonObject(with: Data(ocspLine.utf8)) as? [String: Any])
                #expect(o["method"] as? String == "POST" && o["path"] as? String == "/ocsp" && o["status"] as? Int == 200, "\(o)")
                #expect(o["outcome"] as? String == "good" && o["serial"] as? String == f.good.serialHex, "\(o)")
                #expect((o["client"] as? String)?.hasPrefix("127.0.0.1:") == true && o["latency_ms"] is Double, "\(o)")
            }
        }
    }

    @Test("a log writer whose output cannot keep up drops lines and counts them, never blocking the caller")
    func logWriterBounded() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = LogWriter(fd: fds[1], interval: 0.01, maxBuffered: 64 * 1024, shards: 1)
        let start = DispatchTime.now()
        for i in 0..<50_000 { writer.write("line \(i) " + String(repeating: "x", count: 100)) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        #expect(seconds < 5, "writing took \(seconds) s with a reader that never reads")
        #expect(writer.dropped > 0)
        // Nobody reads the pipe: close the read end so the writer thread's write fails, then stop it.
        close(fds[0])
        signal(SIGPIPE, SIG_IGN)
        writer.close()
    }

    @Test("the HTTP handler on an EmbeddedChannel: pre-signed answer, /healthz, /readyz, 404, 405")
    func embeddedHandler() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let server = OCSPServer(source: source, configuration: source.configuration, publicDirectory: f.home + "/pub",
                                logger: Logger(label: "test"), threads: 1)
        func exchange(_ raw: String, body: [UInt8] = []) throws -> String {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(OCSPHTTPHandler(server: server, clock: ConnectionClock(headerTimeout: 10)))
            try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            try channel.writeInbound(ByteBuffer(bytes: Array(raw.utf8) + body))
            var out: [UInt8] = []
            while let part = try channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let b) = part { out += Array(b.readableBytesView) }
            }
            _ = try? channel.finish()
            return String(decoding: out, as: UTF8.self)
        }
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        let post = try exchange("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(req.count)\r\n\r\n", body: req)
        #expect(post.hasPrefix("HTTP/1.1 200 OK") && post.contains("application/ocsp-response") && post.contains("ETag:"), "\(post.prefix(300))")
        #expect(try exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasSuffix("ok\n"))
        let ready = try exchange("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(ready.hasPrefix("HTTP/1.1 200") && ready.contains("\"status\":\"ready\""), "\(ready)")
        #expect(try exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        #expect(try exchange("PUT /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").hasPrefix("HTTP/1.1 405"))
    }
}
