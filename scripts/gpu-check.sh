#!/usr/bin/env bash
# The prepared GPU check (issue 12): the CUDA tests, CLI throughput at 10^6 and 10^7
# prompts (with ICLCERT_CUDA_TIMING's split between sampling and kernel), the
# gpu_throughput benchmark against PyTorch, compute-sanitizer memcheck, and the
# kernel's instruction mix. About 3 minutes on an H200. Run it on the GPU machine
# from a CUDA build packed by ../shared/tools/device-pack.sh:
#   bash .devpack/run.sh bash scripts/gpu-check.sh        (the log goes to $OUT/log.txt)
set -u
OUTD=${OUT:-/tmp/devout}; mkdir -p "$OUTD"
exec > >(tee "$OUTD/log.txt") 2>&1
t0=$SECONDS
step() { echo; echo "=== [$((SECONDS - t0)) s] $*"; }
step tests
timeout 120 build/tests/gpu/gpu_batch_cuda 2>&1 | grep -vE "^\[ RUN|using the CUDA backend" | head -60
timeout 60 ctest --test-dir build -R "gpu_batch_columns|gpu_sampler_hd" 2>&1 | tail -3
cat > /tmp/m8.json <<'M'
{ "format": 1, "kernel": "softmax", "probe_label_init": "zero", "probe_is_key": false,
  "layers": [
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" },
    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" }
  ] }
M
run() {  # label, env..., then args
  local label=$1; shift
  local start=$(date +%s.%N)
  env ICLCERT_CUDA_TIMING=1 "$@" 2>&1 | grep -E "prompts/s|sampled on the device|timing|certified|error|Error" | sed "s/^/[$label] /"
  echo "[$label] wall $(awk "BEGIN{print $(date +%s.%N) - $start}") s"
}
B=1000000
step "CLI 10^6 prompts, final only"
for arith in float32 float64; do
  for team in auto 1 4; do
    e=(); [[ $team != auto ]] && e=(ICLCERT_CUDA_TEAM=$team)
    run "$arith team $team" "${e[@]}" timeout 60 build/iclcert batch --model /tmp/m8.json --sample 16,4,64 --prompts $B --device cuda --final-only --arith $arith --no-progress
  done
done
run "float32 per-layer" timeout 90 build/iclcert batch --model /tmp/m8.json --sample 16,4,64 --prompts $B --device cuda --arith float32 --no-progress
run "float32 10^7" timeout 120 build/iclcert batch --model /tmp/m8.json --sample 16,4,64 --prompts 10000000 --device cuda --final-only --no-progress
run "float64 10^7" timeout 120 build/iclcert batch --model /tmp/m8.json --sample 16,4,64 --prompts 10000000 --device cuda --final-only --arith float64 --no-progress
run "certify 10^6, float64 intervals" timeout 120 build/iclcert batch --model /tmp/m8.json --sample 16,4,64 --prompts $B --certify --no-escalate --chunk 65536 --device cuda --no-progress
step "benchmark"
timeout 300 build/bench/gpu_throughput --B $B 2>&1 | grep -vE "^gpu_throughput:" | tail -42
step memcheck
timeout 150 compute-sanitizer --tool memcheck --leak-check no build/tests/gpu/gpu_batch_cuda 2>&1 | tail -4
timeout 60 compute-sanitizer --tool memcheck build/iclcert batch --sample 8,3,30 --prompts 3000 --device cuda --no-progress 2>&1 | tail -2
step "sass"
command -v cuobjdump && cuobjdump -sass build/iclcert 2>/dev/null | awk '/Function : /{f = ($0 ~ /team_kernelIfLi24/)} f' > /tmp/s.txt && for p in FMUL FADD FFMA LDS.128 "LDS " STS MUFU BAR; do echo "$p $(grep -c "$p" /tmp/s.txt)"; done
step "done"
