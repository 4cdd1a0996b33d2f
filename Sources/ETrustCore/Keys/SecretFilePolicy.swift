import Foundation

/// The one permission policy for every secret etrust reads from a file: private keys (CA, audit,
/// responder, TSA), passphrase and PIN files, the database password file and the home's `keys/`
/// folder. What the group or others can read, write or enter is refused — someone has already
/// weakened its protection — with the chmod that fixes it.
public enum SecretFilePolicy {
    /// Refuses a secret file (`what`: "key file", "passphrase file", ...) that the group or others
    /// can access. A file that does not exist passes: its absence is the caller's error to name.
    public static func check(_ path: String, what: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let isFolder = (st.st_mode & S_IFMT) == S_IFDIR
        guard st.st_mode & 0o077 != 0 else { return }
        throw ETrustError.refused(
            "\(path): \(what) mode \(String(st.st_mode & 0o777, radix: 8)) is group- or world-accessible; chmod \(isFolder ? "700" : "600") it",
            code: .insecureKeyFile)
    }
}
