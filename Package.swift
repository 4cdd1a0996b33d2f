// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "etrust",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "etrust", targets: ["etrust"]),
        .executable(name: "etrust-ocspd", targets: ["etrust-ocspd"]),
        .library(name: "ETrustCA", targets: ["ETrustCA"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The one C boundary: OpenSSL 3 (libssl-dev) and a shim for the macros Swift cannot call.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // PKCS#11 tokens (libp11-dev, and p11-kit's pkcs11.h from libp11-kit-dev): ETrustCore only.
        .systemLibrary(name: "CLibP11", pkgConfig: "libp11", providers: [.apt(["libp11-dev", "libp11-kit-dev"])]),
        // Embedded SQLite (libsqlite3-dev): the default store.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // libxml2 (libxml2-dev): parses ETSI TS 119 612 trusted lists; ETrustCore only.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "ETrustCore", dependencies: [
            "COpenSSL", "CLibP11", "CLibXML2",
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "ETrustPolicy", dependencies: [
            "ETrustCore",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "ETrustAudit", dependencies: ["ETrustCore"]),
        .target(name: "ETrustStore", dependencies: [
            "ETrustCore", "CSQLite",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ETrustCA", dependencies: ["ETrustCore", "ETrustPolicy", "ETrustStore", "ETrustAudit"]),
        .target(name: "ETrustValidation", dependencies: ["ETrustCore"]),
        .target(name: "ETrustOCSP", dependencies: [
            "ETrustCA", "ETrustCore", "ETrustPolicy", "ETrustStore", "ETrustValidation",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The auditors' read-only web console (etrust console): SwiftNIO as the responder, NIOSSL
        // (already resolved for postgres-nio) for TLS with client certificates.
        .target(name: "ETrustConsole", dependencies: [
            "ETrustCA", "ETrustAudit", "ETrustCore", "ETrustStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // What both executables share: the error-to-exit-code mapping and the secret reader.
        .target(name: "ETrustCommandLine", dependencies: [
            "ETrustCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "etrust-ocspd", dependencies: [
            "ETrustOCSP", "ETrustCA", "ETrustCore", "ETrustCommandLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "etrust", dependencies: [
            "ETrustCA", "ETrustCore", "ETrustPolicy", "ETrustStore", "ETrustAudit", "ETrustValidation", "ETrustOCSP", "ETrustConsole", "ETrustCommandLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "ETrustTestSupport", dependencies: ["ETrustCA", "ETrustStore", "ETrustValidation"], path: "Tests/ETrustTestSupport"),
        .testTarget(name: "ETrustCoreTests", dependencies: ["ETrustCore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustPolicyTests", dependencies: ["ETrustPolicy", "ETrustTestSupport"]),
        .testTarget(name: "ETrustCATests", dependencies: ["ETrustCA", "ETrustAudit", "ETrustPolicy", "ETrustStore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustAuditTests", dependencies: ["ETrustAudit", "ETrustCA", "ETrustStore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustRevocationTests", dependencies: ["ETrustCA", "ETrustCore", "ETrustStore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustValidationTests", dependencies: ["ETrustValidation", "ETrustCA", "ETrustCore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustOCSPTests", dependencies: [
            "ETrustOCSP", "ETrustAudit", "ETrustCA", "ETrustCore", "ETrustStore", "ETrustValidation", "ETrustTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ETrustTrustFrameworkTests", dependencies: ["ETrustValidation", "ETrustCA", "ETrustCore", "ETrustTestSupport"]),
        .testTarget(name: "ETrustStoreTests", dependencies: ["ETrustStore", "ETrustCA", "ETrustAudit", "ETrustCore", "ETrustTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ETrustTestSupport", "ETrustCA", "ETrustAudit"]),
        .testTarget(name: "ETrustHSMTests", dependencies: ["ETrustCA", "ETrustCore", "ETrustOCSP", "ETrustTestSupport"]),
    ]
)

// Fuzz harnesses (Tools/fuzz.sh): present only when ETRUST_FUZZ is set, because they link only
// with -sanitize=fuzzer (libFuzzer's driver). In-package, so they reach `package` wrappers and
// share Package.resolved; @testable (the fuzzer flavour below compiles for testing) reaches the
// responder's HTTP handler.
if Context.environment["ETRUST_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "etrust-fuzz", dependencies: [
        "ETrustCore", "ETrustPolicy", "ETrustAudit", "ETrustValidation", "ETrustOCSP", "ETrustCA", "ETrustTestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
    ], path: "Tools/Fuzz/Harness"))
}

// One place for the settings every target shares.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    // Crash points for the tests (FaultInjection.swift): compiled into debug builds only.
    settings.append(.define("ETRUST_FAULT_INJECTION", .when(configuration: .debug)))
    target.swiftSettings = settings
}

// Flavours of the one release build folder that Tools/test.sh, Tools/fuzz.sh and Tools/release.sh
// share. The dependencies are compiled the same way in every flavour, so they are compiled once
// (about two thirds of a build); only etrust's own targets are compiled again:
//   ETRUST_SANITIZE=address|thread|fuzzer  etrust's own code instrumented with that sanitizer,
//       compiled for testing (@testable) and with the crash points of FaultInjection.swift, as
//       debug builds are; its library and executables optimised, its tests not. `fuzzer` is
//       AddressSanitizer plus libFuzzer's coverage: the tests and executables link AddressSanitizer
//       only (its runtime has the coverage hooks), `etrust-fuzz` (ETRUST_FUZZ) libFuzzer too, so one
//       build serves the suite under ASan and the fuzz harnesses. The dependencies are not
//       instrumented.
//   ETRUST_STATIC_STDLIB=1  the executables link the Swift runtime statically (Tools/release.sh);
//       only the link differs, so a production build after a sanitizer flavour recompiles nothing
//       of the dependencies (SwiftPM's --static-swift-stdlib would recompile them all).
let flavour = Context.environment
if let sanitizer = flavour["ETRUST_SANITIZE"], !sanitizer.isEmpty {
    let compile = sanitizer == "fuzzer" ? "-sanitize=fuzzer,address" : "-sanitize=\(sanitizer)"
    let link = sanitizer == "fuzzer" ? "-sanitize=address" : compile
    for target in package.targets where target.type != .system {
        // The tests themselves are compiled as in a debug build (file by file, not optimised):
        // whole-module optimisation of the test modules would take longer than they run.
        let testCode = target.type == .test || target.path?.hasPrefix("Tests/") == true
        let mode = testCode ? ["-Onone", "-no-whole-module-optimization"] : []
        target.swiftSettings = (target.swiftSettings ?? []) + [
            .unsafeFlags([compile, "-enable-testing"] + mode), .define("ETRUST_FAULT_INJECTION"),
        ]
        target.linkerSettings = (target.linkerSettings ?? [])
            + [.unsafeFlags([target.name == "etrust-fuzz" ? compile : link])]
    }
}
if flavour["ETRUST_STATIC_STDLIB"] != nil {
    for target in package.targets where target.type == .executable {
        // Objects compiled without -static-stdlib name only Foundation's top libraries for the
        // link; the static ones need the libraries under them as well (what SwiftPM's
        // --static-swift-stdlib records at compile time), after them.
        target.linkerSettings = (target.linkerSettings ?? []) + [.unsafeFlags([
            "-static-stdlib", "-lFoundation", "-lFoundationInternationalization", "-lFoundationEssentials",
            "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections",
            "-lswiftSynchronization",
        ])]
    }
}
