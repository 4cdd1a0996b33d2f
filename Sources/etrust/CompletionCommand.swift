import ArgumentParser
import ETrustCore

/// `etrust completion bash|zsh|fish`: the shell completion script (swift-argument-parser's),
/// e.g. `etrust completion bash > /etc/bash_completion.d/etrust`.
struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the shell completion script for bash, zsh or fish.",
        discussion: """
            bash: etrust completion bash > /etc/bash_completion.d/etrust
            zsh:  etrust completion zsh > "${fpath[1]}/_etrust"
            fish: etrust completion fish > ~/.config/fish/completions/etrust.fish
            """)
    @Argument(help: "bash, zsh or fish.") var shell: String

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            throw ETrustError.badInput("unknown shell '\(shell)' (bash, zsh, fish)", code: .invalidArgument)
        }
        print(ETrust.completionScript(for: kind), terminator: "")
    }
}
