import ETrustCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The console's HTTP(S) server on SwiftNIO, the stack the OCSP responder already uses: one
/// event loop parses and writes; one worker thread renders pages (the store is one connection).
/// With TLS, the server asks every client for a certificate and accepts whichever it presents at
/// the TLS layer (the handshake still proves the client holds its key); the page layer then
/// admits only this home's auditor certificates, so that a stranger gets a 403, not a reset.
public final class ConsoleServer: @unchecked Sendable {   // start() then shutdown(), by the owner in turn
    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String
        public init(certificateChain: String, privateKey: String) { self.certificateChain = certificateChain; self.privateKey = privateKey }
    }

    let app: ConsoleApp
    let host: String
    let port: Int
    let sslContext: NIOSSLContext?
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let worker = NIOThreadPool(numberOfThreads: 1)
    private var channel: Channel?
    /// Largest request body read (the login form): anything larger is refused.
    static let maxBody = 8 * 1024

    public init(app: ConsoleApp, host: String, port: Int, tls: TLSFiles?) throws {
        self.app = app; self.host = host; self.port = port
        sslContext = try tls.map(ConsoleServer.context)
    }

    static func context(_ files: TLSFiles) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
            var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            config.certificateVerification = .optionalVerification
            config.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: config)
        } catch {
            throw ETrustError.badInput("cannot use \(files.certificateChain) and \(files.privateKey) for TLS: \(error)", code: .invalidArgument)
        }
    }

    /// Binds and serves; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        worker.start()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        // Every chain is accepted here; ConsoleGate decides who gets in.
                        try sync.addHandler(NIOSSLServerHandler(context: sslContext, customVerificationCallback: { _, promise in
                            promise.succeed(.certificateVerified)
                        }))
                    }
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(ConsoleHTTPHandler(server: self, tls: sslContext != nil))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            try? worker.syncShutdownGracefully()
            throw ETrustError.environment("cannot listen on \(host):\(port): \(error)")
        }
        return channel?.localAddress?.port ?? port
    }

    public func wait() throws { try channel?.closeFuture.wait() }

    public func shutdown() {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
        try? worker.syncShutdownGracefully()
    }
}

/// One connection: gathers a request, renders it on the worker, writes the answer.
final class ConsoleHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: ConsoleServer
    let tls: Bool
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var requests = 0

    init(server: ConsoleServer, tls: Bool) { self.server = server; self.tls = tls }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h; body = []; tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > ConsoleServer.maxBody { tooLarge = true } else { body += chunk.readableBytesView }
        case .end:
            guard let head else { return }
            self.head = nil
            requests += 1
            if tooLarge { write(context, head, .text(413, "request too large")); return }
            let request = ConsoleRequest(method: head.method.rawValue, uri: head.uri,
                                         headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                                         body: body, clientCertificate: peerCertificate(context), firstOnConnection: requests == 1)
            let app = server.app
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            server.worker.runIfActive(eventLoop: context.eventLoop) { app.respond(request) }.whenComplete { result in
                let (handler, context) = bound.value
                handler.write(context, head, (try? result.get()) ?? .text(500, "internal error"))
            }
        }
    }

    private func peerCertificate(_ context: ChannelHandlerContext) -> [UInt8]? {
        guard tls, let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) else { return nil }
        return try? handler.peerCertificate?.toDERBytes()
    }

    private func write(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ r: ConsoleResponse) {
        var headers = HTTPHeaders([("Content-Type", r.contentType), ("Content-Length", String(r.body.count))])
        for (k, v) in r.headers { headers.add(name: k, value: v) }
        let keepAlive = request.isKeepAlive && r.status != 413
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: r.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: r.body)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in if !keepAlive { context.close(promise: nil) } }
    }
}
