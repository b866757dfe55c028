#!/usr/bin/env bash
# A short fixed-seed libFuzzer campaign over every fuzz target built in BUILD_DIR (the
# sanitizer build of `scripts/dev.sh sanitize`). Deterministic: the same seed, run count and
# seed corpus give the same inputs, so a finding in CI reproduces with the command printed.
#   fuzz/campaign.sh BUILD_DIR
# Environment: FUZZ_SEED (default 1), FUZZ_SCALE (multiplies the run counts, default 1).
# New inputs go to a scratch copy of the corpus, never into fuzz/corpus. A finding is kept
# under BUILD_DIR/fuzz-findings/; once understood and fixed, add it to fuzz/crashes/<target>/
# so that fuzz_<target>_replay keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/campaign.sh BUILD_DIR}
seed=${FUZZ_SEED:-1}
scale=${FUZZ_SCALE:-1}

# Runs per target, sized for about half a minute each on a 2-core CI machine under
# ASan + UBSan; -max_total_time caps a slow machine without failing it.
declare -A runs=([rational]=500000 [prompt]=150000 [model]=150000 [counterexample]=40000
                 [verdict]=150000 [predictions]=250000 [batch_prompts]=250000)

findings=$build/fuzz-findings
mkdir -p "$findings"
scratch=$(mktemp -d /tmp/iclcert-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
echo "fuzz campaign: seed $seed"
failed=()
for target in rational prompt model counterexample verdict predictions batch_prompts; do
  bin=$build/fuzz/fuzz_$target
  [[ -x $bin ]] || { echo "fuzz campaign: $target: not built, skipped"; continue; }
  n=$((runs[$target] * scale))
  mkdir -p "$scratch/$target"
  cmd=("$bin" -seed="$seed" -runs="$n" -max_total_time=90 -timeout=10 -rss_limit_mb=2048
       -max_len=4096 -print_final_stats=1 -artifact_prefix="$findings/$target-")
  [[ $target == rational ]] || cmd+=(-dict=fuzz/json.dict)
  cmd+=("$scratch/$target" "fuzz/corpus/$target")
  echo "fuzz campaign: $target: ${cmd[*]}"
  start=$SECONDS
  if "${cmd[@]}" >"$scratch/$target.log" 2>&1; then
    echo "fuzz campaign: $target: $(grep -E '^(Done|stat::number_of_executed_units)' "$scratch/$target.log" |
      tr '\n' ' ')in $((SECONDS - start)) s, no finding"
  else
    tail -n 60 "$scratch/$target.log"
    echo "fuzz campaign: $target: FINDING (seed $seed); the input is in $findings/"
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz campaign: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz campaign: no finding"
