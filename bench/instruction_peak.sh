#!/usr/bin/env bash
# The vector units' int8 and fp32 ceiling on this machine (bench/instruction_peak.c), THREADS threads (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v gcc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq gcc >/dev/null; }
binary=$(mktemp)
trap 'rm -f "$binary"' EXIT
gcc -O2 -march=native -fopenmp "$here/instruction_peak.c" -o "$binary"
OMP_NUM_THREADS=${1:-2} "$binary"
