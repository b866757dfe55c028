#!/usr/bin/env bash
# The entry points of the README:
#   scripts/dev.sh run       install what is missing, build the command, and show on the embedded
#                            default what a certified run gives (first_screen below); with
#                            arguments, `scripts/dev.sh run ARGS...` runs `iclcert run ARGS...`
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
# A first `run` (no build/CMakeCache.txt yet) configures for what it runs: gpu/'s host kernels for
# this CPU's x86-64 level alone (ICLCERT_CPU_LEVELS=native, cmake/CpuLevels.cmake) and CUDA only
# where a GPU is present (the AUTO default); `test` configures every level, and the CUDA kernels
# wherever nvcc is found, as CI has always compiled them.
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

# The first screen: the embedded default's table as enclosures with their widths, a
# certified verdict with its exit status, and the command that re-checks that verdict
# from its file (written under $build/first-run/).
first_screen() {
  local bin="$build/iclcert" dir="$build/first-run" status=0
  [[ $bin == /* ]] || bin=./$bin
  mkdir -p "$dir"
  echo "== iclcert run --arith interval:256: the recursion in Arb balls at 256 bits; each value"
  echo "   below is the midpoint of an enclosure that contains the true value"
  echo
  "$bin" run --arith interval:256 --json "$dir/trace.json"
  echo
  echo "   the widths of those enclosures (upper end - lower end; 0: exact):"
  print_widths "$dir/trace.json" || echo "   (no /usr/bin/python3 to subtract them: the enclosures are in $dir/trace.json)"
  echo
  echo "== iclcert check --claim A2: a certified verdict on the same prompt and model"
  echo
  "$bin" check --claim A2 --json "$dir/a2.json" || status=$?
  echo
  case $status in
    0) echo "   exit status 0: proved, from outward-rounded interval arithmetic (1 would be refuted, with a counterexample; 3 undecided)" ;;
    1) echo "   exit status 1: refuted; the verdict file holds the counterexample" ;;
    3) echo "   exit status 3: undecided: the enclosures were too wide to decide" ;;
    *) echo "   exit status $status: the check failed" >&2; return "$status" ;;
  esac
  echo
  echo "Re-check that verdict from its file:  $bin check --replay $dir/a2.json"
  echo "The same table in double and mpfr:256 (rounded, uncertified):  $bin run;  all commands:  $bin --help"
}

# The table of enclosure widths hi - lo, per layer and metric, from a trace file
# (exact decimal subtraction: the widths are far below a double's ulp of the values).
print_widths() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
from decimal import Decimal, getcontext
getcontext().prec = 200
short = {"min_label_margin": "min_lbl_mrg", "probe_margin": "probe_mrg", "probe_alignment": "probe_align",
         "probe_attention_same_class": "probe_att_c", "train_attention_same_class": "train_att_c"}
layers = json.load(open(sys.argv[1]))["layers"]
names = [k for k in layers[0]["metrics"] if not k.endswith("_float")]
print("   t" + "".join(f"{short.get(n, n)[:11]:>13}" for n in names))
for layer in layers:
    m = layer["metrics"]
    widths = [Decimal(m[n][1]) - Decimal(m[n][0]) if isinstance(m.get(n), list) else None for n in names]
    cells = ["-" if w is None else "0" if w == 0 else f"{float(w):.1e}" for w in widths]
    print(f"{layer['t']:4d}" + "".join(f"{c:>13}" for c in cells))
PY
}

case "$mode" in
  test | sanitize) ./scripts/install-deps.sh --test ;;
  *) ./scripts/install-deps.sh ;;
esac
case "$mode" in
  run)
    first_run_options=()
    [[ -f $build/CMakeCache.txt ]] || first_run_options=(-DICLCERT_CPU_LEVELS=native)
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${first_run_options[@]}" >/dev/null
    cmake --build "$build" --target iclcert -j "$jobs"
    shift || true
    if (($#)); then
      "./$build/iclcert" run "$@"
    else
      first_screen
    fi
    ;;
  test)
    cuda=()
    [[ -x $(command -v nvcc || echo /usr/local/cuda/bin/nvcc) ]] && cuda=(-DICLCERT_WITH_CUDA=ON)
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DICLCERT_CPU_LEVELS=all "${cuda[@]}" >/dev/null
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
