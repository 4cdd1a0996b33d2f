#!/usr/bin/env bash
# Man pages of etrust and etrust-ocspd (one page per subcommand), generated from their --help by
# swift-argument-parser's generate-manual plugin, into .build/man/man1 (or $1/man1).
#   Tools/man.sh [OUT-DIR] [debug|release]
#   man -l .build/man/man1/etrust.issue.1
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/man}
config=${2:-debug}
swift package plugin generate-manual --multi-page --configuration "$config" >/dev/null
rm -rf "$out/man1"
mkdir -p "$out/man1"
cp .build/plugins/GenerateManual/outputs/etrust/*.1 .build/plugins/GenerateManual/outputs/etrust-ocspd/*.1 "$out/man1/"
echo "$out/man1: $(ls "$out/man1" | wc -l) pages"
