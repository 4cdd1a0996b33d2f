/// The one error type of etrust. `code` is extensible (static lets), `reason` is the human line the
/// CLI prints, `category` decides the exit code (refused 1, badInput 2, environment 3).
public struct ETrustError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        public static let openSSL: Code = "openssl"
        public static let malformedInput: Code = "malformed_input"
        public static let inputTooLarge: Code = "input_too_large"
        public static let badSignature: Code = "bad_signature"
        public static let wrongPassphrase: Code = "wrong_passphrase"
        public static let insecureKeyFile: Code = "insecure_key_file"
        public static let missingPassphrase: Code = "missing_passphrase"
        public static let invalidName: Code = "invalid_name"
        public static let invalidArgument: Code = "invalid_argument"
        public static let unsupportedAlgorithm: Code = "unsupported_algorithm"
        public static let policyRefused: Code = "policy_refused"
        public static let lintFailed: Code = "lint_failed"
        public static let notFound: Code = "not_found"
        public static let alreadyExists: Code = "already_exists"
        public static let invalidProfile: Code = "invalid_profile"
        public static let database: Code = "database"
        public static let io: Code = "io"
    }

    public enum Category: String, Sendable {
        /// The operation was refused or the object is invalid (exit 1).
        case refused
        /// Usage error or unreadable input (exit 2).
        case badInput
        /// Database, HSM, I/O or an internal failure (exit 3).
        case environment

        public var exitCode: Int32 {
            switch self {
            case .refused: 1
            case .badInput: 2
            case .environment: 3
            }
        }
    }

    public var code: Code
    public var reason: String
    public var category: Category
    /// For a refusal by a rule of a profile: the profile and the rule, as data, so that `--json`
    /// and the audit log report them without parsing `reason`.
    public var profile: String?
    public var rule: String?
    /// A certificate committed before the failure (its file could not be written): its serial,
    /// so that a retry fetches it instead of issuing a second one.
    public var committedSerial: String?
    /// For a failed OpenSSL call: which call, and the drained error queue as structured entries.
    /// Not part of equality (two failures of the same kind are the same error).
    public var openSSL: OpenSSLFailure?

    public init(_ code: Code, _ reason: String, category: Category) {
        self.code = code
        self.reason = reason
        self.category = category
    }

    public static func badInput(_ reason: String, code: Code = .malformedInput) -> ETrustError {
        ETrustError(code, reason, category: .badInput)
    }
    public static func refused(_ reason: String, code: Code = .policyRefused) -> ETrustError {
        ETrustError(code, reason, category: .refused)
    }
    public static func environment(_ reason: String, code: Code = .io) -> ETrustError {
        ETrustError(code, reason, category: .environment)
    }

    public var description: String { reason }

    public static func == (a: ETrustError, b: ETrustError) -> Bool {
        a.code == b.code && a.reason == b.reason && a.category == b.category
    }
}

/// The OpenSSL function etrust called and what OpenSSL's error queue held after it failed.
public struct OpenSSLFailure: Sendable, Equatable {
    public var call: String
    public var entries: [OpenSSLErrorEntry]
}
