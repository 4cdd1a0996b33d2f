/// The version both executables print with `--version`.
public enum ETrustVersion {
    public static let string = "0.11.0"
}
