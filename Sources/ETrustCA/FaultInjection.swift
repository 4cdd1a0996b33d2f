import Foundation

/// Test-only crash points: with ETRUST_FAULT_INJECTION=NAME the process kills itself (SIGKILL)
/// at the named point, so that tests can prove what survives a crash there. Compiled only into
/// debug builds (the test builds: Package.swift defines ETRUST_FAULT_INJECTION for debug); a
/// release binary has no such points.
package enum FaultInjection {
    #if ETRUST_FAULT_INJECTION
    static let active = ProcessInfo.processInfo.environment["ETRUST_FAULT_INJECTION"]
    @inline(__always) package static func point(_ name: StaticString) {
        if let active, active == "\(name)" { kill(getpid(), SIGKILL) }
    }
    /// True where the test asks the named step to fail (instead of crashing).
    @inline(__always) package static func fails(_ name: StaticString) -> Bool {
        if let active, active == "\(name)" { return true }
        return false
    }
    #else
    @inline(__always) package static func point(_ name: StaticString) {}
    @inline(__always) package static func fails(_ name: StaticString) -> Bool { false }
    #endif
}
