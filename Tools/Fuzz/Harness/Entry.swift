import Foundation

// libFuzzer entry point of `etrust-fuzz`: one binary, one harness per parser of outside input,
// chosen by ETRUST_FUZZ_TARGET (Tools/fuzz.sh sets it). Each harness must not crash whatever the
// bytes; errors thrown are the expected outcome for bad input and are ignored.

let harnesses: [String: @Sendable ([UInt8]) -> Void] = [
    "certificate": Harness.certificate,
    "csr": Harness.csr,
    "crl": Harness.crl,
    "ocsp-request": Harness.ocspRequest,
    "ocsp-response": Harness.ocspResponse,
    "cms": Harness.cms,
    "pkcs12": Harness.pkcs12,
    "trust-list": Harness.trustList,
    "policy-yaml": Harness.policyYAML,
    "dn": Harness.distinguishedName,
    "audit-bundle": Harness.auditBundle,
    "http": Harness.http,
]

let selected: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["ETRUST_FUZZ_TARGET"] ?? ""
    guard let h = harnesses[name] else {
        FileHandle.standardError.write(Data("ETRUST_FUZZ_TARGET must be one of: \(harnesses.keys.sorted().joined(separator: " "))\n".utf8))
        exit(2)
    }
    return h
}()

/// The libFuzzer callback. Exported under libFuzzer's name as well, which its own main (linked
/// from the sanitizer archive, though SwiftPM's alias below makes ours the one that runs) needs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver, linked by -sanitize=fuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable target's entry point under this name (and aliases main to it), so
/// libFuzzer's own main is not used: this one hands the command line to libFuzzer's driver.
@_cdecl("etrust_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
