#!/usr/bin/env bash
# The prepared GPU check (issues 12, 28): one run of at most --budget seconds
# (default 450, under the issue's 8 minutes) that answers what a GPU session must:
#   env        the device, driver, nvcc, torch;
#   tests      gpu_batch_cuda (the device against the CPU backend, bit for bit);
#   cli        batch --device cuda at 10^6 prompts (10^7 once), float32 and float64,
#              with ICLCERT_CUDA_TIMING's split (device sampling / kernel + download);
#   certify    batch --certify --device cuda at 10^6 prompts (timed), then 10^4 of
#              them on the device and on the CPU tier: certified predictions equal,
#              margin enclosures overlapping (0 wrong is the issue's bar);
#   bench      gpu_throughput: iclcert against eager PyTorch, reduced and dense H = 2;
#   peers      eager, SDPA (default and math backends) and torch.compile (compile
#              time apart) of the same recursion, B = 10^6, the fastest is the peer;
#   memcheck   compute-sanitizer on two gpu_batch_cuda tests and two CLI runs;
#   split      nsys: time per kernel and per copy direction (sampling, team
#              kernel, certify kernel, H2D, D2H); without nsys, the cli step's timers;
#   static     tests/gpu/cuda_static_test.py (registers, spills, occupancy, SASS);
#   ctest      ctest -R gpu, the rest of the gpu tests (CPU-side).
# Steps run in that order (most valuable first); one that would start past the
# budget is skipped and says so. Everything goes to $OUT: log.txt (all of it) and
# one file per step's full output.
#
# On the GPU machine, from a CUDA build packed by ../shared/tools/device-pack.sh BUILD:
#   bash .devpack/run.sh bash scripts/gpu-check.sh --build BUILD
# --only certify,peers runs those steps alone (keys: env tests cli certify compare bench peers
# memcheck split static ctest).
# Here, to see the steps and what the build lacks:  bash scripts/gpu-check.sh --dry-run --build BUILD
set -u
BUILD=build BUDGET=450 DRY=0 ONLY=
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --only) ONLY=,$2,; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check.sh: unknown argument $1 (--build DIR, --budget S, --only STEP,..., --dry-run)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD%/}
export PATH=$PATH:/usr/local/cuda/bin
OUTD=${OUT:-/tmp/devout}
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
if ((DRY)); then
  OUTD=$TMPD/out
  mkdir -p "$OUTD"
else
  mkdir -p "$OUTD"
  exec > >(tee "$OUTD/log.txt") 2>&1
fi
t0=$SECONDS
SKIP=0
step() {  # KEY title: a section; --only skips those not named
  local key=$1; shift
  SKIP=0
  [[ -n $ONLY && $ONLY != *,$key,* ]] && SKIP=1
  echo; echo "=== [$((SECONDS - t0)) s] $key: $*$( ((SKIP)) && echo " (skipped: --only)")"
  return $SKIP
}
have() { ((SKIP)) && return 1; [[ -x $1 ]] || { echo "(missing: $1; build its target before packing)"; return 1; }; }
# x CAP NAME CMD...: runs CMD with a timeout of at most CAP seconds and what is left of
# the budget, its whole output into $OUTD/NAME.txt; prints the output's last lines
# (ICLCERT_TAIL, default 25). --dry-run prints the command instead.
x() {
  local cap=$1 name=$2; shift 2
  ((SKIP)) && return 0
  local left=$((BUDGET - (SECONDS - t0)))
  ((left < cap)) && cap=$left
  if ((DRY)); then printf '  [%s, at most %d s] %s\n' "$name" "$cap" "$*" | cut -c1-250; return 0; fi
  if ((cap < 15)); then echo "[$name] skipped: the budget (${BUDGET} s) is spent"; return 0; fi
  timeout -k 5 "$cap" "$@" >"$OUTD/$name.txt" 2>&1
  local rc=$?
  tail -n "${ICLCERT_TAIL:-25}" "$OUTD/$name.txt" | sed "s/^/[$name] /"
  ((rc == 124 || rc == 137)) && echo "[$name] TIMED OUT after $cap s"
  ((rc != 0)) && echo "[$name] exit status $rc"
  return 0
}
I=$BUILD/iclcert
B=1000000
M8=$TMPD/m8.json  # d = 16, C = 4, N = 64 with 8 reduced softmax layers: the issue's model
{
  printf '{ "format": 1, "kernel": "softmax", "probe_label_init": "zero", "probe_is_key": false,\n  "layers": [\n'
  for k in 1 2 3 4 5 6 7 8; do
    printf '    { "beta": "4/5", "gamma": "3/2", "alpha": "1/2", "alpha_label": "1/2" }%s\n' "$([[ $k == 8 ]] || echo ,)"
  done
  printf '  ] }\n'
} >"$M8"

step env "budget $BUDGET s, build $BUILD" && ((!DRY)) && {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | head -3
  nvcc --version 2>&1 | tail -1
  "${ICLCERT_PYTHON:-python3}" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tail -1
  command -v nsys compute-sanitizer cuobjdump
  nproc
  date -u
}

step tests "gpu_batch_cuda"
have "$BUILD/tests/gpu/gpu_batch_cuda" && ICLCERT_TAIL=12 x 100 gpu_batch_cuda "$BUILD/tests/gpu/gpu_batch_cuda"

step cli "batch --device cuda, ICLCERT_CUDA_TIMING (sampling / kernel and download)"
cli() {  # name, prompts per block (auto or G), then batch's arguments after the common ones
  local name=$1 team=$2; shift 2
  local e=(ICLCERT_CUDA_TIMING=1)
  [[ $team != auto ]] && e+=(ICLCERT_CUDA_TEAM=$team)
  ICLCERT_TAIL=6 x 60 "$name" env "${e[@]}" "$I" batch --model "$M8" --sample 16,4,64 --device cuda --no-progress "$@"
}
if have "$I"; then
  cli cli_f32 auto --count $B --final-only --arith float32
  cli cli_f64 auto --count $B --final-only --arith float64
  cli cli_f32_team1 1 --count $B --final-only --arith float32
  cli cli_f32_team2 2 --count $B --final-only --arith float32
  cli cli_f32_per_layer auto --count $B --arith float32
  cli cli_f32_1e7 auto --count 10000000 --final-only --arith float32
fi

step certify "10^6 on the device (timed), then 10^4 against the CPU tier"
cat >"$TMPD/cert_compare.py" <<'PY'
# The device's interval tier against the CPU's on the same prompts (batch --certify --json).
import json, sys
g = json.load(open(sys.argv[1]))["certification"]["per_prompt"]
c = json.load(open(sys.argv[2]))["certification"]["per_prompt"]
assert len(g) == len(c), (len(g), len(c))
gc = cc = both = wrong_pred = disjoint = no_margin = other_class = 0
for i, (a, b) in enumerate(zip(g, c)):
    ga, ca = a["status"] == "certified", b["status"] == "certified"
    gc += ga; cc += ca
    if ga and ca:
        both += 1
        if a["prediction"] != b["prediction"]:
            wrong_pred += 1
            print("prediction differs at", i, a, b)
    ma, mb = a.get("margin"), b.get("margin")
    if a["prediction"] != b["prediction"]:  # undecided on a side: margins of other classes
        other_class += 1
        continue
    if not ma or not mb:
        no_margin += 1
        continue
    if float(ma[0]) > float(mb[1]) or float(mb[0]) > float(ma[1]):
        disjoint += 1
        print("enclosures disjoint at", i, ma, mb)
wrong = wrong_pred + disjoint
print(f"certify compare: {len(g)} prompts; certified on the device {gc}, on the CPU {cc}, by both {both}; "
      f"certified predictions differing {wrong_pred}; enclosures disjoint {disjoint} (not compared: "
      f"{other_class} predicting other classes, {no_margin} without a margin); "
      f"wrong {wrong}: {'PASS' if wrong == 0 and len(g) > 0 else 'FAIL'}")
PY
if have "$I"; then
  # No --chunk: the device's chunk comes from its memory (certify_chunk_cuda), as for a user.
  certify=("$I" batch --model "$M8" --sample 16,4,64 --certify --no-escalate --no-progress)
  ICLCERT_TAIL=8 x 120 certify_1e6 "${certify[@]}" --count $B --device cuda
  ICLCERT_TAIL=8 x 40 certify_1e4_cuda "${certify[@]}" --count 10000 --device cuda --json "$TMPD/cert_cuda.json"
  ICLCERT_TAIL=8 x 90 certify_1e4_cpu "${certify[@]}" --count 10000 --device cpu --json "$TMPD/cert_cpu.json"
  x 60 certify_compare python3 "$TMPD/cert_compare.py" "$TMPD/cert_cuda.json" "$TMPD/cert_cpu.json"
fi

step compare "compare on the device (pipelined, two models) against the CPU: the same tables"
cat >"$TMPD/compare_check.py" <<'PY'
# compare --json from the device and from the CPU: the kernel is bit-identical to the CPU
# backend, so every per-depth statistic and the certified ones must be equal.
import json, sys
g, c = (json.load(open(f)) for f in sys.argv[1:3])
keys = ("prompts", "agreement", "undefined_predictions", "layers", "certified_prompts", "certified")
diff = [k for k in keys if g.get(k) != c.get(k)]
print(f"compare check: {g['prompts']} prompts, device {g['device']} vs {c['device']}; "
      f"{g['seconds']:.2f} s vs {c['seconds']:.2f} s; differing: {diff or 'none'}: {'FAIL' if diff else 'PASS'}")
PY
if have "$I"; then
  M8B=$TMPD/m8b.json
  sed '0,/"beta": "4\/5"/s//"beta": "3\/5"/' "$M8" >"$M8B"  # layer 1's beta differs
  x 40 compare_sample "$I" sample --sample 16,4,64 --count 4000 --seed 7 --out "$TMPD/p4k.json"
  cmp=("$I" compare --model "$M8" --against "$M8B" --prompt "$TMPD/p4k.json" --validate 3 --no-baselines --no-progress)
  ICLCERT_TAIL=6 x 60 compare_cuda "${cmp[@]}" --device cuda --chunk 1000 --json "$TMPD/cmp_cuda.json"
  ICLCERT_TAIL=6 x 90 compare_cpu "${cmp[@]}" --device cpu --chunk 1000 --json "$TMPD/cmp_cpu.json"
  x 30 compare_check python3 "$TMPD/compare_check.py" "$TMPD/cmp_cuda.json" "$TMPD/cmp_cpu.json"
fi

step bench "gpu_throughput against eager PyTorch (reduced and dense H = 2, float32 and float64)"
have "$BUILD/bench/gpu_throughput" && ICLCERT_TAIL=45 x 150 gpu_throughput "$BUILD/bench/gpu_throughput" --B $B

step peers "eager, SDPA, torch.compile (B = 10^6, reduced, d 16, C 4, N 64, L 8)"
cat >"$TMPD/gpu_peers.py" <<'PY'
# The stronger peers of issue 28 on bench/pytorch_gpu.py's harness (its device
# sampling, chunks and end-to-end timing), with its recursion swapped for each.
import json, sys, time
sys.path.insert(0, "bench")
import torch
import torch.nn.functional as F
import pytorch_gpu as P

class A: pass
a = A()
a.B, a.chunk = int(sys.argv[1]), int(sys.argv[2])
a.d, a.C, a.N, a.L, a.seed = 16, 4, 64, 8, 1
a.beta, a.gamma, a.alpha, a.alpha_label = 0.8, 1.5, 0.5, 0.5
dev = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cuda")  # cpu: a smoke test
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_grad_enabled(False)
eager = P.recursion

def sdpa(Z, layers, N):
    for kind, q, v in layers:
        K = Z[:, :N, :]
        Z = Z + F.scaled_dot_product_attention(Z * q, K, K, scale=1.0) * v
    return Z

def math_backend(fn):
    from torch.nn.attention import sdpa_kernel, SDPBackend
    def run(*args):
        with sdpa_kernel(SDPBackend.MATH):
            return fn(*args)
    return run

def predictions(fn, layers, dtype, n=a.chunk):  # the same prompts for every peer
    P.recursion = fn
    gen = torch.Generator(device=dev)
    gen.manual_seed(7)
    return P.run_chunk(n, a, layers, dtype, dev, gen).cpu()

rows = []
for name in ["float32", "float64"]:
    dtype = getattr(torch, name)
    layers = P.reduced_layers(a, dtype, dev)
    ref = predictions(eager, layers, dtype)
    peers = [("eager", eager), ("sdpa", sdpa), ("sdpa-math", math_backend(sdpa))]
    try:
        peers.append(("compile", torch.compile(eager, dynamic=False)))
    except Exception as e:
        print("torch.compile unavailable:", e)
    for peer, fn in peers:
        try:
            start = time.perf_counter()
            same = int((predictions(fn, layers, dtype) == ref).sum())  # compiles: the timed chunk's shape
            first_s = time.perf_counter() - start
            seconds, _ = P.timed_run(a, layers, dtype, dev)
            row = {"peer": peer, "dtype": name, "prompts_per_s": round(a.B / seconds), "seconds": round(seconds, 3),
                   "first_calls_s": round(first_s, 2), "equal_to_eager": same}
        except Exception as e:
            row = {"peer": peer, "dtype": name, "error": str(e).splitlines()[0][:200]}
        print(json.dumps(row), flush=True)
        rows.append(row)
print("device", P.device_name(dev), "torch", torch.__version__)
print("| peer | dtype | prompts/s | first calls (compile) s | predictions equal to eager (one chunk) |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r['peer']} | {r['dtype']} | {r.get('prompts_per_s', r.get('error'))} | {r.get('first_calls_s', '')} | "
          f"{r.get('equal_to_eager', '')} |")
for name in ["float32", "float64"]:
    ok = [r for r in rows if r["dtype"] == name and "prompts_per_s" in r]
    if ok:
        best = max(ok, key=lambda r: r["prompts_per_s"])
        print(f"fastest peer, {name}: {best['peer']} at {best['prompts_per_s']} prompts/s")
PY
ICLCERT_TAIL=20 x 170 peers "${ICLCERT_PYTHON:-python3}" "$TMPD/gpu_peers.py" $B 250000

step memcheck "compute-sanitizer on two device tests and two CLI runs"
if ((DRY || SKIP)) || command -v compute-sanitizer >/dev/null; then
  have "$BUILD/tests/gpu/gpu_batch_cuda" && ICLCERT_TAIL=4 x 120 memcheck_test compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 \
    "$BUILD/tests/gpu/gpu_batch_cuda" --gtest_filter='BatchCuda.ColumnKernelEqualsTheCpuBackend:BatchCuda.IntervalTierAgreesWithTheCpus'
  if have "$I"; then
    ICLCERT_TAIL=3 x 60 memcheck_cli compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$I" batch --sample 8,3,30 --count 3000 --device cuda --no-progress
    ICLCERT_TAIL=3 x 60 memcheck_cli_certify compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$I" batch --sample 8,3,30 --count 2000 \
      --certify --no-escalate --device cuda --no-progress
  fi
else
  echo "(no compute-sanitizer on PATH)"
fi

step split "time per kernel and per copy (nsys)"
if ((DRY || SKIP)) || command -v nsys >/dev/null; then
  if have "$I"; then
    for run in "f32 --count $B --final-only --arith float32" "cert --count 100000 --certify --no-escalate --chunk 65536"; do
      set -- $run
      name=$1; shift
      x 60 "nsys_$name" nsys profile --trace=cuda --sample=none --cpuctx-switch=none -o "$TMPD/nsys_$name" --force-overwrite true \
        "$I" batch --model "$M8" --sample 16,4,64 --device cuda --no-progress "$@"
      ICLCERT_TAIL=30 x 40 "nsys_${name}_stats" nsys stats --report cuda_gpu_kern_sum,cuda_gpu_mem_time_sum --format table \
        "$TMPD/nsys_$name.nsys-rep"
    done
  fi
else
  echo "(no nsys: the split is the cli step's 'iclcert cuda timing' lines: device sampling, kernel and download)"
fi

step static "registers, spills, occupancy and SASS of the kernels (cuobjdump)"
lib=$BUILD/gpu/libiclcert_gpu_kernel.a  # a packed build has only the executables: iclcert links it
[[ -f $lib ]] || lib=$I
ICLCERT_TAIL=40 x 40 cuda_static python3 tests/gpu/cuda_static_test.py --lib "$lib"

step ctest "ctest -R gpu (the others; gpu_batch_cuda ran above)"
ICLCERT_TAIL=30 x 150 ctest ctest --test-dir "$BUILD" -R gpu -E '^gpu_batch_cuda$' -j "$(nproc)" --timeout 140 --output-on-failure

ONLY= step done "in $((SECONDS - t0)) s; outputs in $OUTD"
((DRY)) || ls "$OUTD"
