#!/usr/bin/env bash
# The Python bindings, for real (`npx projen test:python`):
#
#   1. compile (jsii) if .jsii is missing or older than src/, bundling the Lambda handlers first;
#   2. build the wheel with `npx jsii-pacmak --target python` (into dist/python);
#   3. create or reuse .venv-python: jsii, aws-cdk-lib and constructs from PyPI at the versions the
#      TypeScript side uses (python-tests/requirements.txt, transitive pins in
#      python-tests/constraints.txt), plus pytest; the venv is cached under a stamp keyed on the
#      pins and the interpreter; the wheel is always force-reinstalled;
#   4. run the README's "Quick start" ```python block as written (as `cdk synth` would: with
#      CDK_OUTDIR set) and check that its cdk.out holds a template with AWS::S3::Bucket resources;
#   5. synthesize the canonical configuration from TypeScript
#      (test/python-parity/emit-template.ts, run in the background while 2-4 run);
#   6. run pytest over python-tests/ (PYTHON_PARITY_TS_TEMPLATE = the TypeScript template), with
#      a JUnit report in test-reports/pytest.xml. pytest runs last: the output ends with its
#      summary line, and the script exits with its status.
#
# Usage:
#   bash .ci/python-tests.sh                  everything above
#   bash .ci/python-tests.sh --force-venv     rebuild .venv-python even when its stamp matches
#   bash .ci/python-tests.sh --relock         rewrite the jsii/aws-cdk-lib/constructs pins from
#                                             node_modules, re-resolve constraints.txt (needs
#                                             PyPI), then run everything
#   bash .ci/python-tests.sh -k parity        any other argument (or all after `--`) goes to pytest
#
# Environment: PYTHON (default python3 on PATH, the pyenv interpreter on our machines; >= 3.10 as
# aws-cdk-lib and the wheel require).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-python"
REQ="python-tests/requirements.txt"
CONS="python-tests/constraints.txt"
STAMP="$VENV/.pins-stamp"
WHEEL_DIR="dist/python"

MODE=""
PYTEST_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force-venv|--relock) MODE="$1" ;;
    --) shift; PYTEST_ARGS+=("$@"); break ;;
    *) PYTEST_ARGS+=("$1") ;;  # e.g. `npx projen test:python -k parity`
  esac
  shift
done

# Node 22 (the npm package `node@22`) for jsii, jsii-pacmak, ts-node, and the jsii runtime that the
# Python bindings start (it runs `node` from PATH). `npx projen` already puts it first.
export PATH="$ROOT/node_modules/.bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
export PYTHONDONTWRITEBYTECODE=1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/python-tests.XXXXXX")"
BG_PIDS=()
cleanup() {
  local pid
  for pid in "${BG_PIDS[@]}"; do  # background steps still running after a failure
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
forget_pid() { # drop a reaped background pid from BG_PIDS
  local keep=() pid
  for pid in "${BG_PIDS[@]}"; do [[ "$pid" == "$1" ]] || keep+=("$pid"); done
  BG_PIDS=("${keep[@]}")
}
trap cleanup EXIT

T0=$SECONDS
TIMINGS=()
# .ci/summary.js reads this report: never leave one from an earlier run behind a failure here.
rm -f test-reports/pytest.xml
log() { printf '[test:python] %s\n' "$*"; }
die() { log "error: $*" >&2; exit 1; }
timing() { TIMINGS+=("$(printf '%-34s %4ss' "$1" "$2")"); }

# --- preflight ---------------------------------------------------------------------------------
[[ -x node_modules/.bin/node ]] || die "node_modules/.bin/node missing: run 'npm ci' first"
NODE_VERSION="$(node -v)"
[[ "$NODE_VERSION" == v22.* ]] || die "expected Node.js 22 first on PATH, got $NODE_VERSION"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH"
PY_VERSION="$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "$PYTHON is $PY_VERSION; aws-cdk-lib and the generated wheel need Python >= 3.10"

npm_version() { node -p "require('./node_modules/$1/package.json').version"; }
pin_of() { sed -n "s/^$1==\([^ ;#]*\).*/\1/p" "$REQ"; }
CDK_VERSION="$(npm_version aws-cdk-lib)"
CONSTRUCTS_VERSION="$(npm_version constructs)"
# The generated bindings require jsii (the Python runtime) >= the jsii-pacmak version that wrote them.
JSII_RUNTIME_VERSION="$(npm_version jsii-pacmak)"
log "node $NODE_VERSION, $PYTHON $PY_VERSION; npm: aws-cdk-lib $CDK_VERSION, constructs $CONSTRUCTS_VERSION, jsii-pacmak $JSII_RUNTIME_VERSION"

# --- pins: same versions as the TypeScript side -------------------------------------------------
relock() {
  local tmp start=$SECONDS
  sed -i \
    -e "s/^jsii==.*/jsii==$JSII_RUNTIME_VERSION/" \
    -e "s/^aws-cdk-lib==.*/aws-cdk-lib==$CDK_VERSION/" \
    -e "s/^constructs==.*/constructs==$CONSTRUCTS_VERSION/" "$REQ"
  tmp="$(mktemp -d "$WORK/relock.XXXXXX")"
  log "relock: resolving $REQ without constraints"
  "$PYTHON" -m venv "$tmp/venv"
  grep -v '^-c ' "$REQ" > "$tmp/requirements.txt"
  "$tmp/venv/bin/pip" install --quiet -r "$tmp/requirements.txt"
  {
    echo "# Generated by 'bash .ci/python-tests.sh --relock' from requirements.txt on Python $PY_VERSION. Do not edit."
    "$tmp/venv/bin/pip" freeze --exclude-editable | LC_ALL=C sort -f
  } > "$CONS"
  log "relock: wrote $CONS ($(grep -vc '^#' "$CONS") packages) in $((SECONDS - start))s"
}
if [[ "$MODE" == "--relock" ]]; then
  relock
fi
drift=()
[[ "$(pin_of jsii)" == "$JSII_RUNTIME_VERSION" ]] || drift+=("jsii==$(pin_of jsii) (jsii-pacmak is $JSII_RUNTIME_VERSION)")
[[ "$(pin_of aws-cdk-lib)" == "$CDK_VERSION" ]] || drift+=("aws-cdk-lib==$(pin_of aws-cdk-lib) (npm: $CDK_VERSION)")
[[ "$(pin_of constructs)" == "$CONSTRUCTS_VERSION" ]] || drift+=("constructs==$(pin_of constructs) (npm: $CONSTRUCTS_VERSION)")
if [[ ${#drift[@]} -gt 0 ]]; then
  die "$REQ pins differ from node_modules: ${drift[*]}; run 'bash .ci/python-tests.sh --relock' and commit python-tests/"
fi
[[ -f "$CONS" ]] || die "$CONS missing; run 'bash .ci/python-tests.sh --relock'"

# --- 1. compile when stale -----------------------------------------------------------------------
start=$SECONDS
if [[ ! -f .jsii ]] || [[ -n "$(find src -type f -newer .jsii -print -quit)" ]]; then
  log "compile: .jsii is missing or older than src/; running npx projen bundle && npx projen compile"
  npx projen bundle
  npx projen compile
  timing "compile (jsii)" $((SECONDS - start))
else
  if [[ ! -d assets ]]; then
    log "compile: assets/ missing; running npx projen bundle"
    npx projen bundle
  fi
  log "compile: .jsii is up to date"
fi

# --- 5 (background). the canonical template from TypeScript ------------------------------------
TS_TEMPLATE="$WORK/ts/PythonParity.template.json"
(
  s=$SECONDS
  rc=0
  node_modules/.bin/ts-node --project tsconfig.dev.json test/python-parity/emit-template.ts "$TS_TEMPLATE" || rc=$?
  echo "$((SECONDS - s))" > "$WORK/emit.seconds"
  exit "$rc"
) > "$WORK/emit.log" 2>&1 &
EMIT_PID=$!
BG_PIDS+=("$EMIT_PID")

# --- 3 (background). the virtualenv --------------------------------------------------------------
stamp_value() {
  { printf 'python=%s\n' "$PY_VERSION"; cat "$REQ" "$CONS"; } | sha256sum | cut -c1-64
}
venv_works() {
  "$VENV/bin/python" -c 'import aws_cdk, constructs, jsii, pytest' >/dev/null 2>&1
}
ensure_venv() {
  local want have s=$SECONDS
  want="$(stamp_value)"
  have="$(cat "$STAMP" 2>/dev/null || true)"
  if [[ "$MODE" != "--force-venv" && "$want" == "$have" ]] && venv_works; then
    echo "venv: $VENV up to date (stamp ${want:0:12}); reused in $((SECONDS - s))s"
    echo "warm $((SECONDS - s))" > "$WORK/venv.seconds"
    return 0
  fi
  if [[ -d "$VENV" ]]; then
    echo "venv: ${have:+stamp ${have:0:12} != ${want:0:12}}${have:-no stamp or broken venv}; rebuilding"
    rm -rf "$VENV"
  fi
  "$PYTHON" -m venv "$VENV" || return 1
  if ! "$VENV/bin/pip" install -r "$REQ" > "$VENV/pip-install.log" 2>&1; then
    echo "venv: pip install -r $REQ failed; last lines of $VENV/pip-install.log:"
    tail -n 30 "$VENV/pip-install.log"
    return 1
  fi
  venv_works || { echo "venv: installed, but aws_cdk/constructs/jsii/pytest do not import"; return 1; }
  echo "$want" > "$STAMP"
  echo "venv: created $VENV ($(grep -E '^[a-z]' "$REQ" | tr '\n' ' ')) in $((SECONDS - s))s"
  echo "cold $((SECONDS - s))" > "$WORK/venv.seconds"
}
ensure_venv > "$WORK/venv.log" 2>&1 &
VENV_PID=$!
BG_PIDS+=("$VENV_PID")

# --- 2. the wheel --------------------------------------------------------------------------------
start=$SECONDS
log "wheel: npx jsii-pacmak --target python (its own build venv: setuptools, build, twine from PyPI)"
rm -rf "$WHEEL_DIR"
npx jsii-pacmak --target python
shopt -s nullglob
wheels=("$WHEEL_DIR"/*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || die "expected one wheel in $WHEEL_DIR, found ${#wheels[@]}"
WHEEL="${wheels[0]}"
timing "wheel (jsii-pacmak)" $((SECONDS - start))
log "wheel: $WHEEL ($(du -k "$WHEEL" | cut -f1) KiB) in $((SECONDS - start))s"

# --- 3. the virtualenv, then the wheel in it ----------------------------------------------------
start=$SECONDS
venv_rc=0
wait "$VENV_PID" || venv_rc=$?
forget_pid "$VENV_PID"
sed 's/^/[test:python] /' "$WORK/venv.log"
[[ $venv_rc -eq 0 ]] || die "could not create $VENV"
read -r venv_kind venv_seconds < "$WORK/venv.seconds"
timing "venv ($venv_kind)" "$venv_seconds"
start=$SECONDS
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$WHEEL"
"$VENV/bin/pip" check > "$WORK/pip-check.log" 2>&1 || { cat "$WORK/pip-check.log"; die "pip check failed after installing $WHEEL"; }
timing "wheel install (force-reinstall)" $((SECONDS - start))
log "venv: $("$VENV/bin/python" -c '
from importlib.metadata import version as v
print(", ".join(f"{p} {v(p)}" for p in ("cdk-secure-mlops", "aws-cdk-lib", "constructs", "jsii", "pytest")))')"

# --- 4. the README quick start, as written --------------------------------------------------------
start=$SECONDS
QS="$WORK/quickstart"
mkdir -p "$QS"
"$PYTHON" python-tests/readme_quickstart.py extract README.md "$QS/app.py"
log "quick start: running README.md's python block in $QS (CDK_OUTDIR=cdk.out)"
(cd "$QS" && CDK_OUTDIR="$QS/cdk.out" "$VENV/bin/python" app.py) || die "the README quick start failed"
"$VENV/bin/python" python-tests/readme_quickstart.py check "$QS/cdk.out"
timing "README quick start (python)" $((SECONDS - start))

# --- 5. wait for the TypeScript template --------------------------------------------------------
start=$SECONDS
emit_rc=0
wait "$EMIT_PID" || emit_rc=$?
forget_pid "$EMIT_PID"
sed 's/^/[test:python] ts: /' "$WORK/emit.log"
[[ $emit_rc -eq 0 && -s "$TS_TEMPLATE" ]] || die "test/python-parity/emit-template.ts failed (exit $emit_rc)"
timing "TypeScript template (ts-node)" "$(cat "$WORK/emit.seconds")"
[[ $((SECONDS - start)) -le 1 ]] || timing "  (waited for it after quick start)" $((SECONDS - start))

# --- 6. pytest, last -----------------------------------------------------------------------------
log "timings so far ($((SECONDS - T0))s; pytest reports its own below):"
for line in "${TIMINGS[@]}"; do
  log "  $line"
done
mkdir -p test-reports
export PYTHON_PARITY_TS_TEMPLATE="$TS_TEMPLATE"
set +e
"$VENV/bin/python" -m pytest python-tests -v -p no:cacheprovider \
  --junitxml=test-reports/pytest.xml -o junit_family=xunit2 "${PYTEST_ARGS[@]}"
rc=$?
set -e
exit "$rc"
