import Dispatch

/// `transform` applied to every element on all cores; results in request order.
func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
    let slots = ResultSlots<R>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: items.count) { i in slots.set(i, transform(items[i])) }
    return slots.values
}

/// Results written by index from `concurrentPerform`, in memory allocated once: concurrent writes
/// through a Swift array would race on its copy-on-write buffer even at distinct indices.
private final class ResultSlots<R>: @unchecked Sendable {   // unchecked: each index has one writer; read after concurrentPerform returns
    private let buffer: UnsafeMutableBufferPointer<R?>
    private let count: Int

    init(count: Int) {
        self.count = count
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ i: Int, _ value: R) { buffer[i] = value }
    var values: [R] { (0..<count).map { buffer[$0]! } }
}
