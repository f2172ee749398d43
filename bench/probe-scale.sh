#!/usr/bin/env bash
# runnerup probe --config of 50 runners / 100 images / 3 registries against
# the slowest single probe --image; prints RATIO, connections and CPU per
# registry. BENCH_RTT (default 20ms), BENCH_CONCURRENCY, BENCH_RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -tags bench ./bench -run 'TestProbeConfigScale$' -count=1 -v -timeout 30m
