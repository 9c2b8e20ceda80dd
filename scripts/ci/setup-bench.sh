#!/usr/bin/env bash
# Installs the peer systems `npm run bench` compares against, on Debian 12:
#   - nginx            (one plain reverse-proxy hop)
#   - openssh-server   (sshd, for `ssh -R`)
#   - openssh-client   (ssh, ssh-keygen)
#   - haproxy          (the load balancer of the scale-out section)
# The benchmark runs its own private instances (generated configs in a temp dir, loopback ports
# only, stopped by PID), so this script never starts, enables or configures the system services:
# while apt installs, a temporary policy-rc.d forbids the packages' maintainer scripts to start
# nginx or sshd, and any service that still got started by this script is stopped again.
# Idempotent: does nothing (not even apt-get update) when every binary is already there.
#
# Usage: bash scripts/ci/setup-bench.sh
set -euo pipefail

log() { printf '[setup-bench] %s\n' "$*" >&2; }
die() { printf '[setup-bench] ERROR: %s\n' "$*" >&2; exit 1; }

need=()
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
{ command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; } || need+=(openssh-client)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)

if [ ${#need[@]} -eq 0 ]; then
  log "nginx, sshd, ssh, ssh-keygen and haproxy are installed: nothing to do"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run as root (or with sudo): installing ${need[*]} needs apt-get"
  SUDO=(sudo)
fi

# Forbid service starts during the install (Debian's invoke-rc.d honours /usr/sbin/policy-rc.d:
# exit 101 = action forbidden). Only when no policy exists already, and removed again on exit.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary: scripts/ci/setup-bench.sh (do not start services while installing)\nexit 101\n' \
    | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT

# Services that were already running before (never stop those).
nginx_before=$(pgrep -x nginx >/dev/null 2>&1 && echo 1 || echo 0)
sshd_before=$(pgrep -x sshd >/dev/null 2>&1 && echo 1 || echo 0)

log "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq || die "apt-get update failed (is the Debian mirror reachable?)"
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || die "apt-get install ${need[*]} failed"

# Belt and braces: if a maintainer script started a system service anyway, stop it through its
# init script (not by process name), since the benchmark wants ports 80 and 22 left alone.
if [ "$nginx_before" = 0 ] && pgrep -x nginx >/dev/null 2>&1 && [ -x /etc/init.d/nginx ]; then
  log "stopping the system nginx the package started"
  "${SUDO[@]}" /etc/init.d/nginx stop >/dev/null 2>&1 || true
fi
if [ "$sshd_before" = 0 ] && pgrep -x sshd >/dev/null 2>&1 && [ -x /etc/init.d/ssh ]; then
  log "stopping the system sshd the package started"
  "${SUDO[@]}" /etc/init.d/ssh stop >/dev/null 2>&1 || true
fi

for bin in /usr/sbin/nginx /usr/sbin/sshd; do [ -x "$bin" ] || die "$bin missing after the install"; done
command -v ssh >/dev/null 2>&1 || die "ssh missing after the install"
command -v ssh-keygen >/dev/null 2>&1 || die "ssh-keygen missing after the install"
log "ready: $(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //'), $(ssh -V 2>&1)"
