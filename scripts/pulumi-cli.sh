#!/usr/bin/env bash
# Makes the real Pulumi CLI ready and prints the absolute path of the directory that holds
# `pulumi` as the LAST line of its standard output (tests, CI and other scripts read that line;
# everything else goes to standard error).
#
#   bash scripts/pulumi-cli.sh            # find or build, print the bin directory
#
# Which CLI: the version in pulumi-cli.version (one place to change). A `pulumi` named by
# PULUMI_CLI, or on PATH, is used when `pulumi version` prints exactly that version and
# the Python language host stands beside it. Otherwise this script builds, into the git-ignored
# cache .tools/pulumi-<version>/ (keyed by version, made whole in a temporary directory and
# renamed, under a lock, so a concurrent run never sees half a cache):
#
#   pulumi                  the CLI, from the Go module proxy (github.com/pulumi/pulumi/pkg/v3)
#   pulumi-language-yaml    the YAML language host (github.com/pulumi/pulumi-yaml)
#   pulumi-language-python  the Python language host: the module proxy does not serve Pulumi's
#                           Go host, so this is the project's own (cmek_component/pulumi_cli/),
#                           run with the project's venv Python
#   pulumi-language-go      the Go language host: not served either, the project's own
#                           (tools/pulumi-language-go/, built by its build.sh, cached by a
#                           hash of its sources)
#   pulumi-language-python-exec, pulumi-resource-pulumi-python
#                           the two Python scripts the release ships beside the binaries, taken
#                           from the github.com/pulumi/pulumi/sdk/v3 module of the pinned SDK
#
# The Node.js language host is not served by the module proxy either: pulumi-language-nodejs is
# the project's own (tools/pulumi-language-nodejs), built by the block so named below.
# Build flags are the release's: CGO_ENABLED=0, -trimpath, -tags osusergo,grpcnotrace,
# -ldflags "-s -w -X .../sdk/v3/go/common/version.Version=v<version>".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf 'pulumi-cli: %s\n' "$*" >&2; }
die() { printf 'pulumi-cli: error: %s\n' "$*" >&2; exit 1; }

CLI_VERSION="$(tr -d ' \n' < "$ROOT/pulumi-cli.version")"
SDK_VERSION="$(sed -n 's/^ *"pulumi==\([0-9.]*\)".*/\1/p' "$ROOT/pyproject.toml" | head -1)"
YAML_VERSION="1.25.0"
[ -n "$CLI_VERSION" ] || die "pulumi-cli.version is empty"
[ -n "$SDK_VERSION" ] || die "no pulumi==<version> pin found in pyproject.toml"

# The project's venv Python runs our language host; make it if missing (the test and
# rehearsal scripts make it first, so this is only for a direct call).
PYTHON="$ROOT/venv/bin/python"
if [ ! -x "$PYTHON" ]; then
  say "making ./venv for the Python language host"
  python3 -m venv "$ROOT/venv" >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -e "$ROOT" >&2
fi

usable() {  # usable <dir>: a pulumi of the supported version with a Python host beside it
  local dir="$1" got
  [ -x "$dir/pulumi" ] || return 1
  got="$("$dir/pulumi" version 2>/dev/null | tr -d '\r' | tail -1)" || return 1
  [ "$got" = "v$CLI_VERSION" ] || { say "$dir/pulumi is $got, not v$CLI_VERSION: not used"; return 1; }
  [ -x "$dir/pulumi-language-python" ] || { say "$dir has no pulumi-language-python: not used"; return 1; }
  return 0
}

if [ -n "${PULUMI_CLI:-}" ]; then
  candidate="$PULUMI_CLI"
  [ -d "$candidate" ] || candidate="$(dirname "$candidate")"
  if usable "$candidate"; then
    say "using PULUMI_CLI: $candidate"
    echo "$(cd "$candidate" && pwd)"
    exit 0
  fi
fi
if on_path="$(command -v pulumi 2>/dev/null)"; then
  if usable "$(dirname "$on_path")"; then
    say "using pulumi on PATH: $(dirname "$on_path")"
    dirname "$on_path"
    exit 0
  fi
fi

TOOLS="${CMEK_TOOLS_DIR:-$ROOT/.tools}"   # the cache's parent (tests point it elsewhere)
CACHE="$TOOLS/pulumi-$CLI_VERSION"
BIN="$CACHE/bin"
host_script() {  # the launcher of our own Python language host, pointing at this checkout
  cat > "$1/pulumi-language-python" <<EOF
#!/bin/sh
# The project's own Python language host (cmek_component/pulumi_cli), for CLI v$CLI_VERSION.
here="\$(cd "\$(dirname "\$0")" && pwd)"
exec "$PYTHON" -u -m cmek_component.pulumi_cli.language_host \\
  --plugin-version "v$CLI_VERSION" --use-executor "\$here/pulumi-language-python-exec" "\$@"
EOF
  chmod 0755 "$1/pulumi-language-python"
}

# --- The Node.js language host (tools/pulumi-language-nodejs) -------------------------------
# The module proxy does not serve Pulumi's pulumi-language-nodejs either: this project's own
# (a Go module pinned to pkg/v3 and sdk/v3 v$CLI_VERSION, so the CLI build's Go caches serve
# it) is built into the same bin directory, once per content of its sources (.nodejs-host.key
# beside it), under a lock of its own. Only TypeScript programs need it; nothing else waits on it.
NODEJS_HOST_SRC="$ROOT/tools/pulumi-language-nodejs"
nodejs_host() {  # nodejs_host <bin dir>: build pulumi-language-nodejs there unless current
  local bin="$1" key tmp begun
  [ -d "$NODEJS_HOST_SRC" ] || return 0
  key="$(cd "$NODEJS_HOST_SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)-v$CLI_VERSION"
  if [ -x "$bin/pulumi-language-nodejs" ] && [ "$(cat "$bin/.nodejs-host.key" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then  # the CLI still serves Python and YAML programs
    say "no Go: pulumi-language-nodejs not built (TypeScript programs will not run)"; return 0
  fi
  exec 8>"$bin/../.nodejs-host.lock"
  flock 8
  if [ -x "$bin/pulumi-language-nodejs" ] && [ "$(cat "$bin/.nodejs-host.key" 2>/dev/null)" = "$key" ]; then
    exec 8>&-; return 0  # another run built it meanwhile
  fi
  begun=$(date +%s)
  say "compiling pulumi-language-nodejs (tools/pulumi-language-nodejs; cold: a few minutes)"
  tmp="$(mktemp "$bin/.pulumi-language-nodejs.XXXXXX")"
  if ! (cd "$NODEJS_HOST_SRC" && CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X main.version=v$CLI_VERSION" -o "$tmp" .) >&2; then
    rm -f "$tmp"; die "building tools/pulumi-language-nodejs failed"
  fi
  chmod 0755 "$tmp" && mv -f "$tmp" "$bin/pulumi-language-nodejs"
  printf '%s\n' "$key" > "$bin/.nodejs-host.key"
  exec 8>&-
  say "built pulumi-language-nodejs in $(( $(date +%s) - begun ))s"
}
# --- end of the Node.js language host block ---------------------------------------------------
# --- The Go language host (pulumi-language-go) ----------------------------------------------
# The module proxy does not serve Pulumi's Go host either: the project's own
# (tools/pulumi-language-go, Go), built into the same bin directory by its build.sh, once per
# change of its sources (a warm run only hashes them). Called on every path that prints $BIN,
# so a cache made before this host existed gets it too.
go_host() {  # go_host <bin dir>   (needs Go only when it compiles)
  bash "$ROOT/tools/pulumi-language-go/build.sh" "$1" "$CLI_VERSION"
}
# ---------------------------------------------------------------------------------------------

if [ -f "$CACHE/.complete" ] && [ -x "$BIN/pulumi" ]; then
  # The launcher names this checkout's venv: rewrite it when the cache was copied or moved.
  grep -qF "$PYTHON" "$BIN/pulumi-language-python" 2>/dev/null || host_script "$BIN"
  nodejs_host "$BIN"
  go_host "$BIN"  # the Go language host (the block above)
  say "cached: $BIN ($("$BIN/pulumi" version))"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "no usable pulumi v$CLI_VERSION and no Go: install the Pulumi CLI $CLI_VERSION or Go >= 1.24"
GO_MINOR="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ -n "$GO_MINOR" ] && [ "$GO_MINOR" -ge 24 ] || die "Go $(go env GOVERSION) is too old: install the Pulumi CLI $CLI_VERSION or Go >= 1.24"

mkdir -p "$TOOLS"
exec 9>"$TOOLS/.lock"
if ! flock -n 9; then
  say "another run is building pulumi v$CLI_VERSION; waiting for it"
  flock 9
fi
if [ -f "$CACHE/.complete" ]; then  # the other run finished it
  nodejs_host "$BIN"
  go_host "$BIN"
  say "cached (built by the other run): $BIN"
  echo "$BIN"
  exit 0
fi

started=$(date +%s)
WORK="$(mktemp -d "$TOOLS/build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/mod"
cd "$WORK/mod"
export GOFLAGS="-mod=mod" CGO_ENABLED=0

say "building pulumi v$CLI_VERSION and pulumi-language-yaml v$YAML_VERSION from the Go module proxy (cold: about 15 minutes on 2 cores)"
go mod init cmek-component/pulumi-cli >&2 2>&1
PKG=github.com/pulumi/pulumi/pkg/v3
SDK=github.com/pulumi/pulumi/sdk/v3
pkg_mod="$(go mod download -json "$PKG@v$CLI_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
[ -f "$pkg_mod" ] || die "the Go module proxy did not serve $PKG@v$CLI_VERSION"
# Repeat pkg/go.mod's non-local replace directives at this version (Go refuses `go install`
# for a module with replace directives, so a wrapper module carries them).
go mod edit -json "$pkg_mod" | "$PYTHON" -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    new = r["New"]
    if new.get("Version"):
        print("-replace=%s=%s@%s" % (r["Old"]["Path"], new["Path"], new["Version"]))
' | while read -r flag; do go mod edit "$flag"; done
go mod edit -require="$PKG@v$CLI_VERSION" -require="$SDK@v$CLI_VERSION"
go get -tool "$PKG/cmd/pulumi@v$CLI_VERSION" >&2
go mod tidy >&2
grep -q "$PKG v$CLI_VERSION" go.mod || die "the CLI's pin moved: $(grep "$PKG" go.mod)"

LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION"
say "compiling pulumi"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDFLAGS" -o "$WORK/bin/pulumi" "$PKG/cmd/pulumi"
# pulumi-yaml pins its own (older) pkg/sdk and has no replace directives: its own module graph.
say "compiling pulumi-language-yaml v$YAML_VERSION"
GOBIN="$WORK/bin" go install -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$YAML_VERSION" \
  "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v$YAML_VERSION"

# The release's Python scripts, from the sdk module of the SDK the project pins.
sdk_dir="$(go mod download -json "$SDK@v$SDK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -d "$sdk_dir" ] || die "the Go module proxy did not serve $SDK@v$SDK_VERSION"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$WORK/bin/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$WORK/bin/"
host_script "$WORK/bin"
nodejs_host "$WORK/bin"
go_host "$WORK/bin"  # the Go language host (the block above the cache check)

got="$("$WORK/bin/pulumi" version)"
[ "$got" = "v$CLI_VERSION" ] || die "the built pulumi says $got, not v$CLI_VERSION"
rm -rf "$CACHE.old"
[ -d "$CACHE" ] && mv "$CACHE" "$CACHE.old"
mkdir -p "$WORK/out"
mv "$WORK/bin" "$WORK/out/bin"
touch "$WORK/out/.complete"
mv "$WORK/out" "$CACHE"
rm -rf "$CACHE.old"
say "built $got into $BIN in $(( $(date +%s) - started ))s"
echo "$BIN"
