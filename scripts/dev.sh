#!/usr/bin/env bash
# The entry points of the README:
#   scripts/dev.sh run       install what is missing, build, run `iclcert run` on the embedded default
#   scripts/dev.sh test      install what is missing (with --test), build everything, run the whole
#                            test suite, then the sanitizer and fuzz stage below (what CI runs)
#   scripts/dev.sh sanitize  the sanitizer and fuzz stage alone: a clang build with AddressSanitizer
#                            and UndefinedBehaviorSanitizer (-O1 -g, no recovery: a finding fails the
#                            test) of a chosen subset, the unit tests of io/, numerics/ and claims/
#                            and the readers' fuzz targets; ctest on them (the fuzz targets replay
#                            fuzz/corpus and fuzz/crashes); then a short fixed-seed fuzz campaign
#                            (fuzz/campaign.sh). The whole tree under ASan takes over an hour on
#                            2 cores, so it is left out.
# Environment: BUILD_DIR (default build), SANITIZE_BUILD_DIR (default build-asan),
# JOBS (default: number of cores), FUZZ_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

# The sanitised subset: unit tests that run in seconds and cover the readers and the
# verdict code. The fuzz targets' replays (fuzz_*_replay) run with them.
sanitized_tests=(
  formats_test
  rational_test sampler_test metrics_test hand_case_test reduction_test a1_test
  double_vs_mpfr_test interval_test interval_softmax_test
  claims_test
)

sanitize() {
  local b=${SANITIZE_BUILD_DIR:-build-asan}
  local start=$SECONDS
  cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
    -DICLCERT_SANITIZE=address,undefined -DICLCERT_BUILD_FUZZERS=ON \
    -DICLCERT_WITH_CUDA=OFF -DICLCERT_WITH_Z3=OFF -DICLCERT_WITH_MPI=OFF -DICLCERT_WITH_PYTHON=OFF \
    -DICLCERT_BUILD_BENCH=OFF >/dev/null
  cmake --build "$b" -j "$jobs" --target "${sanitized_tests[@]}" fuzzers
  echo "sanitize: built in $((SECONDS - start)) s"
  local symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
  [[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
  export UBSAN_OPTIONS=print_stacktrace=1
  local names
  names=$(IFS='|'; echo "${sanitized_tests[*]}")
  ctest --test-dir "$b" --output-on-failure -j "$jobs" -R "^(${names}|fuzz_[a-z]+_replay)\$"
  ./fuzz/campaign.sh "$b"
  echo "sanitize: done in $((SECONDS - start)) s"
}

case "$mode" in
  test | sanitize) ./scripts/install-deps.sh --test ;;
  *) ./scripts/install-deps.sh ;;
esac
case "$mode" in
  run)
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target iclcert -j "$jobs"
    shift || true
    "./$build/iclcert" run "$@"
    ;;
  test)
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$jobs"
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    sanitize
    ;;
  sanitize)
    sanitize
    ;;
  *)
    echo "usage: scripts/dev.sh run [iclcert run options] | scripts/dev.sh test | scripts/dev.sh sanitize" >&2
    exit 2
    ;;
esac
