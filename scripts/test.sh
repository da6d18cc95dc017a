#!/usr/bin/env bash
# Sets up and runs every test: ESLint on the pages' JavaScript and openapi-spec-validator on the OpenAPI document
# (scripts/lint.sh), the Swift suites (engine fidelity, decoders, weight readers, the real server), a short
# libFuzzer run of each fuzz target (fuzz/run.sh), then schemathesis against the OpenAPI document, the KServe v2
# routes and gRPC service through the Triton clients (tests/api), `train` against scikit-learn (tests/head), the
# manifests (tests/deploy) and the page in a real browser (tests/browser); beside these, three replicas on one
# PostgreSQL behind HAProxy (tests/replicas).
# Usage: scripts/test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Each step's start, as time since this script began: where a run's minutes went, from its log alone.
step() { printf '==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
"$root/scripts/setup.sh" --test --debug
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
export RESNET18_SHARED=${RESNET18_SHARED:-$(cd "$root/../shared" && pwd -P)}
mkdir -p artifacts

step "lint"
scripts/lint.sh

# A throwaway PostgreSQL server for the history tests (the store suite and a server run on it); stopped on exit.
pg_dir=$(mktemp -d /tmp/resnet18-test-postgres.XXXXXX)
replicas_pid=""
clean_up() {
    # A run cut short stops the replica tests running in the background (below) with it: their servers too.
    if [ -n "$replicas_pid" ]; then
        kill -TERM -- "-$replicas_pid" 2>/dev/null || true
        wait "$replicas_pid" 2>/dev/null || true
    fi
    "$root/scripts/postgres-test-cluster.sh" stop "$pg_dir"; rm -rf "$pg_dir"
}
trap clean_up EXIT
step "starting a throwaway PostgreSQL server"
RESNET18_TEST_POSTGRES_URL=$("$root/scripts/postgres-test-cluster.sh" start "$pg_dir")
export RESNET18_TEST_POSTGRES_URL
echo "    $RESNET18_TEST_POSTGRES_URL"

# Built first, so that the time limit below is the tests' alone. Output a line at a time: a log cut short by a
# time limit still shows the last test that started. A run that outlives the limit has hung: it fails, naming that.
step "building the tests"
swift build --build-tests 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Building)' || true; }
# The storage suites first and on their own: in the full parallel run, twice, a HistoryWriter test never finished
# (every thread idle), which they never did alone; see docs/design.md ("Known problems").
run_swift_tests() {
    local limit=$1; shift
    local status=0
    timeout --kill-after=30 "$limit" stdbuf -oL -eL swift test --skip-build "$@" 2>&1 || status=$?
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        echo "swift test $* did not finish within $limit s: a test hung (the last ones started are above)" >&2
    fi
    return "$status"
}
step "swift test: the storage suites"
run_swift_tests "${SWIFT_TEST_TIME_LIMIT_STORAGE:-300}" --filter StorageTests
step "swift test: the rest"
run_swift_tests "${SWIFT_TEST_TIME_LIMIT:-1500}" --skip StorageTests

bin="$(swift build --show-bin-path)/resnet18"
export RESNET18_BIN="$bin"
export RESNET18_ARTIFACTS="$root/artifacts"

# The replica tests spend much of their time waiting for camera leases to run out (15 s each, as a real failover
# would), so they run in the background beside the steps below, in a process group of their own (stopped
# with this script); their output is shown, and their result counts, at the end.
step "three replicas on one PostgreSQL behind HAProxy: shared history, camera leases, failover (in the background)"
replicas_log=$(mktemp)
setsid --wait "$root/.venv-test/bin/python" -m pytest -q -s tests/replicas >"$replicas_log" 2>&1 &
replicas_pid=$!

step "fuzzing (libFuzzer + AddressSanitizer): ${FUZZ_SECONDS:=10}s per target, then the committed seeds and regressions"
for target in imaging checkpoint requests; do
    scratch=$(mktemp -d)
    FUZZ_CORPUS="$scratch" fuzz/run.sh "$target" "$FUZZ_SECONDS"
    rm -rf "$scratch"
    fuzz/run.sh "$target" replay
done

step "schemathesis against /openapi.yaml"
SCHEMATHESIS="$root/.venv-test/bin/schemathesis" tests/api/run_schemathesis.sh "$bin"

step "the KServe v2 routes and gRPC service through the Triton clients (tritonclient[http,grpc])"
"$root/.venv-test/bin/python" -m pytest -q tests/api

step "resnet18 train against scikit-learn (the same features, the same regularised fit)"
"$root/.venv-test/bin/python" -m pytest -q tests/head

step "the Kubernetes and KServe manifests (kubernetes-validate, strict)"
"$root/.venv-test/bin/python" -m pytest -q tests/deploy

step "the page in a real browser (chromium, selenium)"
"$root/.venv-test/bin/python" -m pytest -q tests/browser

step "the replica tests, started in the background after the Swift tests"
replicas_status=0
wait "$replicas_pid" || replicas_status=$?
replicas_pid=""
cat "$replicas_log"
rm -f "$replicas_log"
if [ "$replicas_status" != 0 ]; then
    echo "the replica tests failed (above)" >&2
    exit "$replicas_status"
fi
step "all tests passed"
