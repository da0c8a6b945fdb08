#!/usr/bin/env bash
# Registry round trip (`npx projen test:registry`; .ci/run runs it after test:all): the release
# artifacts go through real registry servers on this machine, with the tools maintainers publish
# with, and come back into fresh apps the way users install them.
#
#   1. build the release artifacts (`npx projen release:local`: version from the release bump,
#      npm tarball, wheel and sdist; no tests);
#   2. start Verdaccio 6 (npm, installed into a temporary directory, run on the repository's Node 22;
#      uplink to the public npm registry for dependencies, `publish: $anonymous`, a dummy token in a
#      temporary .npmrc) and pypiserver 2.4 (PyPI, in a temporary virtualenv; `-a . -P .`) on free
#      loopback ports;
#   3. `npm publish` the tarball and `twine upload` the wheel and sdist; publishing the same version
#      again must be refused (npm: E403/EPUBLISHCONFLICT, pypiserver: 409);
#   4. a fresh TypeScript app: `npm install cdk-secure-mlops@<version> aws-cdk-lib constructs` from
#      Verdaccio (dependencies through the uplink), compiles and synthesizes the README's TypeScript
#      quick start;
#   5. a fresh virtualenv: `pip install cdk-secure-mlops==<version>` from pypiserver (dependencies
#      from PyPI as an extra index), runs the README's Python quick start;
#   6. the consumer harness (.ci/consumer/app.ts) in fresh apps with the minimum and the latest
#      aws-cdk-lib and cdk-nag 3: every construct, defaults and maximal, region-agnostic and
#      env-specific stacks, the user's own non-compliant resources; findings per pack in
#      test-reports/consumer-findings.json and a table. CONSUMER_GATE=1 also fails on unacknowledged
#      findings on library resources; always failed: a configuration that does not synthesize, or a
#      user's non-compliant resource that no pack flags;
#   7. both servers stopped, and checked gone (no orphans), whatever happened before.
#
# Every check is written to test-reports/registry-roundtrip.json (.ci/summary.js counts them); the
# script prints timings and artifact sizes and exits non-zero when any check failed.
#
# Environment:
#   ROUNDTRIP_REUSE_DIST=1  use dist/ as it is (after release:local) instead of building it again
#   ROUNDTRIP_KEEP=1        keep the temporary directory (apps, logs, registry storage)
#   CONSUMER_GATE=1         gate on unacknowledged library findings (see 6.)
#   CONSUMER_CDK_MIN        minimum aws-cdk-lib (default: the devDependency, i.e. the project's cdkVersion)
#   CONSUMER_CDK_LATEST     latest aws-cdk-lib (default: `npm view aws-cdk-lib version`)
#   PYTHON                  interpreter for the virtualenvs (default: python3)
set -uo pipefail
# One brace group: bash reads the whole script before it runs, so editing it during a run is harmless.
{
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT="$PWD"

VERDACCIO_VERSION=6.10.4
PYPISERVER_VERSION=2.4.2
TWINE_VERSION=6.2.0
CDK_NAG_RANGE=3
TYPESCRIPT_RANGE=6
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
export ONNXRUNTIME_NODE_INSTALL=skip
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

T0=$SECONDS
REPORT_DIR="$ROOT/test-reports"
RESULT="$REPORT_DIR/registry-roundtrip.json"
mkdir -p "$REPORT_DIR"
rm -f "$RESULT" "$REPORT_DIR/consumer-findings.json"  # never leave an old report behind a failure

WORK="$(mktemp -d "${TMPDIR:-/tmp}/registry-roundtrip.XXXXXX")"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
CHECKS="$WORK/checks.tsv"
TIMINGS="$WORK/timings.tsv"
: > "$CHECKS"
: > "$TIMINGS"

log() { printf '[registry] %s\n' "$*"; }
# record NAME ok|failed SECONDS DETAIL
record() {
  local detail="${4:-}"
  detail="$(printf '%s' "$detail" | tr '\t\n' '  ' | sed 's/\x1b\[[0-9;]*m//g; s/  */ /g; s/ *$//')"
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$detail" >> "$CHECKS"
  if [[ "$2" == ok ]]; then log "ok     $1 ($3 s)${detail:+: $detail}"; else log "FAILED $1 ($3 s)${detail:+: $detail}"; fi
}
timing() { printf '%s\t%s\n' "$1" "$2" >> "$TIMINGS"; }
# run_logged LOGNAME CMD...: run with output in $LOGS/LOGNAME.log; on failure show its tail.
run_logged() {
  local name="$1"; shift
  if "$@" > "$LOGS/$name.log" 2>&1; then return 0; fi
  local rc=$?
  log "$name failed (exit $rc); last lines of its log:"
  tail -n 40 "$LOGS/$name.log" | sed 's/^/    /'
  return "$rc"
}
failed_count() { awk -F'\t' '$2 != "ok"' "$CHECKS" | wc -l; }

# --- servers and cleanup --------------------------------------------------------------------------
SERVER_PIDS=()   # each server runs in a session (and process group) of its own: pid = pgid
SERVER_PORTS=()
stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${SERVER_PIDS[@]}"; do
      if [[ -n "$(ps -o pid= -g "$pid" 2>/dev/null)" ]]; then alive=1; fi
    done
    [[ $alive -eq 0 ]] && break
    sleep 0.2
  done
  for pid in "${SERVER_PIDS[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
RESULT_WRITTEN=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_servers
  if [[ $RESULT_WRITTEN -eq 0 ]]; then
    record "round trip completed" failed "$((SECONDS - T0))" "aborted (exit $rc) before the end"
    write_result
  fi
  if [[ "${ROUNDTRIP_KEEP:-}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# start_server NAME PORT CMD...: start in a new session, remember its process group.
start_server() {
  local name="$1" port="$2"; shift 2
  setsid "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  SERVER_PIDS+=("$!")
  SERVER_PORTS+=("$port")
}
# wait_http NAME URL PID: wait up to 90 s for a 2xx answer.
wait_http() {
  local name="$1" url="$2" pid="$3"
  for _ in $(seq 1 180); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before it answered; its log:"; tail -n 30 "$LOGS/$name.log" | sed 's/^/    /'
      return 1
    fi
    sleep 0.5
  done
  log "$name did not answer $url within 90 s; its log:"; tail -n 30 "$LOGS/$name.log" | sed 's/^/    /'
  return 1
}

write_result() {
  local version="${VERSION:-}" sizes="${SIZES_JSON:-}"
  [[ -n "$sizes" ]] || sizes='{}'
  RESULT_WRITTEN=1
  "$NODE22" "$ROOT/.ci/consumer/write-result.js" "$CHECKS" "$TIMINGS" "$RESULT" "$version" "$((SECONDS - T0))" "$sizes" \
    || log "could not write $RESULT"
}

# --- preflight ------------------------------------------------------------------------------------
if [[ ! -x node_modules/.bin/node ]]; then
  NODE22="$(command -v node)"
  record "preflight" failed 0 "node_modules/.bin/node missing: run npm ci first"
  exit 1
fi
NODE22="$(readlink -f node_modules/.bin/node)"
# Node 22 first on PATH for npm, npx, Verdaccio, tsc and the jsii runtime that Python starts.
mkdir -p "$WORK/node22/bin"
ln -s "$NODE22" "$WORK/node22/bin/node"
export PATH="$WORK/node22/bin:$PATH"
if [[ "$(node -v)" != v22.* ]]; then
  record "preflight" failed 0 "expected Node.js 22 from node_modules/.bin/node, got $(node -v)"
  exit 1
fi
PUBLIC_NPM="$(npm config get registry)"
PUBLIC_NPM="${PUBLIC_NPM%/}/"
# The PyPI that pip is configured with (global.index-url or PIP_INDEX_URL), else pypi.org.
EXTRA_INDEX="${PIP_INDEX_URL:-$("$PYTHON" -m pip config get global.index-url 2>/dev/null || true)}"
EXTRA_INDEX="${EXTRA_INDEX:-https://pypi.org/simple}"
log "node $(node -v), npm $(npm -v), $("$PYTHON" --version); public npm registry $PUBLIC_NPM; PyPI $EXTRA_INDEX; work dir $WORK"

# --- 2a (background). registry servers: install ---------------------------------------------------
(
  s=$SECONDS
  mkdir -p "$WORK/verdaccio" && cd "$WORK/verdaccio" \
    && echo '{"name":"local-verdaccio","private":true}' > package.json \
    && npm install --no-save --loglevel=error "verdaccio@${VERDACCIO_VERSION}" \
    && echo "$((SECONDS - s))" > "$WORK/verdaccio.seconds"
) > "$LOGS/install-verdaccio.log" 2>&1 &
VERDACCIO_INSTALL=$!
(
  s=$SECONDS
  "$PYTHON" -m venv "$WORK/pypi-venv" \
    && "$WORK/pypi-venv/bin/pip" install --quiet "pypiserver==${PYPISERVER_VERSION}" "twine==${TWINE_VERSION}" \
    && echo "$((SECONDS - s))" > "$WORK/pypiserver.seconds"
) > "$LOGS/install-pypiserver.log" 2>&1 &
PYPI_INSTALL=$!

# --- 1. release artifacts -------------------------------------------------------------------------
start=$SECONDS
if [[ "${ROUNDTRIP_REUSE_DIST:-}" == 1 && -f dist/version.txt ]]; then
  log "release artifacts: reusing dist/ (ROUNDTRIP_REUSE_DIST=1)"
  run_logged release-check node .ci/check-release-artifacts.js
  rc=$?
else
  log "release artifacts: npx projen release:local (bump, compile, docgen, package js + python, unbump)"
  run_logged release-local npx projen release:local
  rc=$?
fi
timing "release artifacts (release:local)" $((SECONDS - start))
if [[ $rc -ne 0 ]]; then
  record "release artifacts" failed $((SECONDS - start)) "see the log above"
  wait "$VERDACCIO_INSTALL" "$PYPI_INSTALL" 2>/dev/null
  exit 1
fi
grep '^\[release:check\]' "$LOGS"/release-*.log | sed 's/^[^[]*//'
VERSION="$(cat dist/version.txt)"
PY_VERSION="${VERSION//-/}"
TGZ="$ROOT/dist/js/cdk-secure-mlops@${VERSION}.jsii.tgz"
WHEEL="$(ls "$ROOT"/dist/python/*.whl)"
SDIST="$(ls "$ROOT"/dist/python/*.tar.gz)"
SIZES_JSON="$(printf '{"npmTarball":{"file":"%s","bytes":%s},"wheel":{"file":"%s","bytes":%s},"sdist":{"file":"%s","bytes":%s}}' \
  "dist/js/$(basename "$TGZ")" "$(stat -c %s "$TGZ")" "dist/python/$(basename "$WHEEL")" "$(stat -c %s "$WHEEL")" \
  "dist/python/$(basename "$SDIST")" "$(stat -c %s "$SDIST")")"
record "release artifacts" ok $((SECONDS - start)) "version $VERSION, tag $(cat dist/releasetag.txt)"

# --- 2b. registry servers: start --------------------------------------------------------------------
start=$SECONDS
servers_ok=1
if wait "$VERDACCIO_INSTALL"; then
  timing "install Verdaccio $VERDACCIO_VERSION" "$(cat "$WORK/verdaccio.seconds")"
else
  log "installing Verdaccio failed:"; tail -n 30 "$LOGS/install-verdaccio.log" | sed 's/^/    /'; servers_ok=0
fi
if wait "$PYPI_INSTALL"; then
  timing "install pypiserver $PYPISERVER_VERSION + twine $TWINE_VERSION" "$(cat "$WORK/pypiserver.seconds")"
else
  log "installing pypiserver failed:"; tail -n 30 "$LOGS/install-pypiserver.log" | sed 's/^/    /'; servers_ok=0
fi
if [[ $servers_ok -eq 1 ]]; then
  NPM_PORT="$(free_port)"
  PYPI_PORT="$(free_port)"
  while [[ "$PYPI_PORT" == "$NPM_PORT" ]]; do PYPI_PORT="$(free_port)"; done
  NPM_REGISTRY="http://127.0.0.1:${NPM_PORT}/"
  PYPI_URL="http://127.0.0.1:${PYPI_PORT}/"
  mkdir -p "$WORK/verdaccio/storage" "$WORK/pypi-packages"
  cat > "$WORK/verdaccio/config.yaml" <<EOF
storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: -1
uplinks:
  npmjs:
    url: ${PUBLIC_NPM}
    timeout: 120s
    max_fails: 5
packages:
  # Our package lives here only (no proxy): an install can never pick up a same-named package
  # from the public registry.
  'cdk-secure-mlops':
    access: \$all
    publish: \$anonymous
  '@*/*':
    access: \$all
    publish: \$authenticated
    proxy: npmjs
  '**':
    access: \$all
    publish: \$authenticated
    proxy: npmjs
max_body_size: 100mb
log: { type: stdout, format: pretty, level: warn }
EOF
  # npm refuses to publish without a token; Verdaccio lets the anonymous user publish our package.
  NPMRC="$WORK/npmrc"
  printf 'registry=%s\n//127.0.0.1:%s/:_authToken=dummy-token-for-the-local-registry\n' "$NPM_REGISTRY" "$NPM_PORT" > "$NPMRC"
  start_server verdaccio "$NPM_PORT" "$NODE22" "$WORK/verdaccio/node_modules/verdaccio/bin/verdaccio" \
    --config "$WORK/verdaccio/config.yaml" --listen "127.0.0.1:${NPM_PORT}"
  VERDACCIO_PID="${SERVER_PIDS[-1]}"
  start_server pypiserver "$PYPI_PORT" "$WORK/pypi-venv/bin/pypi-server" run -i 127.0.0.1 -p "$PYPI_PORT" -a . -P . "$WORK/pypi-packages"
  PYPI_PID="${SERVER_PIDS[-1]}"
  wait_http verdaccio "${NPM_REGISTRY}-/ping" "$VERDACCIO_PID" || servers_ok=0
  wait_http pypiserver "${PYPI_URL}simple/" "$PYPI_PID" || servers_ok=0
fi
timing "start both servers" $((SECONDS - start))
if [[ $servers_ok -ne 1 ]]; then
  record "registry servers" failed $((SECONDS - start)) "see the logs above"
  exit 1
fi
record "registry servers" ok $((SECONDS - start)) "Verdaccio $VERDACCIO_VERSION on $NPM_REGISTRY, pypiserver $PYPISERVER_VERSION on $PYPI_URL"

# --- 3. publish, and publish again ----------------------------------------------------------------
start=$SECONDS
if run_logged npm-publish npm publish "$TGZ" --userconfig "$NPMRC" --registry "$NPM_REGISTRY"; then
  record "npm publish cdk-secure-mlops@$VERSION" ok $((SECONDS - start)) "$(grep -m1 '^+ ' "$LOGS/npm-publish.log")"
  npm_published=1
else
  record "npm publish cdk-secure-mlops@$VERSION" failed $((SECONDS - start)) "see the log above"
  npm_published=0
fi
timing "npm publish" $((SECONDS - start))
# npm 11 refuses on the client side (it reads the published versions first); the raw request
# shows that the registry refuses too.
start=$SECONDS
if npm publish "$TGZ" --userconfig "$NPMRC" --registry "$NPM_REGISTRY" > "$LOGS/npm-republish.log" 2>&1; then
  record "npm publish of the same version refused (npm)" failed $((SECONDS - start)) "the second publish succeeded"
elif grep -Eiq 'EPUBLISHCONFLICT|E403|E409|cannot publish over' "$LOGS/npm-republish.log"; then
  record "npm publish of the same version refused (npm)" ok $((SECONDS - start)) \
    "$(grep -Eim1 'EPUBLISHCONFLICT|E403|E409|cannot publish over' "$LOGS/npm-republish.log" | sed 's/^npm error //')"
else
  record "npm publish of the same version refused (npm)" failed $((SECONDS - start)) \
    "failed, but not with E403/EPUBLISHCONFLICT: $(grep -m1 'npm error' "$LOGS/npm-republish.log")"
fi
start=$SECONDS
if answer="$(node .ci/consumer/republish-raw.js "$NPM_REGISTRY" dummy-token-for-the-local-registry "$TGZ" 2>&1)"; then
  record "npm publish of the same version refused (registry)" ok $((SECONDS - start)) "$answer"
else
  record "npm publish of the same version refused (registry)" failed $((SECONDS - start)) "$answer"
fi

start=$SECONDS
TWINE=("$WORK/pypi-venv/bin/twine" upload --repository-url "$PYPI_URL" -u local -p local --non-interactive --disable-progress-bar)
if run_logged twine-upload "${TWINE[@]}" "$WHEEL" "$SDIST"; then
  record "twine upload cdk-secure-mlops $PY_VERSION (wheel + sdist)" ok $((SECONDS - start))
  pypi_published=1
else
  record "twine upload cdk-secure-mlops $PY_VERSION (wheel + sdist)" failed $((SECONDS - start)) "see the log above"
  pypi_published=0
fi
timing "twine upload" $((SECONDS - start))
# pypiserver answers a re-upload with 409, but with 400 to twine (what PyPI answers twine,
# pypa/twine#1265); twine --verbose shows the server's reason. The raw upload shows the 409.
start=$SECONDS
if "${TWINE[@]}" --verbose "$WHEEL" > "$LOGS/twine-reupload.log" 2>&1; then
  record "twine upload of the same version refused (twine)" failed $((SECONDS - start)) "the second upload succeeded"
elif grep -q 'already exists' "$LOGS/twine-reupload.log"; then
  record "twine upload of the same version refused (twine)" ok $((SECONDS - start)) \
    "$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/twine-reupload.log" | grep -o 'HTTPError: [0-9]\{3\} [A-Za-z]* [A-Za-z]*' | head -n 1): $(sed "s/&#039;/'/g; s/&#x27;/'/g" "$LOGS/twine-reupload.log" | grep -m1 -o "Package '[^']*' already exists!")"
else
  record "twine upload of the same version refused (twine)" failed $((SECONDS - start)) \
    "failed, but without the server's 'already exists': $(grep -m1 'HTTPError' "$LOGS/twine-reupload.log")"
fi
start=$SECONDS
code="$(curl -sS -o "$LOGS/pypi-reupload.body" -w '%{http_code}' -F ':action=file_upload' -F 'name=cdk-secure-mlops' \
  -F "version=$PY_VERSION" -F "content=@$WHEEL" "$PYPI_URL" 2>&1)"
if [[ "$code" == 409 ]]; then
  record "upload of the same version refused (pypiserver)" ok $((SECONDS - start)) \
    "HTTP 409: $(sed "s/&#039;/'/g; s/&#x27;/'/g" "$LOGS/pypi-reupload.body" | grep -o "Package '[^']*' already exists!" | head -n 1)"
else
  record "upload of the same version refused (pypiserver)" failed $((SECONDS - start)) "HTTP $code, expected 409"
fi

# --- 4. TypeScript quick start from Verdaccio ------------------------------------------------------
NPM_CACHE="$WORK/npm-cache"   # fresh: nothing comes from an earlier run's cache
# npm_install DIR PACKAGES...: a fresh app installing from Verdaccio.
npm_install() {
  local dir="$1"; shift
  mkdir -p "$dir"
  echo '{ "name": "consumer-app", "private": true, "version": "0.0.0" }' > "$dir/package.json"
  cp "$NPMRC" "$dir/.npmrc"
  (cd "$dir" && npm install --loglevel=error --cache "$NPM_CACHE" "$@")
}
# came_from_verdaccio DIR: the package was resolved from the local registry, with our tarball's integrity.
came_from_verdaccio() { "$NODE22" .ci/consumer/npm-origin.js "$1" "$NPM_REGISTRY" "$TGZ"; }
ts_ok=0
if [[ $npm_published -eq 1 ]]; then
  start=$SECONDS
  QS="$WORK/ts-quickstart"
  if run_logged ts-install npm_install "$QS" "cdk-secure-mlops@$VERSION" aws-cdk-lib constructs "typescript@$TYPESCRIPT_RANGE" "@types/node@22"; then
    timing "TypeScript app: npm install (via Verdaccio)" $((SECONDS - start))
    if from="$(came_from_verdaccio "$QS" 2>&1)"; then
      record "npm install cdk-secure-mlops@$VERSION from the local registry" ok $((SECONDS - start)) "$from; aws-cdk-lib $(cd "$QS" && node -p 'require("aws-cdk-lib/package.json").version') through the uplink"
      ts_ok=1
    else
      record "npm install cdk-secure-mlops@$VERSION from the local registry" failed $((SECONDS - start)) "$from"
    fi
  else
    record "npm install cdk-secure-mlops@$VERSION from the local registry" failed $((SECONDS - start)) "see the log above"
  fi
  if [[ $ts_ok -eq 1 ]]; then
    start=$SECONDS
    if run_logged ts-quickstart bash -c '
        set -e
        cd "$1"
        node "$2/.ci/consumer/readme-quickstart.js" "$2/README.md" app.ts
        cp "$2/.ci/consumer/tsconfig.json" tsconfig.json
        npx tsc -p .
        CDK_OUTDIR="$1/cdk.out" node build/app.js
        "$3" "$2/python-tests/readme_quickstart.py" check "$1/cdk.out"
      ' _ "$QS" "$ROOT" "$PYTHON"; then
      record "README TypeScript quick start synthesizes" ok $((SECONDS - start)) "$(grep -m1 'template.json' "$LOGS/ts-quickstart.log" | sed 's/^readme_quickstart: //')"
    else
      record "README TypeScript quick start synthesizes" failed $((SECONDS - start)) "see the log above"
    fi
    timing "TypeScript quick start: tsc + synth" $((SECONDS - start))
  fi
else
  record "npm install cdk-secure-mlops@$VERSION from the local registry" failed 0 "not run: the package was not published"
fi

# --- 5. Python quick start from pypiserver ---------------------------------------------------------
if [[ $pypi_published -eq 1 ]]; then
  start=$SECONDS
  PYQS="$WORK/py-quickstart"
  mkdir -p "$PYQS"
  if run_logged py-install bash -c '
      set -e
      "$1" -m venv "$2/venv"
      "$2/venv/bin/pip" install --report "$2/pip-report.json" "cdk-secure-mlops==$3" --index-url "$4" --extra-index-url "$5"
    ' _ "$PYTHON" "$PYQS" "$PY_VERSION" "${PYPI_URL}simple/" "$EXTRA_INDEX"; then
    timing "Python app: pip install (pypiserver + PyPI)" $((SECONDS - start))
    if from="$("$PYTHON" .ci/consumer/pip-origin.py "$PYQS/pip-report.json" "$PYPI_URL" "$WHEEL" 2>&1)"; then
      record "pip install cdk-secure-mlops==$PY_VERSION from the local index" ok $((SECONDS - start)) "$from"
      start=$SECONDS
      if run_logged py-quickstart bash -c '
          set -e
          cd "$1"
          "$3" "$2/python-tests/readme_quickstart.py" extract "$2/README.md" app.py
          CDK_OUTDIR="$1/cdk.out" "$1/venv/bin/python" app.py
          "$1/venv/bin/python" "$2/python-tests/readme_quickstart.py" check "$1/cdk.out"
        ' _ "$PYQS" "$ROOT" "$PYTHON"; then
        record "README Python quick start synthesizes" ok $((SECONDS - start)) "$(grep -m1 'template.json' "$LOGS/py-quickstart.log" | sed 's/^readme_quickstart: //')"
      else
        record "README Python quick start synthesizes" failed $((SECONDS - start)) "see the log above"
      fi
      timing "Python quick start: synth" $((SECONDS - start))
    else
      record "pip install cdk-secure-mlops==$PY_VERSION from the local index" failed $((SECONDS - start)) "$from"
    fi
  else
    record "pip install cdk-secure-mlops==$PY_VERSION from the local index" failed $((SECONDS - start)) "see the log above"
  fi
else
  record "pip install cdk-secure-mlops==$PY_VERSION from the local index" failed 0 "not run: the package was not uploaded"
fi

# --- 6. consumer harness: minimum and latest aws-cdk-lib -------------------------------------------
CONSUMER_RESULTS=()
if [[ $ts_ok -eq 1 ]]; then
  CDK_MIN="${CONSUMER_CDK_MIN:-$(node -p 'require("./node_modules/aws-cdk-lib/package.json").version')}"
  CDK_LATEST="${CONSUMER_CDK_LATEST:-$(npm view aws-cdk-lib version --registry "$PUBLIC_NPM" 2>/dev/null)}"
  for pair in "min=$CDK_MIN" "latest=$CDK_LATEST"; do
    label="${pair%%=*}"; cdk="${pair#*=}"
    dir="$WORK/consumer-$label"
    start=$SECONDS
    if [[ -z "$cdk" ]]; then
      record "consumer app ($label aws-cdk-lib) runs" failed 0 "could not resolve the aws-cdk-lib version"
      continue
    fi
    if ! run_logged "consumer-$label-install" npm_install "$dir" "cdk-secure-mlops@$VERSION" "aws-cdk-lib@$cdk" constructs \
        "cdk-nag@$CDK_NAG_RANGE" "typescript@$TYPESCRIPT_RANGE" "@types/node@22"; then
      record "consumer app ($label aws-cdk-lib $cdk) runs" failed $((SECONDS - start)) "npm install failed (see the log above)"
      continue
    fi
    timing "consumer app ($label, aws-cdk-lib $cdk): npm install" $((SECONDS - start))
    start=$SECONDS
    mkdir -p "$dir/fixtures"
    cp examples/reference-app/config/cleaning-rules.json examples/reference-app/config/labeling.json "$dir/fixtures/"
    cp test/fixtures/models/hearing-who-grade.onnx "$dir/fixtures/model.onnx"
    cp -r examples/training/hearing-who-grade "$dir/fixtures/training"
    cp .ci/consumer/app.ts .ci/consumer/tsconfig.json "$dir/"
    if run_logged "consumer-$label" bash -c '
        set -e
        cd "$1"
        npx tsc -p .
        CONSUMER_FIXTURES="$1/fixtures" CONSUMER_OUT="$1/result.json" CONSUMER_CDK_OUT="$1/cdk.out" node build/app.js
      ' _ "$dir"; then
      grep '^\[consumer\]' "$LOGS/consumer-$label.log" | sed 's/^/    /'
      record "consumer app ($label aws-cdk-lib $cdk) runs" ok $((SECONDS - start))
      CONSUMER_RESULTS+=("$label=$dir/result.json")
    else
      record "consumer app ($label aws-cdk-lib $cdk) runs" failed $((SECONDS - start)) "see the log above"
    fi
    timing "consumer app ($label, aws-cdk-lib $cdk): tsc + 4 synths + packs" $((SECONDS - start))
  done
  if [[ ${#CONSUMER_RESULTS[@]} -gt 0 ]]; then
    node .ci/consumer/report.js "$REPORT_DIR/consumer-findings.json" "$CHECKS" "${CONSUMER_RESULTS[@]}" \
      || log "the consumer report could not be written"
  fi
else
  record "consumer apps run" failed 0 "not run: the TypeScript install from the local registry failed"
fi

# --- 7. stop the servers, no orphans ---------------------------------------------------------------
start=$SECONDS
stop_servers
left=""
for pid in "${SERVER_PIDS[@]}"; do
  left+="$(ps -o pid=,args= -g "$pid" 2>/dev/null)"
done
for port in "${SERVER_PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then left+=" port $port still open"; fi
done
if [[ -z "$left" ]]; then
  record "servers stopped, no orphans" ok $((SECONDS - start)) "process groups ${SERVER_PIDS[*]} empty, ports ${SERVER_PORTS[*]} closed"
else
  record "servers stopped, no orphans" failed $((SECONDS - start)) "still there: $left"
fi

# --- summary --------------------------------------------------------------------------------------
record "round trip completed" ok $((SECONDS - T0)) "version $VERSION"
timing "round trip (wall)" $((SECONDS - T0))
log "timings:"
while IFS=$'\t' read -r what seconds; do printf '[registry]   %-62s %5s s\n' "$what" "$seconds"; done < "$TIMINGS"
log "artifacts: $(basename "$TGZ") $(du -k "$TGZ" | cut -f1) KiB, $(basename "$WHEEL") $(du -k "$WHEEL" | cut -f1) KiB, $(basename "$SDIST") $(du -k "$SDIST" | cut -f1) KiB"
write_result
failed="$(failed_count)"
log "$(awk -F'\t' '$2 == "ok"' "$CHECKS" | wc -l) checks ok, $failed failed; report: test-reports/registry-roundtrip.json"
[[ "$failed" -eq 0 ]]
exit
}
