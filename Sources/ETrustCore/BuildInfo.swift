import Synchronization

/// The version of the program running, set once by the executables at start
/// (`CommandLineMain.run`) and recorded in every audit event they append. Library users that
/// do not set it record none.
public enum ETrustBuild {
    private static let stored = Mutex<String?>(nil)

    public static var version: String? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
