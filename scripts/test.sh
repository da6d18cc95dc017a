#!/usr/bin/env bash
# Sets up and runs every test: ESLint on the pages' JavaScript and openapi-spec-validator on the OpenAPI document
# (scripts/lint.sh), the Swift suites (engine fidelity, decoders, weight readers, the real server), a short
# libFuzzer run of each fuzz target (fuzz/run.sh), then schemathesis against the OpenAPI document, the KServe v2
# routes through the Triton client (tests/api) and the page in a real browser.
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
stop_postgres() { "$root/scripts/postgres-test-cluster.sh" stop "$pg_dir"; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
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

step "fuzzing (libFuzzer + AddressSanitizer): ${FUZZ_SECONDS:=10}s per target, then the committed seeds and regressions"
for target in imaging checkpoint requests; do
    scratch=$(mktemp -d)
    FUZZ_CORPUS="$scratch" fuzz/run.sh "$target" "$FUZZ_SECONDS"
    rm -rf "$scratch"
    fuzz/run.sh "$target" replay
done

bin="$(swift build --show-bin-path)/resnet18"
export RESNET18_BIN="$bin"
export RESNET18_ARTIFACTS="$root/artifacts"

step "schemathesis against /openapi.yaml"
SCHEMATHESIS="$root/.venv-test/bin/schemathesis" tests/api/run_schemathesis.sh "$bin"

step "the KServe v2 routes and gRPC service through the Triton clients (tritonclient[http,grpc])"
"$root/.venv-test/bin/python" -m pytest -q tests/api

step "resnet18 train against scikit-learn (the same features, the same regularised fit)"
"$root/.venv-test/bin/python" -m pytest -q tests/head

step "three replicas on one PostgreSQL behind HAProxy: shared history, camera leases, failover"
"$root/.venv-test/bin/python" -m pytest -q -s tests/replicas

step "the Kubernetes and KServe manifests (kubernetes-validate, strict)"
"$root/.venv-test/bin/python" -m pytest -q tests/deploy

step "the page in a real browser (chromium, selenium)"
"$root/.venv-test/bin/python" -m pytest -q tests/browser
step "all tests passed"
