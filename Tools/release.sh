#!/usr/bin/env bash
# Release binaries: etrust and etrust-ocspd linked with the Swift runtime static (no Swift toolchain
# needed at run time; OpenSSL, SQLite and libp11 come from the system), their version stamped
# from `git describe`, with man pages and shell completions, into .build/dist/ (or $1).
# The static runtime is Package.swift's ETRUST_STATIC_STDLIB flavour rather than SwiftPM's
# --static-swift-stdlib: only the link differs, so this build shares its compiled dependencies with
# the sanitizer flavours of Tools/test.sh and Tools/fuzz.sh in .build/release.
#   Tools/release.sh [OUT-DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/dist}
version_file=Sources/ETrustCommandLine/Version.swift

# The version: the tag when HEAD is tagged (v1.2.3 -> 1.2.3), else BASE+DESCRIBE. The source file is
# stamped for this build only and restored afterwards, whatever happens.
base=$(sed -n 's/.*static let string = "\([^"+]*\).*/\1/p' "$version_file")
describe=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
if [[ "$describe" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]]; then version=${describe#v}; else version="$base+$describe"; fi
mkdir -p .build
backup=.build/Version.swift.orig   # outside Sources/, where SwiftPM would warn about it
cp "$version_file" "$backup"
# touch: the restored file must look newer than the stamped build, or the next debug build keeps
# the stamped version.
trap 'mv -f "$backup" "$version_file"; touch "$version_file"' EXIT
sed -i "s/static let string = \"[^\"]*\"/static let string = \"$version\"/" "$version_file"

echo "== building etrust $version (release, static Swift runtime)"
export ETRUST_STATIC_STDLIB=1
unset ETRUST_SANITIZE ETRUST_FUZZ
for product in etrust etrust-ocspd; do
  swift build -c release --product "$product" > .build/release-build.log 2>&1 \
    || { grep -E 'error' .build/release-build.log | head -20 >&2; echo "release build of $product failed (.build/release-build.log)" >&2; exit 3; }
done
bin=$(swift build -c release --show-bin-path)
# The man pages from these binaries (the plugin builds the same release products: nothing to do).
Tools/man.sh "$out/man" release >/dev/null
mv -f "$backup" "$version_file"; touch "$version_file"
trap - EXIT

mkdir -p "$out/bin" "$out/completions"
cp "$bin/etrust" "$bin/etrust-ocspd" "$out/bin/"
if ldd "$out/bin/etrust" | grep -qi swift; then echo "etrust links a Swift runtime library:" >&2; ldd "$out/bin/etrust" >&2; exit 1; fi
"$out/bin/etrust" completion bash > "$out/completions/etrust.bash"
"$out/bin/etrust" completion zsh > "$out/completions/_etrust"
"$out/bin/etrust" completion fish > "$out/completions/etrust.fish"
cp LICENSE "$out/"
echo "$out: etrust $("$out/bin/etrust" --version), etrust-ocspd, man pages, completions"

echo "== checking: every man page renders (man -l) without a warning"
for page in "$out"/man/man1/*.1; do
  rendered=$(MANWIDTH=100 man -P cat -l "$page" 2>"$out/man.err") || { echo "man -l $page failed" >&2; cat "$out/man.err" >&2; exit 1; }
  [ ! -s "$out/man.err" ] || { echo "man -l $page warns:" >&2; cat "$out/man.err" >&2; exit 1; }
  grep -q SYNOPSIS <<<"$rendered" || { echo "$page has no SYNOPSIS" >&2; exit 1; }
done
rm -f "$out/man.err"
for sub in $("$out/bin/etrust" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | awk '/^  [a-z]/ {print $1}' | grep -v '^help$'); do
  [ -f "$out/man/man1/etrust.$sub.1" ] || { echo "no man page for etrust $sub" >&2; exit 1; }
done

echo "== checking: the binaries run under env -i (no Swift on PATH or LD_LIBRARY_PATH): init, ca create, issue, verify"
"$(dirname "$0")/release-check.sh" "$out/bin/etrust" "$version"
