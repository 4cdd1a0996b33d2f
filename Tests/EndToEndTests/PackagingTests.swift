import ETrustTestSupport
import Foundation
import Testing

/// What ships beside the binaries: man pages, completions, the CLI reference in docs/cli.md, the
/// LICENSE, a README whose layout is true, and release binaries that run without Swift.
@Suite("Packaging")
struct PackagingTests {
    static let root = TestSupport.packageRoot

    /// The options `etrust SUB --help` lists ("--ca", "--json", ...).
    static func options(_ sub: String) throws -> Set<String> {
        let help = try E2E.etrust(sub.split(separator: " ").map(String.init) + ["--help"]).stdout
        guard let range = help.range(of: "OPTIONS:") else { return [] }
        var found: Set<String> = []
        for line in help[range.upperBound...].split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            for m in line.matches(of: /--[a-z][a-z0-9-]*/) where !["--help", "--version"].contains(String(m.output)) {
                found.insert(String(m.output))
                break
            }
        }
        return found
    }

    @Test("docs/cli.md has a section for every subcommand of --help, listing each of its options, and none for a command that is gone")
    func cliReferenceInSync() throws {
        let doc = try E2E.read(Self.root + "/docs/cli.md")
        let subs = try CLIReference.subcommands()
        #expect(subs.count > 30, "\(subs)")
        var sections: [String: String] = [:]
        for part in doc.components(separatedBy: "\n### etrust ").dropFirst() {
            let name = String(part.prefix { $0 != "\n" })
            sections[name] = part
        }
        for sub in subs {
            let section = try #require(sections[sub], "docs/cli.md has no '### etrust \(sub)' (run python3 Tools/cli-reference.py)")
            for option in try Self.options(sub) {
                #expect(section.contains("- `\(option)"), "docs/cli.md: 'etrust \(sub)' does not list \(option) (run python3 Tools/cli-reference.py)")
            }
        }
        #expect(Set(sections.keys) == Set(subs), "sections without a command: \(Set(sections.keys).subtracting(subs))")
        #expect(doc.contains("## Command lifecycle") || doc.contains("## CA lifecycle"))
    }

    @Test("Tools/man.sh writes one page per subcommand (and etrust-ocspd); man -l renders each without a warning")
    func manPages() throws {
        let out = try TestSupport.temporaryDirectory("e2e-man")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TestSupport.run("/bin/bash", [Self.root + "/Tools/man.sh", out])
        try #require(r.status == 0, "Tools/man.sh: \(r.stdout) \(r.stderr)")
        let pages = try FileManager.default.contentsOfDirectory(atPath: out + "/man1").sorted()
        for sub in try CLIReference.subcommands() {
            #expect(pages.contains("etrust." + sub.replacingOccurrences(of: " ", with: ".") + ".1"), "no man page for etrust \(sub)")
        }
        #expect(pages.contains("etrust.1") && pages.contains("etrust-ocspd.1"))
        for page in pages {
            let man = try TestSupport.run("/usr/bin/man", ["-P", "cat", "-l", out + "/man1/" + page], environment: ["MANWIDTH": "100"])
            #expect(man.status == 0 && man.stdout.contains("NAME") && man.stdout.contains("SYNOPSIS"), "\(page): \(man.stderr)")
            #expect(man.stderr.isEmpty, "\(page): \(man.stderr)")
        }
    }

    @Test("etrust completion bash|zsh|fish prints a script the shell accepts; another shell is a usage error")
    func completions() throws {
        let bash = try E2E.etrust(["completion", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("complete -F"), "\(bash.stderr)")
        let dir = try TestSupport.temporaryDirectory("e2e-completion")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try E2E.write(bash.stdout, to: dir + "/etrust.bash")
        let syntax = try TestSupport.run("/bin/bash", ["-n", dir + "/etrust.bash"])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        #expect(bash.stdout.contains("inspect") && bash.stdout.contains("--allow-example-url"))
        let zsh = try E2E.etrust(["completion", "zsh"])
        #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef etrust"))
        let fish = try E2E.etrust(["completion", "fish"])
        #expect(fish.status == 0 && fish.stdout.contains("complete -c etrust"))
        let other = try E2E.etrust(["completion", "tcsh"])
        #expect(other.status == 2 && other.stderr.contains("bash, zsh, fish"))
        #expect(try E2E.read(Self.root + "/README.md").contains("etrust completion bash"))
    }

    @Test("LICENSE is the Apache License 2.0; the README links docs/cli.md and its layout names every module and tool")
    func licenseAndReadme() throws {
        let license = try E2E.read(Self.root + "/LICENSE")
        #expect(license.contains("Apache License") && license.contains("Version 2.0, January 2004"))
        #expect(license.contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION") && license.contains("END OF TERMS AND CONDITIONS"))
        let readme = try E2E.read(Self.root + "/README.md")
        #expect(readme.contains("docs/cli.md") && !readme.contains("../shared/CLI-CONTRACT.md"))
        let layout = try #require(readme.components(separatedBy: "## Layout").last)
        for module in try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Sources") {
            #expect(layout.contains(module), "the README's Layout does not name Sources/\(module)")
        }
        for tool in try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Tools") where !tool.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: Self.root + "/Tools/" + tool, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let stem = ["bench-", "synth-"].first { tool.hasPrefix($0) } ?? tool
            #expect(layout.contains(stem), "the README's Layout does not name Tools/\(tool)")
        }
        for entry in ["docs/", "LICENSE", "Policies/"] { #expect(layout.contains(entry), "Layout lacks \(entry)") }
    }

    /// The release build (Tools/release.sh: --static-swift-stdlib, version from git describe)
    /// run with an empty environment: no Swift on PATH or LD_LIBRARY_PATH.
    @Test("release binaries run under env -i without Swift: init, ca create, issue, verify; the version comes from git describe")
    func staticBinary() throws {
        let dist = try TestSupport.temporaryDirectory("e2e-dist")
        defer { try? FileManager.default.removeItem(atPath: dist) }
        let build = try TestSupport.run("/bin/bash", [Self.root + "/Tools/release.sh", dist])
        try #require(build.status == 0, "Tools/release.sh: \(build.stdout) \(build.stderr)")
        let etrust = dist + "/bin/etrust"
        let ldd = try TestSupport.run("/usr/bin/ldd", [etrust])
        #expect(!ldd.stdout.lowercased().contains("swift"), "\(ldd.stdout)")
        let describe = try TestSupport.run("/usr/bin/git", ["-C", Self.root, "describe", "--tags", "--always", "--dirty"])
        let clean = ["PATH=/usr/bin:/bin"]
        func run(_ args: [String], _ env: [String] = []) throws -> TestSupport.Result {
            try TestSupport.run("/usr/bin/env", ["-i"] + clean + env + [etrust] + args)
        }
        let version = try run(["--version"])
        #expect(version.status == 0 && version.stdout.contains(describe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(version.stdout)")
        let home = dist + "/home", pass = ["ETRUST_PASSPHRASE=static-pass"]
        try #require(try run(["init", "--home", home, "--public-url", "http://pki.static.tg"]).status == 0)
        try E2E.cheapKeys(home)
        let root = try run(["ca", "create", "root", "--home", home, "--subject", "CN=Static Root,O=Test,C=TG"], pass)
        try #require(root.status == 0, "\(root.stderr)")
        let sub = try run(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", "CN=Static Issuing,O=Test,C=TG"], pass)
        try #require(sub.status == 0, "\(sub.stderr)")
        try E2E.write("p12-pass\n", to: dist + "/p12pass")
        let issued = try run(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-client", "--generate-key", "--subject",
                              "CN=static.example.tg,O=Test,C=TG", "--p12", dist + "/leaf.p12", "--p12-password-file", dist + "/p12pass",
                              "--out", dist + "/leaf.pem", "--json"], pass)
        try #require(issued.status == 0, "\(issued.stderr)")
        let verify = try run(["verify", dist + "/leaf.pem", "--anchor", home + "/certs/root.pem", "--intermediate", home + "/certs/issuing.pem",
                              "--purpose", "tls-client", "--json"])
        #expect(verify.status == 0 && verify.json?["valid"] as? Bool == true, "\(verify.stdout) \(verify.stderr)")
        // The audit events record the version that wrote them.
        let log = try run(["audit", "log", "--home", home, "--event", "issue", "--json"])
        #expect(TestSupport.auditEvents(log.stdout).first?["etrustVersion"] as? String == version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let audit = try run(["audit", "verify", "--home", home])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }
}
