#!/usr/bin/env bash
# Install the Debian packages the tests need, when they are missing:
#   python3-torch, python3-onnx  PyTorch 1.13 and ONNX 1.12 for /usr/bin/python3: the example
#                                training script runs in local mode in the tests (CPU).
# Idempotent: a quick import check skips everything when the packages are there. Needs root
# (as on our build machines and CI); elsewhere it prints the command to run and fails.
set -euo pipefail

SYSTEM_PYTHON="${TRAINING_PYTHON:-/usr/bin/python3}"
log() { printf '[setup:system] %s\n' "$*"; }

if [ -x "$SYSTEM_PYTHON" ] && "$SYSTEM_PYTHON" -c 'import torch, onnx' >/dev/null 2>&1; then
  log "python3-torch and python3-onnx present ($("$SYSTEM_PYTHON" -c 'import torch; print("torch", torch.__version__)'))"
  exit 0
fi
PACKAGES=(python3-torch python3-onnx)
if [ "$(id -u)" -ne 0 ]; then
  log "missing: ${PACKAGES[*]}; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 1
fi
start=$SECONDS
log "installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
"$SYSTEM_PYTHON" -c 'import torch, onnx; print("[setup:system] torch", torch.__version__, "onnx", onnx.__version__)'
log "done in $((SECONDS - start)) s"
