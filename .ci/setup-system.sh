#!/usr/bin/env bash
# Install the Debian packages the tests need, when they are missing:
#   python3-torch, python3-onnx  PyTorch 1.13 and ONNX 1.12 for /usr/bin/python3: the example
#                                training script runs in local mode in the tests (CPU).
#   chromium, fonts-dejavu-core  Debian's Chromium (/usr/bin/chromium) and a font for it: the
#                                review console's browser test drives it headless with
#                                playwright-core (test/review-console/).
# Idempotent: quick checks skip what is there. Needs root (as on our build machines and CI);
# elsewhere it prints the command to run and fails.
set -euo pipefail

SYSTEM_PYTHON="${TRAINING_PYTHON:-/usr/bin/python3}"
CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"
log() { printf '[setup:system] %s\n' "$*"; }

PACKAGES=()
if [ -x "$SYSTEM_PYTHON" ] && "$SYSTEM_PYTHON" -c 'import torch, onnx' >/dev/null 2>&1; then
  log "python3-torch and python3-onnx present ($("$SYSTEM_PYTHON" -c 'import torch; print("torch", torch.__version__)'))"
else
  PACKAGES+=(python3-torch python3-onnx)
fi
# --- review console (browser test): Debian's Chromium ---
if [ -x "$CHROMIUM" ]; then
  log "chromium present ($CHROMIUM)"
else
  PACKAGES+=(chromium fonts-dejavu-core)
fi
# ---

if [ "${#PACKAGES[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  log "missing: ${PACKAGES[*]}; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 1
fi
start=$SECONDS
log "installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
if [[ " ${PACKAGES[*]} " == *" python3-torch "* ]]; then
  "$SYSTEM_PYTHON" -c 'import torch, onnx; print("[setup:system] torch", torch.__version__, "onnx", onnx.__version__)'
fi
if [[ " ${PACKAGES[*]} " == *" chromium "* ]]; then
  log "$("$CHROMIUM" --version 2>/dev/null | head -1)"
fi
log "done in $((SECONDS - start)) s"
