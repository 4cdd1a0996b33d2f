import ArgumentParser
import ETrustCA
import ETrustCommandLine
import ETrustCore
import Foundation

/// `ca create` options that split control of a new CA's file key among custodians, M-of-N.
struct CustodyOptions: ParsableArguments {
    @Option(help: "Split control of the key among N custodians (2-16; file keys only; with --threshold and --shares-out).")
    var custodians: Int?
    @Option(help: "How many custodians' shares unlock the key (2 to N).")
    var threshold: Int?
    @Option(help: "Folder for the custodians' share files (NAME-i.share.json, mode 0600; never overwritten).")
    var sharesOut: String?
    @Option(help: "A file holding custodian i's own passphrase, which seals share i (once per custodian, in order; optional).")
    var custodianPassphraseFile: [String] = []

    func split() throws -> CustodySplit? {
        guard let custodians else {
            if threshold != nil || sharesOut != nil || !custodianPassphraseFile.isEmpty {
                throw ETrustError.badInput("--threshold, --shares-out and --custodian-passphrase-file need --custodians N", code: .invalidArgument)
            }
            return nil
        }
        guard let threshold, let sharesOut else {
            throw ETrustError.badInput("--custodians needs --threshold M and --shares-out DIR", code: .invalidArgument)
        }
        let source = SecretSource(what: "custodian passphrase", flag: "--custodian-passphrase-file", environmentVariable: nil, prompt: false)
        return CustodySplit(custodians: custodians, threshold: threshold, directory: sharesOut,
                            passphrases: try custodianPassphraseFile.map { try source.read(file: $0) })
    }
}

/// The shares that unlock a CA key held by custodians: `--share FILE` M times, on any command
/// that signs with that CA's key. Sealed shares are opened with `--share-passphrase-file`.
struct ShareOptions: ParsableArguments {
    @Option(name: .customLong("share"), help: "A custodian's share file (repeat M times for a CA key split M-of-N).")
    var files: [String] = []
    @Option(help: "A file holding the passphrase of a sealed share (repeatable; each opens the share it fits).")
    var sharePassphraseFile: [String] = []

    func apply(to authority: Authority) {
        let source = SecretSource(what: "share passphrase", flag: "--share-passphrase-file", environmentVariable: nil, prompt: false)
        authority.keys.useShares(files: files, passphrases: sharePassphraseFile.map { file -> () throws -> [UInt8] in source.lazy(file: file) })
    }
}
