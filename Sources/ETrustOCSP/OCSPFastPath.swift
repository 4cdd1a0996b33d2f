import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The responder's HTTP path for OCSP requests: one handler per connection, in place of the seven
/// of the complete HTTP/1.1 stack (back-pressure, request deadline, HTTP decoder, pipelining,
/// error handler, encoder, router). It reads requests from the bytes as they arrive
/// (FastHTTPRequest), answers each from the per-event-loop answer cache or the source stack, and
/// writes each answer as one buffer. The first request it does not recognise exactly hands the
/// connection, with its unread bytes, to the complete stack for the rest of its life (see
/// `handOver`), so every route and every refusal behaves as before.
///
/// Bounds kept as in the complete stack: no reading while a client's unread answers are above the
/// write-buffer high-water mark (nor while an answer is being made off the loop), the connection's
/// clock (header and idle deadlines), the request and lifetime caps per connection, a body limit
/// decided on Content-Length before the body is read.
// @unchecked Sendable: a channel handler, used only on its channel's event loop.
final class OCSPFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: OCSPServer
    let clock: ConnectionClock
    let answers: FastAnswerCache
    private var buffer: ByteBuffer?
    private var handedOver = false
    /// An answer is being made off the event loop: later requests wait in `buffer` (answers leave in order).
    private var answering = false
    private var readHeld = false
    private var quiescing = false
    private var requests = 0
    private var client = "-"
    private let opened = DispatchTime.now().uptimeNanoseconds

    init(server: OCSPServer, clock: ConnectionClock, answers: FastAnswerCache) {
        self.server = server
        self.clock = clock
        self.answers = answers
    }

    func channelActive(context: ChannelHandlerContext) {
        client = OCSPServer.clientAddress(context.channel)
        clock.idle(context, timeout: server.idleTimeout)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { client = OCSPServer.clientAddress(context.channel) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !handedOver { clock.stop() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !handedOver else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if !clock.inRequest { clock.requestStarted(context) }
        if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
        serveBuffered(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard !handedOver else { return context.fireUserInboundEventTriggered(event) }
        if event is IdlePressure {
            clock.shorten(context, timeout: server.idleTimeout)
        } else if event is ChannelShouldQuiesceEvent {
            // Draining: an idle connection closes now, a busy one after its answer.
            quiescing = true
            if !answering && (buffer?.readableBytes ?? 0) == 0 { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // Back-pressure: reads are held while the client's answers pile up unread, or while one is being made.
    func read(context: ChannelHandlerContext) {
        if handedOver || (context.channel.isWritable && !answering) {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !handedOver, context.channel.isWritable {
            serveBuffered(context)
            resumeReading(context)
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard readHeld, context.channel.isWritable, !answering else { return }
        readHeld = false
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !handedOver else { return context.fireErrorCaught(error) }
        context.close(promise: nil)
    }

    /// Answers every whole request in `buffer`, in order, while the client reads its answers.
    private func serveBuffered(_ context: ChannelHandlerContext) {
        var wrote = false
        defer { if wrote { context.flush() } }
        while !handedOver, !answering, context.channel.isActive, context.channel.isWritable, var pending = buffer, pending.readableBytes > 0 {
            let parsed = pending.withUnsafeReadableBytes { FastHTTPRequest.parse($0, maxBody: server.configuration.maxBodyBytes) }
            switch parsed {
            case .incomplete:
                return
            case .other:
                if wrote { context.flush(); wrote = false }
                return handOver(context)
            case .request(let request):
                let body = pending.getBytes(at: pending.readerIndex + request.headLength, length: request.contentLength) ?? []
                pending.moveReaderIndex(forwardBy: request.headLength + request.contentLength)
                buffer = pending.readableBytes > 0 ? pending : nil
                wrote = serve(context, request, body) || wrote
                if buffer != nil, !clock.inRequest { clock.requestStarted(context) }
            }
        }
    }

    /// One request: true when its answer was written now, false when it is being made off the loop.
    private func serve(_ context: ChannelHandlerContext, _ request: FastHTTPRequest, _ body: [UInt8]) -> Bool {
        let started = DispatchTime.now().uptimeNanoseconds
        requests += 1
        clock.requestComplete()
        let der = request.method == .post ? body : (OCSPHTTPHandler.decodeGET(String(decoding: request.target.dropFirst(6), as: UTF8.self)) ?? [])
        let keepAlive = request.keepAlive && !quiescing && requests < server.configuration.maxRequestsPerConnection
            && Double(started &- opened) / 1e9 < server.configuration.maxConnectionLifetime
        if let known = answers.lookup(der, now: started, generation: server.source.generation) {
            server.source.counters.hit()   // a pre-signed answer, served again
            write(context, request, known, keepAlive: keepAlive, started: started)
            return true
        }
        let source = server.source
        guard let question = source.question(der) else {
            write(context, request, FastAnswer(.error(.malformedRequest, .malformed), http10: request.http10), keepAlive: keepAlive, started: started)
            return true
        }
        let generation = source.generation
        if let a = source.stack.answerWithoutBlocking(question) {
            let answer = FastAnswer(a, http10: request.http10)
            if a.fromCache { answers.store(der, answer, now: started, generation: generation) }
            write(context, request, answer, keepAlive: keepAlive, started: started)
            return true
        }
        answering = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        server.blocking.runIfActive(eventLoop: context.eventLoop) { source.stack.answerBlocking(question) }
            .whenComplete { result in
                let (handler, context) = bound.value
                handler.answering = false
                let a = (try? result.get()) ?? .error(.internalError, .internalError, serials: question.serials)
                handler.write(context, request, FastAnswer(a, http10: request.http10), keepAlive: keepAlive, started: started)
                context.flush()
                handler.serveBuffered(context)
                handler.resumeReading(context)
            }
        return false
    }

    private func write(_ context: ChannelHandlerContext, _ request: FastHTTPRequest, _ answer: FastAnswer, keepAlive: Bool, started: UInt64) {
        guard context.channel.isActive else { return }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        // Counted before the bytes leave (a client that then asks /metrics sees it counted).
        server.metrics.recordOCSP(outcome: answer.outcome, nanoseconds: elapsed)
        if keepAlive {
            context.write(wrapOutboundOut(answer.keepAliveBytes), promise: nil)
            clock.idle(context, timeout: server.idleTimeout)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer.closingBytes)).whenComplete { _ in channel.close(promise: nil) }
        }
        if let writer = server.accessLog.writer {
            let (format, client) = (server.accessLog.format, client)
            writer.write { out, time in
                LogLine.access(&out, time: time, format: format, client: client, method: request.method == .get ? "GET" : "POST",
                               path: request.path, tail: answer.logTail, nanoseconds: elapsed)
            }
        }
    }

    /// From here on the complete HTTP stack serves this connection: its handlers are added behind
    /// this one, the bytes not yet answered go to them, and this handler leaves the pipeline.
    private func handOver(_ context: ChannelHandlerContext) {
        do {
            try OCSPServer.addCompleteHTTPStack(to: context.pipeline.syncOperations, server: server, clock: clock,
                                                client: client, requestsSoFar: requests, opened: opened)
        } catch {
            context.close(promise: nil)
            return
        }
        handedOver = true
        if let rest = buffer {
            buffer = nil
            context.fireChannelRead(wrapInboundOut(rest))
            context.fireChannelReadComplete()
        }
        if readHeld { readHeld = false; context.read() }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// One OCSP answer as the fast path writes it: the whole HTTP response (status line, headers and
/// body) in one buffer, for a connection kept alive and for one closing after it.
struct FastAnswer {
    let keepAliveBytes: ByteBuffer
    let closingBytes: ByteBuffer
    let outcome: OCSPAnswer.Outcome
    /// The access line's end for this answer (status, outcome, serials).
    let logTail: LogLine.AccessTail
    /// The answer's nextUpdate in uptime nanoseconds (a cached copy never outlives it).
    let expires: UInt64?

    init(_ a: OCSPAnswer, http10: Bool) {
        var head = (http10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n")
            + "Content-Type: application/ocsp-response\r\nContent-Length: \(a.body.count)\r\n"
        for (name, value) in a.cachingHeaders() { head += name + ": " + value + "\r\n" }
        keepAliveBytes = FastAnswer.bytes(head + (http10 ? "Connection: keep-alive\r\n\r\n" : "\r\n"), a.body)
        closingBytes = FastAnswer.bytes(head + "Connection: close\r\n\r\n", a.body)
        outcome = a.outcome
        logTail = LogLine.AccessTail(status: 200, outcome: a.outcome.rawValue, serials: a.serials)
        expires = a.nextUpdate.map { next in
            let left = max(0, next.timeIntervalSinceNow)
            return DispatchTime.now().uptimeNanoseconds &+ UInt64(min(left, 86_400 * 365) * 1e9)
        }
    }

    private static func bytes(_ head: String, _ body: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(head.utf8.count + body.count)
        b.writeString(head)
        b.writeBytes(body)
        return b
    }
}

/// The answers an event loop wrote lately, keyed by the request's DER (RFC 5019 requests carry
/// no nonce, so clients asking about one certificate send the same bytes): a repeated request is
/// answered without parsing it, looking it up or formatting headers. An entry lives at most one
/// second (Cache-Control max-age counts down in seconds) and only while the responder's answers
/// are unchanged: any change to them (a revocation, a renewal, a reload) moves the source's
/// generation and every entry made before it is ignored. Only pre-signed answers are kept.
// @unchecked Sendable: each instance is used by one event loop only.
final class FastAnswerCache: @unchecked Sendable {
    private struct Entry {
        let answer: FastAnswer
        let validUntil: UInt64
        let generation: Int
    }
    /// A request's bytes as a key, hashed in one pass (an array of bytes hashes byte by byte).
    private struct Key: Hashable {
        let der: [UInt8]
        func hash(into hasher: inout Hasher) { der.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }
    private var entries: [Key: Entry] = [:]
    let capacity: Int
    static let lifetime: UInt64 = 1_000_000_000

    init(capacity: Int = 4096) { self.capacity = capacity }

    func lookup(_ der: [UInt8], now: UInt64, generation: Int) -> FastAnswer? {
        guard let e = entries[Key(der: der)] else { return nil }
        guard e.generation == generation, now < e.validUntil else {
            entries[Key(der: der)] = nil
            return nil
        }
        return e.answer
    }

    func store(_ der: [UInt8], _ answer: FastAnswer, now: UInt64, generation: Int) {
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[Key(der: der)] = Entry(answer: answer, validUntil: min(now &+ FastAnswerCache.lifetime, answer.expires ?? .max), generation: generation)
    }

    var count: Int { entries.count }
}

extension OCSPAnswer {
    /// RFC 5019 6.2's caching headers for an answer with validity dates (for HTTP proxies,
    /// within the response's validity); none for an error answer.
    func cachingHeaders() -> [(String, String)] {
        var headers: [(String, String)] = []
        if let next = nextUpdate, let this = thisUpdate {
            let maxAge = max(0, Int(next.timeIntervalSinceNow))
            let dates = httpDates ?? (HTTPDate.format(this), HTTPDate.format(next))
            headers = [("Cache-Control", "max-age=\(maxAge), public, no-transform, must-revalidate"),
                        ("Last-Modified", dates.lastModified), ("Expires", dates.expires)]
            if let etag { headers.append(("ETag", etag)) }
        }
        return headers
    }
}
