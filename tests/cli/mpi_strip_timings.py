"""Prints an iclcert output file without its timing fields, for byte comparisons
of runs that differ only in how the work was split (tests/cli/mpi_identical_test.sh).

JSON: every "seconds" / "*_seconds" key, and batch's "peak_memory_kib", removed,
at any depth, then dumped with sorted keys. CSV: the "seconds" column removed. Anything else: printed as it is.
Uses the standard library only (no jq)."""
import csv
import json
import sys


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items()
                if not (k == "seconds" or k.endswith("_seconds") or k == "peak_memory_kib")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


path = sys.argv[1]
with open(path, newline="") as f:
    text = f.read()
if path.endswith(".json"):
    # The numbers compare as text: parse_float keeps each one as it was written.
    print(json.dumps(strip(json.loads(text, parse_float=str)), sort_keys=True, indent=1))
elif path.endswith(".csv"):
    rows = list(csv.reader(text.splitlines()))
    drop = [i for i, name in enumerate(rows[0]) if name == "seconds" or name.endswith("_seconds")]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    for row in rows:
        writer.writerow([c for i, c in enumerate(row) if i not in drop])
else:
    sys.stdout.write(text)
