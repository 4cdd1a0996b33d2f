import ETrustCA
import ETrustCore
import Foundation
import Synchronization
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where access lines go: a format, a writer, and whether they are written at all (the access
/// log is at info level: `--log-level error` turns it off).
public struct AccessLogging: Sendable {
    public var format: LogFormat
    public var writer: LogWriter?
    public init(format: LogFormat = .text, writer: LogWriter?) { self.format = format; self.writer = writer }
    public static let off = AccessLogging(writer: nil)
}

/// The etrust-ocspd HTTP server, built in a function of its configuration so that tests run it
/// in-process on an ephemeral port. /ocsp is served by this lean handler (no router). The event
/// loops parse, look up pre-signed bytes and write; whatever may block (the store, signing) runs
/// on a thread pool; the refresher runs on its own timer thread.
// @unchecked Sendable: `channel` and `timers` are set by start() and cleared by shutdown(), which the owner calls in turn.
public final class OCSPServer: @unchecked Sendable {
    public let source: OCSPAnswerSource
    public let configuration: ResponderConfiguration
    public let metrics: ResponderMetrics
    let publicDirectory: String
    let logger: Logger
    let accessLog: AccessLogging
    let group: MultiThreadedEventLoopGroup
    let blocking: NIOThreadPool
    let connections = ConnectionSet()
    /// Each event loop's recent answers (the fast path's cache), made before serving starts.
    let fastAnswers: [ObjectIdentifier: FastAnswerCache]
    private var channel: Channel?
    private var timers: [(source: DispatchSourceTimer, queue: DispatchQueue)] = []
    /// `POST /tsa` (etrust-ocspd --tsa): set before `start()`.
    public var timeStamps: TimeStampService?
    /// `POST /verify/certificate` and `/verify/signature` (etrust-ocspd --verify-api): set before `start()`.
    public var verification: VerificationAPI?

    public init(source: OCSPAnswerSource, configuration: ResponderConfiguration, publicDirectory: String, logger: Logger,
                accessLog: AccessLogging = .off, version: String = "unknown", threads: Int = System.coreCount) {
        self.source = source
        self.configuration = configuration
        self.publicDirectory = publicDirectory
        self.logger = logger
        self.accessLog = accessLog
        self.metrics = ResponderMetrics(version: version)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.fastAnswers = Dictionary(uniqueKeysWithValues: group.makeIterator().map { (ObjectIdentifier($0), FastAnswerCache()) })
        self.blocking = NIOThreadPool(numberOfThreads: max(1, configuration.blockingThreads))
    }

    /// `address:port` of a connection's client, as access lines name it.
    static func clientAddress(_ channel: Channel) -> String {
        guard let a = channel.remoteAddress else { return "-" }
        return "\(a.ipAddress ?? "?"):\(a.port ?? 0)"
    }

    /// The complete HTTP/1.1 stack, for every request the fast path (OCSPFastPathHandler) does
    /// not take: back-pressure (a client that sends requests but does not read the answers is not
    /// read either once a high-water mark of answers waits for it), the request deadline, NIOHTTP1
    /// with pipelining and error handling (outbound header validation off: every header written
    /// is made here from safe values), and the router.
    static func addCompleteHTTPStack(to sync: ChannelPipeline.SynchronousOperations, server: OCSPServer, clock: ConnectionClock,
                                     client: String, requestsSoFar: Int, opened: UInt64) throws {
        try sync.addHandler(BackPressureHandler())
        try sync.addHandler(RequestDeadlineHandler(clock: clock))
        try sync.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
        try sync.addHandler(OCSPHTTPHandler(server: server, clock: clock, client: client, requestsSoFar: requestsSoFar, opened: opened))
    }

    /// Binds and starts serving; returns the bound port. A port in use is an environment error
    /// (exit 3) naming the address.
    @discardableResult
    public func start() throws -> Int {
        blocking.start()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Work per connection is bounded whatever the client does: at most 2 reads of at most
            // 4 KiB per turn of the event loop (about 50 pipelined requests), so that one client
            // cannot delay the others; a small kernel send buffer, and no reading while more than
            // the high-water mark of answers waits.
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 2)
            .childChannelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 4096))
            .childChannelOption(ChannelOptions.socketOption(.so_sndbuf), value: 65_536)
            .childChannelOption(ChannelOptions.writeBufferWaterMark,
                                value: .init(low: configuration.writeBufferHighWaterMark / 2, high: configuration.writeBufferHighWaterMark))
            .childChannelInitializer { [self] channel in
                let address = channel.remoteAddress?.ipAddress ?? "?"
                guard metrics.connectionOpened(limit: configuration.maxConnections) else {
                    return channel.close()
                }
                guard connections.insert(channel, address: address, limit: configuration.maxConnectionsPerAddress) else {
                    metrics.connectionClosed()
                    metrics.rejectedConnection()
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in
                    self.metrics.connectionClosed()
                    self.connections.remove(channel, address: address)
                }
                if underPressure { shortenIdleConnections() }
                let clock = ConnectionClock(headerTimeout: configuration.headerTimeout)
                let answers = fastAnswers[ObjectIdentifier(channel.eventLoop)] ?? FastAnswerCache()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OCSPFastPathHandler(server: self, clock: clock, answers: answers))
                }
            }
        do {
            channel = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
        } catch let e as IOError where e.errnoCode == EADDRINUSE {
            shutdownThreads()
            throw ETrustError.environment("cannot listen on \(configuration.host):\(configuration.port): the address is already in use")
        } catch {
            shutdownThreads()
            throw ETrustError.environment("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        // Revocations from other processes, renewals, responder certificates provisioned by the
        // CA host, and a warning when one nears its end (the daemon never issues one).
        let warned = NIOLockedValueBox<Set<String>>([])
        timers.append(timer(every: configuration.refreshInterval) { [self] in
            do { try source.refresh() } catch { logger.error("refresh failed: \(Readiness.describe(error))") }
            let report = source.readiness.report(signers: source.signerHealth(), now: source.clock.now())
            for f in report.failing + report.warnings {
                guard warned.withLockedValue({ $0.insert(f.reason).inserted }) else { continue }
                if report.failing.contains(f) { logger.error("not ready: \(f.reason)") } else { logger.warning("\(f.reason)") }
            }
        })
        return channel?.localAddress?.port ?? configuration.port
    }

    private func timer(every interval: TimeInterval, _ body: @escaping @Sendable () -> Void) -> (source: DispatchSourceTimer, queue: DispatchQueue) {
        let queue = DispatchQueue(label: "etrust-ocspd.timer")
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler(handler: body)
        t.resume()
        return (t, queue)
    }

    /// SIGHUP: configuration, profiles and responder keys read again (`authority` is a new one over
    /// the home); open connections are not touched.
    public func reload(_ authority: Authority) throws {
        try source.reload(authority)
    }

    /// Draining shutdown (SIGTERM): stop accepting; every open connection is asked to quiesce
    /// (NIO's ChannelShouldQuiesceEvent: an idle one closes now, a busy one after its response);
    /// connections still open after `grace` are closed; then the threads stop.
    public func shutdown(grace: TimeInterval = 10) {
        // cancel() stops the next runs, not one in progress: waiting on the timer's queue lets a
        // refresh still reading the store finish, so that none runs on while the process exits
        // (an exit under a running refresh was seen to crash the daemon on its way out).
        for t in timers { t.source.cancel(); t.queue.sync {} }
        timers = []
        try? channel?.close().wait()
        let open = connections.all
        if !open.isEmpty {
            for c in open { c.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
            let loop = group.next()
            let force = loop.scheduleTask(in: .milliseconds(Int64(grace * 1000))) { for c in open { c.close(promise: nil) } }
            try? EventLoopFuture.andAllComplete(open.map(\.closeFuture), on: loop).wait()
            force.cancel()
        }
        shutdownThreads()
        timeStamps?.stop()
        accessLog.writer?.flush()
    }

    private func shutdownThreads() {
        try? blocking.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }

    public func waitUntilClosed() throws { try channel?.closeFuture.wait() }

    /// More than three quarters of the connection cap is in use.
    var underPressure: Bool { metrics.openConnections * 4 > configuration.maxConnections * 3 }

    /// The idle timeout now, in nanoseconds: shorter under pressure, so that idle clients cannot
    /// keep everyone else out.
    var idleTimeout: Int64 {
        Int64((underPressure ? min(configuration.idleTimeout, configuration.idleTimeoutUnderPressure) : configuration.idleTimeout) * 1e9)
    }

    private let lastSweep = NIOLockedValueBox<UInt64>(0)

    /// Under pressure, connections already idle get the short timeout too (at most once a
    /// quarter of that timeout, however fast connections arrive).
    private func shortenIdleConnections() {
        let now = DispatchTime.now().uptimeNanoseconds
        let every = UInt64(configuration.idleTimeoutUnderPressure * 0.25e9)
        guard lastSweep.withLockedValue({ last in
            guard now >= last &+ every else { return false }
            last = now
            return true
        }) else { return }
        for c in connections.all { c.pipeline.fireUserInboundEventTriggered(IdlePressure()) }
    }
}

/// A value on one event loop.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Sent to every connection when the cap is nearly reached: an idle one re-arms with the short timeout.
struct IdlePressure: Sendable {}

/// The open connections (for a draining shutdown) and how many each address holds.
final class ConnectionSet: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var perAddress: [String: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())

    /// false when `address` already holds `limit` connections.
    func insert(_ c: Channel, address: String, limit: Int) -> Bool {
        state.withLockedValue { s in
            guard s.perAddress[address, default: 0] < limit else { return false }
            s.perAddress[address, default: 0] += 1
            s.channels[ObjectIdentifier(c)] = c
            return true
        }
    }

    func remove(_ c: Channel, address: String) {
        state.withLockedValue { s in
            guard s.channels.removeValue(forKey: ObjectIdentifier(c)) != nil else { return }
            let n = s.perAddress[address, default: 1] - 1
            s.perAddress[address] = n > 0 ? n : nil
        }
    }

    var all: [Channel] { state.withLockedValue { Array($0.channels.values) } }
}

/// A connection's two deadlines, kept with one timer: the time a client has to send a whole
/// request from its first byte (a slow sender cannot hold a connection: the HTTP decoder emits
/// nothing until the header block is complete), and the time it may stay idle between requests.
/// Deadlines move with every request, but the timer does not: it is scheduled only when a
/// deadline comes before it, and when it fires it closes the connection or re-arms for the
/// next deadline. A busy keep-alive connection costs about one timer per header timeout, not
/// two schedule-and-cancel pairs per request.
// @unchecked Sendable: used only on its connection's event loop.
final class ConnectionClock: @unchecked Sendable {
    let headerTimeout: Int64
    private(set) var requestDeadline: Int64 = 0
    private var idleDeadline: Int64 = 0
    private var timerAt: Int64 = 0
    private var generation = 0
    var inRequest: Bool { requestDeadline != 0 }

    init(headerTimeout: TimeInterval) {
        self.headerTimeout = Int64(headerTimeout * 1e9)
    }

    static var now: Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }

    /// The first byte of a request: it must be complete within the header timeout.
    func requestStarted(_ context: ChannelHandlerContext) {
        idleDeadline = 0
        requestDeadline = Self.now + headerTimeout
        arm(requestDeadline, context)
    }

    /// The request is complete (being answered: neither deadline runs).
    func requestComplete() {
        requestDeadline = 0
        idleDeadline = 0
        answering = true
    }
    private var answering = false

    /// Waiting for the next request (after a response, or on a new connection).
    func idle(_ context: ChannelHandlerContext, timeout: Int64) {
        answering = false
        guard requestDeadline == 0 else { return }
        idleDeadline = Self.now + timeout
        arm(idleDeadline, context)
    }

    /// The server is nearly full: an idle connection's deadline comes forward to `timeout` from now.
    func shorten(_ context: ChannelHandlerContext, timeout: Int64) {
        guard !answering, requestDeadline == 0, idleDeadline != 0 else { return }
        idleDeadline = min(idleDeadline, Self.now + timeout)
        arm(idleDeadline, context)
    }

    func stop() { generation += 1 }

    private func arm(_ at: Int64, _ context: ChannelHandlerContext) {
        guard timerAt == 0 || at < timerAt else { return }
        generation += 1
        timerAt = at
        let expected = generation
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, at)))) {
            loopBound.value.fire(expected, channel)
        }
    }

    private func fire(_ expected: Int, _ channel: Channel) {
        guard expected == generation, channel.isActive else { return }
        timerAt = 0
        let next: Int64 = [requestDeadline, idleDeadline].filter { $0 != 0 }.min() ?? 0
        guard next != 0 else { return }
        if Self.now >= next {
            channel.close(promise: nil)
        } else {
            generation += 1
            timerAt = next
            let again = generation
            let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
            channel.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(next))) { loopBound.value.fire(again, channel) }
        }
    }
}

/// In front of the HTTP decoder: starts the request deadline on the first byte of each request.
// @unchecked Sendable: a channel handler, used only on its channel's event loop.
final class RequestDeadlineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let clock: ConnectionClock
    init(clock: ConnectionClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !clock.inRequest { clock.requestStarted(context) }
        context.fireChannelRead(data)
    }
}

/// One connection: collects a request (bounded), answers it, keeps the connection alive when
/// the client asks, and closes a client that takes longer than the header timeout to send a
/// whole request (a slow sender cannot hold a connection open).
// @unchecked Sendable: a channel handler, used only on its channel's event loop.
final class OCSPHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: OCSPServer
    let clock: ConnectionClock
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var limit = 0
    private var started: UInt64 = 0
    private var client: String
    private var requests: Int
    private let opened: UInt64

    /// `client`, `requestsSoFar` and `opened` carry on what the fast path began on this connection.
    init(server: OCSPServer, clock: ConnectionClock, client: String = "-", requestsSoFar: Int = 0,
         opened: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        self.server = server
        self.clock = clock
        self.client = client
        self.requests = requestsSoFar
        self.opened = opened
    }

    func channelActive(context: ChannelHandlerContext) {
        client = OCSPServer.clientAddress(context.channel)
        clock.idle(context, timeout: server.idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.stop()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdlePressure {
            clock.shorten(context, timeout: server.idleTimeout)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            started = DispatchTime.now().uptimeNanoseconds
            requests += 1
            limit = h.uri.hasPrefix("/verify/") && server.verification != nil ? server.configuration.maxVerifyBodyBytes : server.configuration.maxBodyBytes
            if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > limit {
                // Refused before the body is read: the answer goes now, and the connection closes.
                tooLarge = true
                respond(context: context, head: h)
            }
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                tooLarge = true
                body = nil
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            clock.requestComplete()
            guard let head, !(tooLarge && head.headers.first(name: "content-length") != nil) else { return }
            respond(context: context, head: head)
            self.head = nil
            body = nil
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if tooLarge {
            send(context, head, status: .payloadTooLarge, body: Array("request body over \(limit) bytes\n".utf8),
                 contentType: "text/plain", outcome: "too_large", close: true)
            return
        }
        switch (head.method, path) {
        case (.POST, "/ocsp"), (.POST, "/"):
            answer(context, head, body.map { Array($0.readableBytesView) } ?? [])
        case (.GET, _) where path.hasPrefix("/ocsp/"):
            answer(context, head, OCSPHTTPHandler.decodeGET(String(path.dropFirst(6))) ?? [])
        case (.POST, "/tsa") where server.timeStamps != nil:
            timeStamp(context, head, body.map { Array($0.readableBytesView) } ?? [])
        case (.POST, "/verify/certificate") where server.verification != nil, (.POST, "/verify/signature") where server.verification != nil:
            verify(context, head, path, body.map { Array($0.readableBytesView) } ?? [])
        case (.GET, "/healthz"):
            send(context, head, status: .ok, body: Array("ok\n".utf8), contentType: "text/plain", outcome: "healthz")
        case (.GET, "/readyz"):
            let report = server.source.readiness.report(signers: server.source.signerHealth(), now: server.source.clock.now())
            send(context, head, status: report.ready ? .ok : .serviceUnavailable, body: report.json, contentType: "application/json", outcome: "readyz")
        case (.GET, "/metrics"):
            let text = server.metrics.text(source: server.source, accessLogDropped: server.accessLog.writer?.dropped ?? 0)
            send(context, head, status: .ok, body: Array(text.utf8), contentType: "text/plain; version=0.0.4", outcome: "metrics")
        case (.GET, _) where path.hasPrefix("/crl/") || path.hasPrefix("/ca/"):
            serveFile(context, head, path)
        case (_, "/ocsp"):
            send(context, head, status: .methodNotAllowed, body: [], contentType: "text/plain", outcome: "method", ocsp: true)
        default:
            send(context, head, status: .notFound, body: Array("not found\n".utf8), contentType: "text/plain", outcome: "not_found")
        }
    }

    /// The front of the source stack here, on the event loop (parse, filter, pre-signed bytes);
    /// the rest (store, live signing) on the thread pool, answered back on this event loop.
    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ der: [UInt8]) {
        let source = server.source
        guard let question = source.question(der) else {
            reply(context, head, .error(.malformedRequest, .malformed))
            return
        }
        if let a = source.stack.answerWithoutBlocking(question) {
            reply(context, head, a)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        server.blocking.runIfActive(eventLoop: context.eventLoop) { source.stack.answerBlocking(question) }
            .whenComplete { result in
                let (handler, context) = bound.value
                let a = (try? result.get()) ?? .error(.internalError, .internalError, serials: question.serials)
                handler.reply(context, head, a)
            }
    }

    /// RFC 3161 over HTTP (section 3.4): signed on the thread pool, answered once its record committed.
    private func timeStamp(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ der: [UInt8]) {
        guard let service = server.timeStamps else { return }
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        server.blocking.submit { state in
            guard case .active = state else { return promise.fail(ETrustError.environment("shutting down")) }
            service.answer(der) { promise.completeWith($0) }
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let reply):
                handler.send(context, head, status: .ok, body: reply, contentType: "application/timestamp-reply", outcome: "tsa")
            case .failure(let error):
                handler.server.logger.error("time-stamping failed: \(Readiness.describe(error))")
                handler.send(context, head, status: .internalServerError, body: Array("time-stamping failed\n".utf8), contentType: "text/plain",
                             outcome: "tsa_error")
            }
        }
    }

    /// The validation API: judged on the thread pool; 503 when that takes longer than the limit.
    private func verify(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ path: String, _ body: [UInt8]) {
        guard let api = server.verification else { return }
        let loop = context.eventLoop
        let answered = NIOLoopBound(Box(false), eventLoop: loop)
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let finish: @Sendable (Int, [String: Any]) -> Void = { status, json in
            guard !answered.value.value else { return }
            answered.value.value = true
            let (handler, context) = bound.value
            var bytes: [UInt8] = []
            if let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]) { bytes = [UInt8](data) + [0x0a] }
            handler.send(context, head, status: HTTPResponseStatus(statusCode: status), body: bytes, contentType: "application/json",
                         outcome: "verify")
        }
        let timer = loop.scheduleTask(in: .milliseconds(Int64(server.configuration.verifyTimeLimit * 1000))) {
            finish(503, ["error": "the verification took longer than \(Int(self.server.configuration.verifyTimeLimit)) s"])
        }
        server.blocking.submit { state in
            guard case .active = state else { return loop.execute { finish(503, ["error": "shutting down"]) } }
            let answer = api.answer(path: path, body: body)
            loop.execute {
                timer.cancel()
                finish(answer.status, answer.json)
            }
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ a: OCSPAnswer) {
        send(context, head, status: .ok, body: a.body, contentType: "application/ocsp-response", outcome: a.outcome.rawValue,
             serials: a.serials, extraHeaders: a.cachingHeaders(), ocsp: true)
    }

    private func serveFile(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ path: String) {
        let parts = path.split(separator: "/")
        guard parts.count == 2, let name = parts.last,
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), !name.hasPrefix(".") else {
            send(context, head, status: .notFound, body: [], contentType: "text/plain", outcome: "not_found")
            return
        }
        let file = server.publicDirectory + "/" + parts[0] + "/" + name
        guard let data = FileManager.default.contents(atPath: file) else {
            send(context, head, status: .notFound, body: Array("not found\n".utf8), contentType: "text/plain", outcome: "not_found")
            return
        }
        let type = name.hasSuffix(".crl") ? "application/pkix-crl" : "application/pkix-cert"
        send(context, head, status: .ok, body: [UInt8](data), contentType: type, outcome: "file")
    }

    private func send(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, status: HTTPResponseStatus, body: [UInt8],
                      contentType: String, outcome: String, serials: [String] = [], extraHeaders: [(String, String)] = [],
                      close: Bool = false, ocsp: Bool = false) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        for (k, v) in extraHeaders { headers.add(name: k, value: v) }
        let keepAlive = head.isKeepAlive && !close && requests < server.configuration.maxRequestsPerConnection
            && Double(DispatchTime.now().uptimeNanoseconds &- opened) / 1e9 < server.configuration.maxConnectionLifetime
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        // Counted before the bytes leave: a client that reads this answer and then asks /metrics
        // (another connection, maybe another thread) sees it counted.
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        server.metrics.record(ocsp: ocsp, outcome: outcome, httpStatus: Int(status.code), nanoseconds: elapsed)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
        clock.idle(context, timeout: server.idleTimeout)
        if let writer = server.accessLog.writer {
            let (format, client, outcome) = (server.accessLog.format, client, outcome)
            writer.write { out, time in
                LogLine.access(&out, time: time, format: format, client: client, method: head.method.rawValue, path: head.uri[...],
                               status: Int(status.code), outcome: outcome, serials: serials, nanoseconds: elapsed)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// RFC 5019 GET: the URL-encoded base64 of the DER request; the unencoded and URL-safe
    /// variants clients also send are accepted.
    static func decodeGET(_ encoded: String) -> [UInt8]? {
        var s = encoded.removingPercentEncoding ?? encoded
        s = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        guard let d = Data(base64Encoded: s), !d.isEmpty else { return nil }
        return [UInt8](d)
    }
}

enum HTTPDate {
    static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%a, %d %b %Y %H:%M:%S GMT", &tm)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
