#!/usr/bin/env bash
# README's first command: install everything k8ts needs, then start a single-node cluster (embedded SQLite).
# Data, PKI and the admin kubeconfig go to $K8TS_DATA_DIR (default ~/.k8ts); the API listens on 127.0.0.1:6443.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
DATA_DIR="${K8TS_DATA_DIR:-$HOME/.k8ts}"
PORT="${K8TS_PORT:-6443}"
# The demo images (busybox, kubia) go into the node's image store: there is no registry to pull them from.
node scripts/demo-images.mjs "$DATA_DIR"
echo "k8ts: starting the server (data dir $DATA_DIR); use: export KUBECONFIG=$DATA_DIR/kubeconfig.yaml; $(pwd)/.tools/bin/kubectl get ns"
exec node bin/k8ts.js server --data-dir "$DATA_DIR" --port "$PORT" "$@"
