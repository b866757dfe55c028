#!/usr/bin/env bash
# The README's short examples, run as pasted (issue 27).
# Usage: readme_examples_test.sh ICLCERT_BINARY SOURCE_DIR
#
# Runs every ```sh block of README.md that follows a line `<!-- readme-test -->`,
# in order, one command at a time, in a fresh folder that holds `build/iclcert`
# (the binary under test) and `examples/` (the clone's), so that files one example
# writes are there for the next. A command (lines joined at a trailing backslash)
# must exit 0, or N where its comment says "exit status N". Commands of a
# component the binary was built without (`prove` without Z3, `fuzz` without
# RapidCheck: not in `iclcert --help`) are skipped and say so.
set -uo pipefail
binary=$1
source_dir=$2
readme=$source_dir/README.md

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/build"
ln -s "$(realpath "$binary")" "$work/build/iclcert"
ln -s "$source_dir/examples" "$work/examples"
commands_available=$("$binary" --help)

# The marked blocks' commands, one per line (continuations joined).
extract() {
  awk '
    /^<!-- readme-test -->$/ { marked = 1; next }
    marked && /^```sh$/ { inside = 1; marked = 0; next }
    inside && /^```$/ { inside = 0; next }
    inside {
      line = $0
      if (line ~ /\\$/) { pending = pending substr(line, 1, length(line) - 1) " "; next }
      print pending line; pending = ""
      next
    }
    { marked = 0 }
  ' "$readme"
}

failures=0
count=0
while IFS= read -r command; do
  [[ -z ${command// /} ]] && continue
  expected=0
  [[ $command =~ \#.*exit\ status\ ([0-9]+) ]] && expected=${BASH_REMATCH[1]}
  if [[ $command =~ build/iclcert\ ([a-z]+) ]] && ! grep -q "^  ${BASH_REMATCH[1]} " <<<"$commands_available"; then
    echo "skipped (no ${BASH_REMATCH[1]} in this build): $command"
    continue
  fi
  count=$((count + 1))
  start=$SECONDS
  (cd "$work" && bash -c "$command") >"$work/.out" 2>&1
  status=$?
  if ((status == expected)); then
    echo "ok (exit $status, $((SECONDS - start)) s): $command"
  else
    echo "FAILED (exit $status, expected $expected): $command"
    tail -n 20 "$work/.out"
    failures=$((failures + 1))
  fi
done < <(extract)

if ((count < 15)); then
  echo "only $count commands found in the marked blocks of $readme: the markers are lost"
  exit 1
fi
echo "$count commands, $failures failed"
((failures == 0))
