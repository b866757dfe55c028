#!/usr/bin/env bash
# Issue 14: `mpiexec -n R iclcert ...` writes the same files as one process.
# Runs a small A2 sweep (with counterexample files), a batch (with validation), a
# compare (with certified prompts) and a C1 check without mpiexec, then under
# mpiexec -n 2 and -n 4 --oversubscribe, and compares every output file byte for
# byte once its timing fields are removed (mpi_strip_timings.py). The batch and
# compare runs use small chunks so that each rank gets several. Also: bad input
# under mpiexec -n 2 exits 2 on every rank and leaves no output file.
# Usage: mpi_identical_test.sh ICLCERT MPIEXEC SOURCE_DIR
set -euo pipefail
bin=$1
mpiexec=$2
src=$3
py=/usr/bin/python3
[[ -x $py ]] || py=python3
strip="$src/tests/cli/mpi_strip_timings.py"
# Open MPI refuses to start as root without these (CI containers run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# No network interfaces needed: shared memory between processes of one machine.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

sweep=(sweep --claim A2 --model "$src/examples/models/reduced4.json" --grid beta=0:4:4 --grid gamma=0:4:4
       --sample 2,3,6 --prompts 4 --threads 1 --no-progress)

"$bin" sample -d 3 -C 2 -N 8 --count 40 --seed 5 --out "$dir/prompts.json"
batch=(batch --sample 2,3,6 --prompts 200 --seed 3 --model "$src/examples/models/reduced4.json" --arith float32
       --device cpu --chunk 16 --validate 24 --threads 1 --no-progress)
compare=(compare --model "$src/examples/models/equivariant.json" --against "$src/examples/models/perturbed-label.json"
         --prompt-file "$dir/prompts.json" --arith float64 --device cpu --chunk 4 --validate 6 --threads 1 --no-progress)
c1=(check --claim C1 --model "$src/examples/models/reduced4.json" --sample 2,3,6 --samples 200 --seed 7)

run() {  # run NAME LAUNCHER...: every command, in $dir/NAME/ (the files name each other by relative paths)
  local name=$1
  shift
  mkdir -p "$dir/$name/cex"
  cd "$dir/$name"
  "$@" "$bin" "${sweep[@]}" --csv map.csv --json map.json --counterexamples cex > stdout
  "$@" "$bin" "${batch[@]}" --json batch.json --csv batch.csv > /dev/null
  "$@" "$bin" "${compare[@]}" --json compare.json --csv compare.csv > /dev/null
  "$@" "$bin" "${c1[@]}" --json c1.json > /dev/null 2>&1 || [[ $? -le 3 ]]  # a verdict: 0, 1 or 3
  cd - > /dev/null
}

run one
run n2 "$mpiexec" -n 2
run n4 "$mpiexec" -n 4 --oversubscribe

# The reference must exercise every part of the files: proved and refuted cells, counterexamples.
"$py" - "$dir/one/map.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
assert t["cells"] == 16 and t["proved"] > 0 and t["refuted"] > 0, t
PY
ls "$dir/one/cex" | grep -q json || { echo "no counterexample file in the reference run"; exit 1; }
"$py" - "$dir/one" <<'PY'
import json, sys
d = sys.argv[1]
b = json.load(open(d + "/batch.json"))
assert b["prompts"] == 200 and b["validation"]["prompts"] == 24 and b["layers"], b.keys()
c = json.load(open(d + "/compare.json"))
assert c["prompts"] == 40 and len(c["certified"]) == 6, c.keys()
v = json.load(open(d + "/c1.json"))
assert "200" in json.dumps(v), "C1 verdict without its 200 samples"
PY

status=0
for name in n2 n4; do
  if [[ "$(ls "$dir/one/cex")" != "$(ls "$dir/$name/cex")" ]]; then
    echo "FAIL $name: counterexample files differ: $(ls "$dir/$name/cex" | tr '\n' ' ')"
    status=1
  fi
  for f in map.csv map.json batch.json batch.csv compare.json compare.csv c1.json $(cd "$dir/one" && ls cex/*); do
    if ! cmp -s <("$py" "$strip" "$dir/one/$f") <("$py" "$strip" "$dir/$name/$f"); then
      echo "FAIL $name: $f differs from the single-process run:"
      diff <("$py" "$strip" "$dir/one/$f") <("$py" "$strip" "$dir/$name/$f") | head -20
      status=1
    else
      echo "ok   $name: $f"
    fi
  done
done
grep -q "on 2 processes (MPI)" "$dir/n2/stdout" || { echo "FAIL: the -n 2 run did not run on 2 processes"; status=1; }

# Bad input under mpiexec: exit 2 on every rank, one message, no output file.
set +e
"$mpiexec" -n 2 "$bin" sweep --claim A2 --grid beta=0:4:0 --sample 2,3,6 --json "$dir/bad.json" 2> "$dir/bad.err"
rc=$?
set -e
if [[ $rc -ne 2 || -e "$dir/bad.json" ]]; then
  echo "FAIL: bad input under mpiexec -n 2: exit $rc (expected 2), output file $([[ -e $dir/bad.json ]] && echo written || echo absent)"
  status=1
fi
if [[ $(grep -c 'iclcert: --grid' "$dir/bad.err") -ne 1 ]]; then
  echo "FAIL: bad input under mpiexec -n 2: expected one message from rank 0, got:"
  cat "$dir/bad.err"
  status=1
fi
exit $status
