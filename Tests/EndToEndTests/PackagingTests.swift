import ETrustTestSupport
import Foundation
import Testing

/// What ships beside the binaries: completions, the CLI reference in docs/cli.md, the LICENSE and a
/// README whose layout is true. The man pages and the static release binaries are checked by
/// Tools/release.sh itself (it needs SwiftPM, which `swift test` holds locked while tests run).
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

    @Test("etrust completion bash|zsh|fish prints a script the shell accepts; another shell is a usage error")
    func completions() throws {
        let bash = try E2E.etrust(["completion", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("-F _etrust etrust"), "\(bash.stderr)")
        let dir = try TestSupport.temporaryDirectory("e2e-completion")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try E2E.write(bash.stdout, to: dir + "/etrust.bash")
        let syntax = try TestSupport.run("/bin/bash", ["-n", dir + "/etrust.bash"])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        #expect(bash.stdout.contains("inspect") && bash.stdout.contains("--allow-example-url"))
        let zsh = try E2E.etrust(["completion", "zsh"])
        #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef etrust"))
        let fish = try E2E.etrust(["completion", "fish"])
        #expect(fish.status == 0 && fish.stdout.contains("complete -c 'etrust'"))
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
}
