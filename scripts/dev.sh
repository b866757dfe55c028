#!/usr/bin/env bash
# The two entry points of the README:
#   scripts/dev.sh run    install what is missing, build, run `iclcert run` on the embedded default
#   scripts/dev.sh test   install what is missing, build everything, run the whole test suite
# Environment: BUILD_DIR (default build), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

if [[ "$mode" == test ]]; then ./scripts/install-deps.sh --test; else ./scripts/install-deps.sh; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
case "$mode" in
  run)
    cmake --build "$build" --target iclcert -j "$jobs"
    shift || true
    "./$build/iclcert" run "$@"
    ;;
  test)
    cmake --build "$build" -j "$jobs"
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: scripts/dev.sh run [iclcert run options] | scripts/dev.sh test" >&2
    exit 2
    ;;
esac
