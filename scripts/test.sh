#!/usr/bin/env bash
# README's second command (`npm test`): install what is needed, build, then run every test tier
# (unit + contract + end-to-end with the real kubectl) in one node:test run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export PATH="$(pwd)/.tools/bin:$PATH"
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
# A file that hangs is cut off after 10 minutes rather than eating the CI budget.
exec node --test --test-concurrency="${K8TS_TEST_CONCURRENCY:-3}" --test-timeout=600000 --test-reporter=spec "${files[@]}"
