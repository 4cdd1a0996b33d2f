import ETrustCore
import Foundation
import Synchronization
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The etrust-ocspd HTTP server, built in a function of its configuration so that tests run it
/// in-process on an ephemeral port. /ocsp is served by this lean handler (no router).
// @unchecked Sendable: `channel` and `timers` are set by start() and cleared by stop(), which the owner calls in turn.
public final class OCSPServer: @unchecked Sendable {
    public let source: OCSPAnswerSource
    public let configuration: ResponderConfiguration
    public let metrics = ResponderMetrics()
    let publicDirectory: String
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    private var channel: Channel?
    private var timers: [DispatchSourceTimer] = []
    let inFlight = InFlight()

    public init(source: OCSPAnswerSource, configuration: ResponderConfiguration, publicDirectory: String, logger: Logger,
                threads: Int = System.coreCount) {
        self.source = source
        self.configuration = configuration
        self.publicDirectory = publicDirectory
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Binds and starts serving; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                guard metrics.connectionOpened(limit: configuration.maxConnections) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in self.metrics.connectionClosed() }
                let clock = RequestClock(timeout: configuration.headerTimeout)
                return channel.pipeline.addHandler(RequestDeadlineHandler(clock: clock)).flatMap {
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                }.flatMap {
                    channel.pipeline.addHandler(OCSPHTTPHandler(server: self, clock: clock))
                }
            }
        let channel = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
        self.channel = channel
        // Revocations from other processes, renewals and signer rotation; audit checkpoints.
        timers.append(timer(every: configuration.refreshInterval) { [self] in
            do { try source.refresh() } catch { logger.error("refresh failed: \(error)") }
        })
        timers.append(timer(every: configuration.checkpointInterval) { [self] in source.checkpoint() })
        return channel.localAddress?.port ?? configuration.port
    }

    private func timer(every interval: TimeInterval, _ body: @escaping @Sendable () -> Void) -> DispatchSourceTimer {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "etrust-ocspd.timer"))
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler(handler: body)
        t.resume()
        return t
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (up to `grace`), stop.
    public func shutdown(grace: TimeInterval = 10) {
        for t in timers { t.cancel() }
        try? channel?.close().wait()
        let deadline = Date().addingTimeInterval(grace)
        while inFlight.count > 0 && Date() < deadline { usleep(10_000) }
        source.checkpoint()
        try? group.syncShutdownGracefully()
    }

    public func waitUntilClosed() throws { try channel?.closeFuture.wait() }
}

/// The time a client has to send a whole request, from its first byte (a slow sender cannot
/// hold a connection: the HTTP decoder emits nothing until the header block is complete).
// @unchecked Sendable: used only on its connection's event loop.
final class RequestClock: @unchecked Sendable {
    let timeout: TimeInterval
    var deadline: Scheduled<Void>?
    var inProgress = false
    init(timeout: TimeInterval) { self.timeout = timeout }
    func complete() {
        deadline?.cancel()
        deadline = nil
        inProgress = false
    }
}

/// In front of the HTTP decoder: arms the request deadline on the first byte of each request.
// @unchecked Sendable: a channel handler, used only on its channel's event loop.
final class RequestDeadlineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let clock: RequestClock
    init(clock: RequestClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !clock.inProgress {
            clock.inProgress = true
            let channel = context.channel
            clock.deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(clock.timeout * 1000))) {
                channel.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }
}

/// Requests being answered (stop() waits for them).
final class InFlight: Sendable {
    private let n = Atomic<Int>(0)
    var count: Int { n.load(ordering: .sequentiallyConsistent) }
    func enter() { n.add(1, ordering: .sequentiallyConsistent) }
    func leave() { n.subtract(1, ordering: .sequentiallyConsistent) }
}

/// One connection: collects a request (bounded), answers it, keeps the connection alive when
/// the client asks, and closes a client that takes longer than the header timeout to send a
/// whole request (a slow sender cannot hold a connection open).
// @unchecked Sendable: a channel handler, used only on its channel's event loop.
final class OCSPHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: OCSPServer
    let clock: RequestClock
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var started = DispatchTime.now()
    private var idle: Scheduled<Void>?

    init(server: OCSPServer, clock: RequestClock) { self.server = server; self.clock = clock }

    func channelActive(context: ChannelHandlerContext) {
        armIdle(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.complete()
        idle?.cancel()
        context.fireChannelInactive()
    }

    private func armIdle(_ context: ChannelHandlerContext) {
        idle?.cancel()
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.configuration.idleTimeout * 1000))) {
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            started = DispatchTime.now()
            idle?.cancel()
            if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > server.configuration.maxBodyBytes {
                tooLarge = true
            }
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > server.configuration.maxBodyBytes {
                tooLarge = true
                body = nil
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            clock.complete()
            guard let head else { return }
            server.inFlight.enter()
            respond(context: context, head: head)
            server.inFlight.leave()
            self.head = nil
            body = nil
            armIdle(context)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if tooLarge {
            send(context, head, status: .payloadTooLarge, body: Array("request body over \(server.configuration.maxBodyBytes) bytes\n".utf8),
                 contentType: "text/plain", outcome: "too_large", close: true)
            return
        }
        switch (head.method, path) {
        case (.POST, "/ocsp"), (.POST, "/"):
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            answer(context, head, bytes)
        case (.GET, _) where path.hasPrefix("/ocsp/"):
            guard let der = OCSPHTTPHandler.decodeGET(String(path.dropFirst(6))) else {
                answer(context, head, [])
                return
            }
            answer(context, head, der)
        case (.GET, "/healthz"):
            send(context, head, status: .ok, body: Array("ok\n".utf8), contentType: "text/plain", outcome: "healthz")
        case (.GET, "/metrics"):
            let text = server.metrics.text(cacheHits: server.source.cacheHits, signatures: server.source.signatures, cached: server.source.cachedResponses)
            send(context, head, status: .ok, body: Array(text.utf8), contentType: "text/plain; version=0.0.4", outcome: "metrics")
        case (.GET, _) where path.hasPrefix("/crl/") || path.hasPrefix("/ca/"):
            serveFile(context, head, path)
        case (_, "/ocsp"):
            send(context, head, status: .methodNotAllowed, body: [], contentType: "text/plain", outcome: "method")
        default:
            send(context, head, status: .notFound, body: Array("not found\n".utf8), contentType: "text/plain", outcome: "not_found")
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ der: [UInt8]) {
        let a = server.source.answer(der)
        var extra: [(String, String)] = []
        if let next = a.nextUpdate, let this = a.thisUpdate {
            // RFC 5019 6.2: caching by HTTP proxies within the response's validity.
            let maxAge = max(0, Int(next.timeIntervalSinceNow))
            extra = [("Cache-Control", "max-age=\(maxAge), public, no-transform, must-revalidate"),
                     ("Last-Modified", HTTPDate.format(this)), ("Expires", HTTPDate.format(next))]
            if let etag = a.etag { extra.append(("ETag", etag)) }
        }
        send(context, head, status: .ok, body: a.body, contentType: "application/ocsp-response", outcome: a.outcome.rawValue,
             serials: a.serials, extraHeaders: extra)
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
                      contentType: String, outcome: String, serials: [String] = [], extraHeaders: [(String, String)] = [], close: Bool = false) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        for (k, v) in extraHeaders { headers.add(name: k, value: v) }
        let keepAlive = head.isKeepAlive && !close
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        // Counted before the response leaves: a client that has its answer sees it in /metrics.
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        server.metrics.record(outcome: outcome, httpStatus: Int(status.code), seconds: seconds)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
        server.logger.info("\(head.method) \(head.uri.prefix(64)) \(status.code) \(outcome) serial=\(serials.joined(separator: ",")) \(String(format: "%.3f", seconds * 1000))ms")
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
