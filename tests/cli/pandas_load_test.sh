#!/usr/bin/env bash
# docs/formats.md, "Reading with pandas": the three-line load works as written on
# files iclcert writes now (compare, batch, run), and --csv reads back with the
# JSON's values. Exits 77 (ctest: skipped) without a python3 that has pandas
# (Debian's python3-pandas).
set -euo pipefail
bin=$1
src=$2
py=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import pandas" 2>/dev/null; then
    py=$candidate
    break
  fi
done
if [[ -z "$py" ]]; then
  echo "pandas_load_test: no python3 with pandas: skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" sample -d 3 -C 3 -N 8 --count 12 --seed 2 --out "$dir/p.json" >/dev/null
"$bin" compare --model "$src/examples/default_model.json" --against "$src/examples/default_model.json" \
  --prompt-file "$dir/p.json" --arith float64 --device cpu --threads 1 --no-progress \
  --json "$dir/c.json" --csv "$dir/c.csv" >/dev/null
"$bin" batch --sample 3,3,8 --prompts 20 --arith float64 --device cpu --threads 1 --validate 2 --no-progress \
  --json "$dir/b.json" --csv "$dir/b.csv" >/dev/null
"$bin" run --arith interval:128 --json "$dir/t.json" --csv "$dir/t.csv" >/dev/null
cd "$dir"
"$py" - <<'PY'
import json, pandas as pd
# The three lines of docs/formats.md.
c = json.load(open("c.json"))
mean = pd.DataFrame(c["layers"])["accuracy_a"].mean()
table = pd.read_csv("c.csv")
assert 0 <= mean <= 1, mean
assert table["accuracy_a"].dtype == "float64"
# pandas' default parser may miss the last bit; round_trip reads the very doubles.
table = pd.read_csv("c.csv", float_precision="round_trip")
layers = pd.DataFrame(c["layers"])
for col in ["accuracy_a", "accuracy_b", "agreement", "max_logit_deviation", "mean_logit_deviation"]:
    assert layers[col].dtype == "float64", (col, layers[col].dtype)
    assert (table[col] == layers[col]).all(), col  # the CSV holds the JSON's very doubles
    assert table[col].dtype == "float64", (col, table[col].dtype)
b = json.load(open("b.json"))
flat = pd.json_normalize(b["layers"])
assert flat["metrics.fisher.mean"].dtype == "float64", flat.dtypes
bt = pd.read_csv("b.csv", float_precision="round_trip")
assert (bt["mean_fisher"] == flat["metrics.fisher.mean"]).all()
assert (bt["accuracy"] == flat["accuracy"]).all()
v = pd.DataFrame(b["validation"]["layers"])
assert v["max_relative_error"].dtype == "float64" and v["stated_bound"].dtype == "float64"
t = json.load(open("t.json"))
m = pd.json_normalize(t["layers"])
assert m["metrics.probe_margin_float"].dtype == "float64"
assert m["metrics.probe_margin"].map(lambda e: isinstance(e, list)).all()  # enclosures stay exact
tt = pd.read_csv("t.csv", float_precision="round_trip")
assert (tt["probe_margin"] == m["metrics.probe_margin_float"]).all()
print(f"pandas_load_test: accuracy_a mean {mean:.4f}, {len(table)} compare rows, {len(bt)} batch rows")
PY
