import ETrustCA
import ETrustCore
import ETrustStore
import Foundation
import Synchronization

/// `POST /tsa` of etrust-ocspd: RFC 3161 tokens signed by the home's time-stamping unit, each with
/// a fresh 128-bit CSPRNG serial, the unit's policy, an accuracy, the request's nonce echoed and
/// the unit's certificate when the request asks for it (ESSCertIDv2 always). Every granted token
/// is recorded before its reply leaves (see `TokenRecorder`). Thread-safe: signing runs on the
/// server's thread pool.
public final class TimeStampService: Sendable {
    public let signer: TSASignerRecord
    let unit: TimeStamp.Authority
    let recorder: TokenRecorder
    let clock: ETrustClock

    /// Loads the newest unit (of `ca`, or of any CA) from `authority`; tokens are recorded in
    /// `store` (a connection of the service's own).
    public init(authority: Authority, ca: String?, store: any TimeStampStorage, batch: TokenRecorder.Batch = .init()) throws {
        let loaded = try TSASigning(authority: authority).signer(ca: ca)
        signer = loaded.record
        unit = loaded.authority
        clock = authority.clock
        recorder = TokenRecorder(store: store, batch: batch)
    }

    /// Answers one TimeStampReq (DER): the reply's DER, and the record to write when a token was granted.
    public func respond(_ request: [UInt8]) throws -> (reply: [UInt8], record: TimeStampTokenRecord?) {
        var serial = try CSPRNG.bytes(16)
        serial[0] = (serial[0] & 0x7f) | 0x01   // positive, and 16 octets long
        let response = try TimeStamp.respond(to: request, as: unit, serial: serial, time: clock.now())
        guard response.granted, let info = response.info else { return (response.der, nil) }
        return (response.der, TimeStampTokenRecord(serialHex: info.serialHex, signerID: signer.id, hashAlgorithm: info.hashAlgorithm,
                                                   imprintHex: Hex.encode(info.messageImprint), genTime: info.genTime, policy: info.policy))
    }

    /// Answers and records: `done` gets the reply once its record is committed, or the error.
    public func answer(_ request: [UInt8], done: @escaping @Sendable (Result<[UInt8], Error>) -> Void) {
        do {
            let (reply, record) = try respond(request)
            guard let record else { return done(.success(reply)) }
            recorder.submit(record) { error in
                if let error { done(.failure(error)) } else { done(.success(reply)) }
            }
        } catch {
            done(.failure(error))
        }
    }

    public func stop() { recorder.stop() }
}

/// Writes token records in batches: one transaction per batch (at most `maxTokens`, or what
/// arrived within `interval` of the first), on a thread of its own. A caller's completion runs
/// after the transaction holding its record committed, so a reply is never sent for a token
/// that was not recorded, and the database sees one write per batch, not per token.
public final class TokenRecorder: Sendable {
    public struct Batch: Sendable {
        public var interval: TimeInterval = 0.005
        public var maxTokens = 512
        public init(interval: TimeInterval = 0.005, maxTokens: Int = 512) { self.interval = interval; self.maxTokens = maxTokens }
    }
    typealias Pending = (record: TimeStampTokenRecord, done: @Sendable (Error?) -> Void)

    private struct State {
        var pending: [Pending] = []
        var stopped = false
    }
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    let batch: Batch
    // Used by the recorder's thread only.
    nonisolated(unsafe) let store: any TimeStampStorage

    init(store: any TimeStampStorage, batch: Batch) {
        self.store = store
        self.batch = batch
        let thread = Thread { [self] in run() }
        thread.name = "etrust-tsa-recorder"
        thread.start()
    }

    func submit(_ record: TimeStampTokenRecord, done: @escaping @Sendable (Error?) -> Void) {
        let (accepted, first) = state.withLock { s -> (Bool, Bool) in
            guard !s.stopped else { return (false, false) }
            s.pending.append((record, done))
            return (true, s.pending.count == 1)
        }
        guard accepted else { return done(ETrustError.environment("the time-stamping service is stopping")) }
        if first { wakeUp.signal() }
    }

    /// Writes what is pending, then ends the thread.
    func stop() {
        let running = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard running else { return }
        wakeUp.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wakeUp.wait()
            // Give the batch `interval` to fill (or until it is full).
            let deadline = Date().addingTimeInterval(batch.interval)
            while Date() < deadline, state.withLock({ !$0.stopped && $0.pending.count < batch.maxTokens }) { usleep(500) }
            let (taken, stopped) = state.withLock { s -> ([Pending], Bool) in
                let n = min(s.pending.count, s.stopped ? s.pending.count : batch.maxTokens)
                defer { s.pending.removeFirst(n) }
                return (Array(s.pending.prefix(n)), s.stopped)
            }
            if !taken.isEmpty {
                let error: Error?
                do { try store.record(timeStampTokens: taken.map(\.record)); error = nil } catch let e { error = e }
                for p in taken { p.done(error) }
            }
            if stopped { finished.signal(); return }
            // More arrived meanwhile: go round again without waiting for a signal.
            if state.withLock({ !$0.pending.isEmpty }) { wakeUp.signal() }
        }
    }
}
