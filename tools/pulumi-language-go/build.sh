#!/usr/bin/env bash
# Builds the project's Go language host into <bin>/pulumi-language-go (called by
# scripts/pulumi-cli.sh with the CLI's cache bin directory; messages go to standard error).
#
#   bash tools/pulumi-language-go/build.sh <bin dir> <CLI version>
#
# Cached: <bin>/.pulumi-language-go.stamp holds the sha256 of this module's sources (tests aside); a run whose
# sources match does nothing. The build uses the CLI build's flags (CGO_ENABLED=0, -trimpath,
# -tags osusergo,grpcnotrace) and pins pkg/v3 and sdk/v3 at the CLI's version, so the Go build
# cache the CLI build filled serves almost every package. The binary is written beside and
# renamed, under a lock, so a concurrent run never sees half of it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$1"
CLI_VERSION="$2"
say() { printf 'pulumi-language-go: %s\n' "$*" >&2; }

sources=("$HERE"/go.mod "$HERE"/go.sum "$HERE"/build.sh)
for f in "$HERE"/*.go; do case "$f" in *_test.go) ;; *) sources+=("$f") ;; esac; done
stamp="$(cat "${sources[@]}" | sha256sum | cut -d' ' -f1)"
if [ -x "$BIN/pulumi-language-go" ] && [ "$(cat "$BIN/.pulumi-language-go.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
exec 8>"$BIN/.pulumi-language-go.lock"
flock 8
if [ -x "$BIN/pulumi-language-go" ] && [ "$(cat "$BIN/.pulumi-language-go.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0  # built by a concurrent run
fi
command -v go >/dev/null 2>&1 || { say "no Go >= 1.24 on PATH: not built (Go programs will not run; the CLI serves the others)"; exit 0; }
grep -q "github.com/pulumi/pulumi/pkg/v3 v$CLI_VERSION" "$HERE/go.mod" \
  || { say "error: tools/pulumi-language-go/go.mod does not pin pkg/v3 v$CLI_VERSION"; exit 1; }
started=$(date +%s)
say "compiling the Go language host (tools/pulumi-language-go)"
(cd "$HERE" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X main.version=v$CLI_VERSION" -o "$BIN/.pulumi-language-go.new" .)
mv "$BIN/.pulumi-language-go.new" "$BIN/pulumi-language-go"
printf '%s\n' "$stamp" > "$BIN/.pulumi-language-go.stamp"
say "built $BIN/pulumi-language-go in $(( $(date +%s) - started ))s"
