#!/usr/bin/env bash
# Mutation check of the verdict code (docs/mutation.md): plants known faults one at a time
# in a scratch copy of the working tree, rebuilds the tests that should notice, runs them,
# and reports each mutant as killed (some test failed) or survived (no test noticed: a
# missing test). The real tree is never modified. Not run in CI: it takes tens of minutes.
#   scripts/mutation-check.sh              every mutant
#   scripts/mutation-check.sh ID...        only these (IDs as in the table below)
#   scripts/mutation-check.sh --list       the mutants, without running anything
# Environment: MUTATION_DIR (scratch, default /tmp/iclcert-mutation), JOBS (default: cores).
# Exit status: 0 when every mutant was killed, 1 when one survived, 2 when a patch did not
# apply (its text must occur exactly once: the code moved, so update the table).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTATION_DIR:-/tmp/iclcert-mutation}
jobs=${JOBS:-$(nproc)}
src=$work/src
build=$work/build

# One mutant per entry, fields separated by " @@ ":
#   id @@ file @@ text to replace (exactly once) @@ replacement @@ ctest regex @@ what it plants
# Each replacement is a literal text substitution (no regex), checked to match exactly once.
mutants=(
  "a1-strict-as-nonstrict @@ claims/separation.hpp \
@@ const bool holds = o.strict ? certainly_greater(after.value, before.value) \
@@ const bool holds = o.strict ? certainly_greater_or_equal(after.value, before.value) \
@@ ^(claims_test|a1_test|cli_test)\$ \
@@ A1's strict M^{t+1} > M^t certified by >= (a flipped comparison: > to >=)"
  "a2-fails-flipped @@ claims/separation.hpp \
@@ : certainly_less(after.value, before.value); \
@@ : certainly_less(before.value, after.value); \
@@ ^(claims_test|cli_test)\$ \
@@ A2's failure test with its operands swapped (a flipped comparison: < to >)"
  "greater-lower-vs-upper @@ numerics/rigorous.hpp \
@@ return ScalarTraits<T>::certainly_positive(a - b); \
@@ return !ScalarTraits<T>::certainly_negative(a - b); \
@@ ^(claims_test|interval_test|cli_test)\$ \
@@ certainly_greater(a, b) as 'upper(a - b) >= 0' instead of 'lower(a - b) > 0'"
  "b1-arb-positive-midpoint @@ numerics/interval_arb.cpp \
@@ return arb_is_positive(x.get()) != 0; \
@@ return arf_sgn(arb_midref(x.get())) > 0; \
@@ ^(claims_test|interval_test|interval_softmax_test|cli_test)\$ \
@@ an Arb ball's midpoint taken as certificate of positivity (its lower end ignored)"
  "b2-arb-nonnegative-midpoint @@ numerics/interval_arb.cpp \
@@ return arb_is_nonnegative(x.get()) != 0; \
@@ return arf_sgn(arb_midref(x.get())) >= 0; \
@@ ^(claims_test|interval_test|interval_softmax_test|cli_test)\$ \
@@ an Arb ball's midpoint taken as certificate of nonnegativity (A2's >=)"
  "b3-mpfi-positive-midpoint @@ numerics/interval_mpfi.cpp \
@@ return !mpfi_nan_p(x.get()) && mpfi_is_strictly_pos(x.get()) > 0; \
@@ return !mpfi_nan_p(x.get()) && [&] { mpfr_t m; mpfr_init2(m, mpfi_get_prec(x.get())); mpfi_mid(m, x.get()); const int s = mpfr_sgn(m); mpfr_clear(m); return s > 0; }(); \
@@ ^(claims_test|interval_test|interval_softmax_test|cli_test)\$ \
@@ an MPFI interval certified positive when its midpoint is"
  "c1-arb-softmax-lower-nearest @@ numerics/interval_arb.cpp \
@@ else arf_ui_div(lo[i].v, 1, hi_sum.v, p, ARF_RND_FLOOR); \
@@ else arf_ui_div(lo[i].v, 1, hi_sum.v, p, ARF_RND_NEAR); \
@@ ^(claims_test|interval_test|interval_softmax_test|cli_test)\$ \
@@ Arb softmax enclosure: lower weight bound 1/D rounded to nearest, not down"
  "c2-mpfi-softmax-lower-nearest @@ numerics/interval_mpfi.cpp \
@@ mpfr_ui_div(lo[i].v, 1, hi_sum.v, MPFR_RNDD); \
@@ mpfr_ui_div(lo[i].v, 1, hi_sum.v, MPFR_RNDN); \
@@ ^(claims_test|interval_test|interval_softmax_test|cli_test)\$ \
@@ MPFI softmax enclosure: lower weight bound rounded to nearest, not down"
  "c3-printed-enclosure-nearest @@ numerics/interval_endpoints.cpp \
@@ const mpfr_rnd_t rnd = upper ? MPFR_RNDU : MPFR_RNDD; \
@@ const mpfr_rnd_t rnd = MPFR_RNDN; \
@@ ^(claims_test|interval_test|interval_softmax_test|formats_test|cli_test)\$ \
@@ enclosure endpoints printed in decimal rounded to nearest, not outward"
  "d-r1-box-overwrite @@ claims/robustness.cpp \
@@ if (box[j].coefficient == box[k].coefficient) \
@@ if (false && box[j].coefficient == box[k].coefficient) \
@@ ^(claims_test|cli_test)\$ \
@@ R1: a coefficient boxed twice accepted again, the later range overwriting the earlier"
  "e-validation-skips-non-finite @@ gpu/batch_validate.hpp \
@@ if (!std::isfinite(static_cast<double>(f))) { \
@@ if (!std::isfinite(static_cast<double>(f))) { continue; \
@@ ^(gpu_batch_validation|gpu_batch_command|cli_test)\$ \
@@ batch --validate: inf/NaN float values skipped before the bound check"
)

field() { # field N of a mutant entry (1-based), trimmed
  local IFS=$'\x1f'
  local parts
  parts=$(sed 's/ @@ /\x1f/g' <<<"$1")
  read -r -a arr <<<"$parts"
  local v=${arr[$(($2 - 1))]}
  v=${v#"${v%%[![:space:]]*}"}
  printf '%s' "${v%"${v##*[![:space:]]}"}"
}

if [[ ${1:-} == --list ]]; then
  for m in "${mutants[@]}"; do printf '%-32s %-30s %s\n' "$(field "$m" 1)" "$(field "$m" 2)" "$(field "$m" 6)"; done
  exit 0
fi
selected=("$@")
chosen=()
for m in "${mutants[@]}"; do
  id=$(field "$m" 1)
  if ((${#selected[@]} == 0)) || [[ " ${selected[*]} " == *" $id "* ]]; then chosen+=("$m"); fi
done
((${#chosen[@]})) || { echo "mutation-check: no mutant matches: ${selected[*]}" >&2; exit 2; }

# Literal substitution in FILE, which must contain OLD exactly once.
patch_once() {
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"mutation-check: {path}: the text to replace occurs {n} times, expected once: {old}")
open(path, "w").write(text.replace(old, new))
EOF
}

# The scratch copy: tracked and untracked (not ignored) files of the working tree as they are now.
echo "mutation-check: copying the working tree to $src"
rm -rf "$src"
mkdir -p "$src" "$build"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -xmf - -C "$src"
# -m: the copies get fresh times, newer than any object a previous run left in
# "$build" (a mutant's object with the source's old time would pass for current).

# Every patch must apply before anything is built.
for m in "${chosen[@]}"; do
  f=$(field "$m" 2)
  count=$(python3 -c 'import sys; print(open(sys.argv[1]).read().count(sys.argv[2]))' "$src/$f" "$(field "$m" 3)")
  [[ $count == 1 ]] || { echo "mutation-check: $(field "$m" 1): the text to replace occurs $count times in $f, expected once" >&2; exit 2; }
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DICLCERT_WITH_CUDA=OFF -DICLCERT_BUILD_BENCH=OFF \
  "${launcher[@]}" >/dev/null

# The tests named by the chosen mutants (their ctest regexes, as target names).
targets=()
for m in "${chosen[@]}"; do
  for t in $(field "$m" 5 | tr -d '^$()' | tr '|' ' '); do
    [[ " ${targets[*]} " == *" $t "* ]] || targets+=("$t")
  done
done
echo "mutation-check: building ${targets[*]} (unmutated)"
# A test that does not build unmutated (work in progress elsewhere) is left out, and said so.
built=()
for t in "${targets[@]}"; do
  if cmake --build "$build" -j "$jobs" --target "$t" >>"$work/build-baseline.log" 2>&1; then
    built+=("$t")
  else
    echo "mutation-check: WARNING: $t does not build unmutated; left out (see $work/build-baseline.log)"
  fi
done
((${#built[@]})) || { echo "mutation-check: nothing builds unmutated" >&2; exit 2; }
regex=$(IFS='|'; echo "^(${built[*]})\$")
failed_tests() { sed -n 's/^[[:space:]]*[0-9]* - \([A-Za-z0-9_]*\) (.*/\1/p' "$1" | sort -u; }
# A test that fails unmutated kills nothing: it is left out of the attribution (and said so).
baseline_failures=""
if ! ctest --test-dir "$build" -R "$regex" -j "$jobs" >"$work/test-baseline.log" 2>&1; then
  baseline_failures=$(failed_tests "$work/test-baseline.log" | paste -sd' ' -)
  echo "mutation-check: WARNING: these tests fail on the unmutated tree and count for nothing: $baseline_failures"
fi

report=$work/report.md
{
  echo "| mutant | file | planted fault | tests run | result | killed by | seconds |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$report"
survived=0
for m in "${chosen[@]}"; do
  id=$(field "$m" 1) f=$(field "$m" 2) tests=$(field "$m" 5) what=$(field "$m" 6)
  start=$SECONDS
  cp "$src/$f" "$work/original"
  patch_once "$src/$f" "$(field "$m" 3)" "$(field "$m" 4)"
  build_targets=$(for t in $(echo "$tests" | tr -d '^$()' | tr '|' ' '); do
    [[ " ${built[*]} " == *" $t "* ]] && echo "$t"; done | paste -sd' ' -)
  tests="^($(echo "$build_targets" | tr ' ' '|'))\$"
  log=$work/$id.log
  if ! cmake --build "$build" -j "$jobs" --target $build_targets >"$log" 2>&1; then
    result="does not compile" killers="-"
  else
    ctest --test-dir "$build" -R "$tests" -j "$jobs" --timeout 600 >>"$log" 2>&1 || true
    killers=$(failed_tests "$log" | while read -r t; do [[ " $baseline_failures " == *" $t "* ]] || echo "$t"; done |
      paste -sd, -)
    if [[ -n $killers ]]; then
      result="killed"
    else
      result="SURVIVED" killers="-"
      survived=$((survived + 1))
    fi
  fi
  cp "$work/original" "$src/$f"
  touch "$src/$f"
  seconds=$((SECONDS - start))
  printf 'mutation-check: %-32s %-16s %-40s %4d s\n' "$id" "$result" "$killers" "$seconds"
  echo "| \`$id\` | \`$f\` | $what | ${build_targets// /, } | $result | $killers | $seconds |" >>"$report"
done
echo "mutation-check: table in $report; logs in $work"
((survived == 0)) || { echo "mutation-check: $survived mutant(s) survived: a test is missing"; exit 1; }
