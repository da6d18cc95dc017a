#!/usr/bin/env bash
# Builds (if needed) and runs one libFuzzer target for a set time.
#
# Usage: fuzz/run.sh imaging|checkpoint|requests SECONDS [libFuzzer flags...]
#        fuzz/run.sh imaging|checkpoint|requests replay      # every committed seed and regression once, then exit
#
# The growing corpus lives in fuzz/work/TARGET/corpus (gitignored; seeded from fuzz/corpus/TARGET) and findings
# (crash-*, leak-*, timeout-*, oom-*) in fuzz/work/TARGET/findings; the full log in fuzz/work/TARGET/*.log.
# FUZZ_CORPUS=DIR sets another working corpus (scripts/test.sh uses a temporary one).
# A finding makes the script exit non-zero: copy the input into fuzz/regressions/TARGET, fix the code, and add a
# test that reads it to the module's test target (CheckpointTests, ImagingTests; ServerTests or CLITests for requests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: fuzz/run.sh imaging|checkpoint|requests SECONDS|replay}
seconds=${2:?usage: fuzz/run.sh imaging|checkpoint|requests SECONDS|replay}
shift 2
case "$target" in
    imaging) product=FuzzImaging; max_len=16384 ;;
    checkpoint) product=FuzzCheckpoint; max_len=65536 ;;
    requests) product=FuzzRequests; max_len=16384 ;;
    *) echo "unknown target $target (imaging, checkpoint, requests)" >&2; exit 2 ;;
esac
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH

# libFuzzer instruments every Swift module of fuzz/Package.swift (coverage + AddressSanitizer), and the package's
# own C (CKernels: AddressSanitizer); the system libraries (libjpeg-turbo, libspng, libwebp) run uninstrumented, but
# their crashes and leaks are still caught.
(cd "$here" && swift build -c release --scratch-path .build-fuzz --product "$product" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xcc -fsanitize=address 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]|warning: Cannot export local symbol' || true)
binary="$here/.build-fuzz/release/$product"
[ -x "$binary" ] || { echo "build of $product failed" >&2; exit 1; }

work="$here/work/$target"
corpus=${FUZZ_CORPUS:-$work/corpus}
mkdir -p "$corpus" "$work/findings"
seeds=("$here/corpus/$target" "$here/regressions/$target")
common=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -max_len=$max_len -print_final_stats=1
    -artifact_prefix="$work/findings/")

if [ "$seconds" = replay ]; then
    # -runs=0: read and run every input once, no mutation.
    "$binary" "${common[@]}" -runs=0 "${seeds[@]}" "$@" 2>&1 | grep -E '^#|ERROR|SUMMARY|Done' 
    exit "${PIPESTATUS[0]}"
fi

log="$work/$(date -u +%Y%m%dT%H%M%SZ)-${seconds}s.log"
echo "fuzzing $target for ${seconds}s: corpus $corpus, log $log"
set +e
"$binary" "${common[@]}" -max_total_time="$seconds" "$corpus" "${seeds[@]}" "$@" >"$log" 2>&1
status=$?
set -e
# The progress lines: #executions, cov: (edges), ft: (features), corpus size, exec/s, rss.
grep -E '^#[0-9]+' "$log" | grep -E 'INITED|REDUCE|NEW|pulse|DONE' | tail -n 4
grep -E '^stat::|ERROR|SUMMARY|Test unit written' "$log" || true
[ $status -eq 0 ] || echo "$target: libFuzzer exited with $status: see $log and $work/findings" >&2
exit $status
