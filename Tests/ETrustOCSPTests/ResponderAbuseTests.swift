import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Clients that try to exhaust the responder (issue #15, defects 1, 2 and 8): memory stays
/// bounded, one address cannot take every slot, no connection lives forever, and an oversized
/// body is refused from its Content-Length alone.
@Suite("Responder under abusive clients")
struct ResponderAbuseTests {
    static func rssMiB(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    /// The daemon's environment for measuring its memory. Under AddressSanitizer (Tools/test.sh runs
    /// the suite with ASan binaries) freed blocks wait in a quarantine of up to 256 MiB before they
    /// are reused, so RSS would count memory the daemon has already given back; without the
    /// quarantine, freed memory is reused as with the release allocator and the bound measures what
    /// the daemon holds (ASan's redzones and shadow memory still count against it).
    static var memoryMeasuringEnvironment: [String: String] {
        guard let asan = ProcessInfo.processInfo.environment["ASAN_OPTIONS"] else { return [:] }
        return ["ASAN_OPTIONS": asan + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"]
    }

    /// How much slower the daemon's debug build is under AddressSanitizer (Tools/test.sh), which
    /// checks every memory access: about 3 times on the event loop's hot path. The latency bounds
    /// below are for a plain debug build; a lock-out like defect 1's (a good client's p99 at 4.8 s)
    /// still fails them scaled.
    static var sanitizerSlowdown: Double { ProcessInfo.processInfo.environment["ASAN_OPTIONS"] == nil ? 1 : 3 }

    @Test("clients pipelining requests without reading answers: the daemon's memory stays within 20 MiB, a good client is answered within 100 ms")
    func pipelinedWithoutReading() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let port = try HTTP.freePort()
        let daemon = try DaemonTests.Daemon(home: f.home, port: port, logPath: f.work + "/ocspd.log",
                                            environment: Self.memoryMeasuringEnvironment)
        defer { daemon.stop() }
        try #require(daemon.waitReady(), "\(daemon.log)")
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        let one = Array("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(req.count)\r\n\r\n".utf8) + req
        for _ in 0..<200 { _ = try HTTP.postOCSP(port: port, req) }
        let before = Self.rssMiB(daemon.process.processIdentifier)
        // 8 connections, each sending 20,000 pipelined requests (about 2.6 MB of answers each)
        // and reading nothing.
        let batch = Array((0..<500).map { _ in one }.joined())
        var abusers: [RawConnection] = []
        let deadline = Date().addingTimeInterval(6)
        for _ in 0..<8 {
            let c = try RawConnection(port: port, timeout: 0.2)
            abusers.append(c)
        }
        var sent = 0
        for _ in 0..<40 where Date() < deadline {
            for c in abusers where c.send(batch) { sent += 500 }
        }
        var peak = before
        for _ in 0..<10 {
            peak = max(peak, Self.rssMiB(daemon.process.processIdentifier))
            usleep(100_000)
        }
        // A good client meanwhile (the latency target itself, p99 < 20 ms with release binaries, is
        // measured by Tools/abuse.sh; a debug build on a shared machine gets a looser bound).
        var times: [Double] = []
        for _ in 0..<9 {
            let start = DispatchTime.now()
            let good = try HTTP.postOCSP(port: port, req)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            #expect(good.status == 200)
        }
        times.sort()
        #expect(times[4] < 100 * Self.sanitizerSlowdown && times[8] < 1000 * Self.sanitizerSlowdown, "a good client's times (ms): \(times)")
        #expect(peak - before < 20, "RSS grew from \(before) MiB to \(peak) MiB while \(sent) requests were pipelined unread")
        abusers.removeAll()
    }

    @Test("one address holds at most maxConnectionsPerAddress connections; the next is closed at once and counted")
    func perAddressLimit() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.maxConnectionsPerAddress = 4 }
        defer { server.shutdown(grace: 1) }
        var held = try (0..<4).map { _ in try RawConnection(port: port) }
        for c in held { #expect(try c.request("GET", "/healthz", keepAlive: true).status == 200) }
        let fifth = try RawConnection(port: port)
        #expect(fifth.closedByPeer(within: 2), "a fifth connection from the same address was kept")
        // One slot freed: the metrics are read over it.
        held.removeLast()
        var rejected: Double = 0
        #expect(eventually(2) { rejected = (try? HTTP.metrics(port: port)).flatMap { OT.metric($0, "etrust_rejected_connections_total") } ?? 0; return rejected >= 1 },
                "rejected connections counted: \(rejected)")
        #expect(held.count == 3)
    }

    @Test("a keep-alive connection is closed after maxRequestsPerConnection answers (Connection: close on the last)")
    func requestCap() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.maxRequestsPerConnection = 3 }
        defer { server.shutdown(grace: 1) }
        let c = try RawConnection(port: port)
        for i in 1...3 {
            let r = try c.request("GET", "/healthz", keepAlive: true)
            #expect(r.status == 200)
            #expect((r.header("Connection")?.lowercased() == "close") == (i == 3), "request \(i): \(r.headers)")
        }
        #expect(c.closedByPeer(within: 2))
    }

    @Test("near the connection cap, idle connections get the short idle timeout: a flood of idle connections frees its slots within seconds")
    func idleUnderPressure() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.maxConnections = 8; $0.idleTimeoutUnderPressure = 0.5 }
        defer { server.shutdown(grace: 1) }
        let idle = try (0..<8).map { _ in try RawConnection(port: port) }
        usleep(100_000)
        let start = Date()
        #expect(idle.allSatisfy { $0.closedByPeer(within: 3) }, "idle connections held the cap (idleTimeout 30 s)")
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(try HTTP.request(port: port, "GET", "/healthz").status == 200, "a good client is served again at once")
    }

    @Test("a Content-Length over the limit is refused (413, closed) before any byte of the body is sent")
    func contentLengthFirst() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let c = try RawConnection(port: port, timeout: 2)
        c.send("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: 104857600\r\n\r\n")
        let r = try c.readResponse()
        #expect(r.status == 413)
        #expect(r.header("Connection")?.lowercased() == "close")
        #expect(c.closedByPeer(within: 2))
    }
}
