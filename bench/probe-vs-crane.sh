#!/usr/bin/env bash
# runnerup probe --image against crane manifest (and skopeo) on one
# loopback htpasswd registry; prints medians and RATIO lines. Needs root,
# dockerd, docker-registry, hyperfine, skopeo; BENCH_RUNS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -tags bench ./bench -run 'TestProbeImageVersusCrane$' -count=1 -v -timeout 30m
