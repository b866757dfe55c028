#!/usr/bin/env bash
# examples/train/ end to end at a tiny size, so that the trainer, the exporter and
# the file formats cannot drift apart: check_export.py checks the exporter against
# torch.nn.MultiheadAttention; train.py trains with and without the symmetry, then
#  - extract: the constrained run has E3 residual < 1e-6 (exit 0 under
#    --max-residual), the free run does not (exit 1);
#  - compare the dense export against the full-form export of the same weights
#    (agreement >= 98%), and iclcert's float32 run against PyTorch's exported
#    predictions (agreement >= 98%, checked in the JSON).
# Exits 77 (ctest: skipped) when no python3 with PyTorch is installed
# (scripts/install-deps.sh --test installs Debian's python3-torch).
set -euo pipefail
bin=$1
src=$2
py=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import torch" 2>/dev/null; then
    py=$candidate
    break
  fi
done
if [[ -z "$py" ]]; then
  echo "train_smoke_test: no python3 with PyTorch (scripts/install-deps.sh --test): skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$py" "$src/examples/train/check_export.py"
common=(--d 3 --C 3 --N 8 --layers 2 --steps 60 --batch 64 --heldout 200 --threads 1 --out "$dir")
"$py" "$src/examples/train/train.py" "${common[@]}"
"$py" "$src/examples/train/train.py" "${common[@]}" --symmetry none

"$bin" extract --model "$dir/trained_equivariant_model.json" --prompt-file "$dir/heldout_prompts.json" \
  --out "$dir/extracted.json" --max-residual 1e-6
status=0
"$bin" extract --model "$dir/trained_free_model.json" --d 3 --max-residual 0.01 || status=$?
if [[ $status -ne 1 ]]; then
  echo "train_smoke_test: the free run's E3 residual should exceed 0.01 (exit 1), got exit $status" >&2
  exit 1
fi
"$bin" compare --model "$dir/trained_equivariant_model.json" --against "$dir/trained_equivariant_full_model.json" \
  --prompt-file "$dir/heldout_prompts.json" --predictions "$dir/trained_equivariant_predictions.json" \
  --min-agreement 0.98 --min-prediction-agreement 0.98 --no-progress --json "$dir/compare.json"
"$py" - "$dir/compare.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
a = float(c["exported_predictions"]["agreement_a"])
assert a >= 0.98, f"iclcert's float32 run agrees with PyTorch's predictions on only {a}"
print(f"train_smoke_test: agreement with PyTorch {a}, dense vs full {c['agreement']}")
PY
