/// The version both executables print with `--version`, and every new audit event records
/// (`etrustVersion`, see `ETrustBuild`). Tools/release.sh stamps `git describe` into it for a
/// release build (`0.11.0+<describe>`, or the tag itself when HEAD is tagged); a development
/// build says the base. It lives here, under the executables only, so that stamping it rebuilds
/// this module and the two executables, not the libraries.
public enum ETrustVersion {
    public static let string = "0.11.0"
}
