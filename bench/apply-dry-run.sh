#!/usr/bin/env bash
# apply --dry-run of the example answers file against `runnerup version`
# (the cost of starting the binary at all). A registration-kind token keeps
# GitLab out of the loop: dry-run never registers. --offline: this measures
# validation, service detection, the local host checks, render and diff;
# the live checks' cost is bench/probe_test.go's.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/runnerup
go build -o "$bin" .
work=$(mktemp -d)
export RUNNER_TOKEN=GR1348941benchbenchbenchbench REGISTRY_PASSWORD=bench-password
hyperfine --warmup 5 --runs 100 -N --export-markdown bench/out-apply-dry-run.md \
  "$bin version" \
  "$bin apply --answers examples/runner.toml --dry-run --offline --config $work/config.toml --docker-config $work/docker"
