#!/usr/bin/env bash
# `pip install .` and `pip install -e .` of the source tree in a fresh venv, as a
# user installs the package (pyproject.toml, docs/python.md "Installing"): the
# extension module built by scikit-build-core in a temporary folder, then
# `import iclcert` outside the tree, its __version__ (that of `iclcert --version`),
# a real call, fuzz through the executable installed with it, and the notebook. The venv sees the system's packages (NumPy and pandas from
# Debian), so nothing large is downloaded; only scikit-build-core, when missing.
# Exit 77 (skipped) without the venv module or without scikit-build-core and PyPI.
#   test_pip_install.sh SOURCE_DIR PYTHON [ICLCERT_COMMAND]
set -euo pipefail
src=$(cd "$1" && pwd)
python=$2
cli=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iclcert-pip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset PYTHONPATH  # the installed package, not BUILD/python's
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

if ! "$python" -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1; then
  echo "skipped: $python -m venv failed (Debian: apt-get install python3-venv):"
  tail -3 "$tmp/venv.log"
  exit 77
fi
py=$tmp/venv/bin/python
if ! "$py" -c "import scikit_build_core" 2>/dev/null; then
  if ! "$py" -m pip install -q --timeout 20 --retries 1 "scikit-build-core>=0.10" >"$tmp/pip.log" 2>&1; then
    echo "skipped: scikit-build-core is not installed and could not be installed from PyPI:"
    tail -3 "$tmp/pip.log"
    exit 77
  fi
fi

# Only the module and what it links (pyproject.toml's cmake.define), in $tmp/build;
# --no-index: the dependencies (numpy, pandas) must already be there, not downloaded.
# -O0: this checks the packaging, not the speed, and -O3 takes about 3 times the CPU.
install() {
  local start=$SECONDS
  if ! "$py" -m pip install --no-build-isolation --no-index --config-settings=build-dir="$tmp/build" \
      "--config-settings=cmake.define.CMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG" "$@" >"$tmp/install.log" 2>&1; then
    tail -40 "$tmp/install.log"
    echo "FAIL: pip install $*"
    exit 1
  fi
  echo "pip install $* (build in $tmp/build): $((SECONDS - start)) s"
}

# A real call on the embedded default: the same trace as the command's.
check_import() {
  local expect_file=$1
  (cd "$tmp" && "$py" - "$expect_file" "$cli") <<'EOF'
import json, os, subprocess, sys, tempfile
import iclcert

where = os.path.realpath(iclcert.__file__)
print(f"iclcert {iclcert.__version__} from {where}")
assert where.startswith(os.path.realpath(sys.argv[1])), f"imported {where}, expected under {sys.argv[1]}"
assert iclcert.__version__.count(".") == 2, iclcert.__version__
r = iclcert.run(arith="interval:128")
assert r.enclosures and len(r.metrics) == len(r.raw["layers"]) >= 2, r.metrics
fisher = r.metrics[["fisher_lo", "fisher_hi"]].to_numpy()
assert (fisher[:, 0] <= fisher[:, 1]).all() and fisher[-1, 0] > 0, fisher
cli = sys.argv[2]
if cli:
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == f"iclcert {iclcert.__version__}", (version, iclcert.__version__)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "trace.json")
        subprocess.run([cli, "run", "--arith", "interval:128", "--json", out], capture_output=True, check=True)
        with open(out) as f:
            expected = json.load(f)
    assert r.raw["layers"] == expected["layers"], "run: the trace differs from the command's"
print("ok:", len(r.metrics), "depths, final Fisher ratio in", fisher[-1])
# fuzz runs the iclcert executable installed with the package, not one on PATH.
exe = iclcert._fuzz_command()
assert os.path.dirname(exe) == os.path.join(os.path.dirname(iclcert._core.__file__), "bin"), exe
f = iclcert.fuzz("E2", cases=3, seed=1)
assert f.status == "held", f.log
print("ok: fuzz by", exe)
EOF
}

# The notebook's code cells, in order, in examples/ (as test_notebook.py without Jupyter).
run_notebook() {
  (cd "$src/examples" && "$py" - walkthrough.ipynb) <<'EOF'
import json, sys, time
start = time.monotonic()
scope = {"__name__": "__main__"}
for cell in json.load(open(sys.argv[1]))["cells"]:
    if cell["cell_type"] == "code":
        exec(compile("".join(cell["source"]), sys.argv[1], "exec"), scope)
print(f"ok: the notebook ran in {time.monotonic() - start:.1f} s")
EOF
}

install "$src"
site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['platlib'])")
check_import "$site/iclcert"
run_notebook

# Editable: the same build folder, so only the install step runs again; the .py
# files are then the source tree's own.
install -e "$src"
check_import "$src/python/iclcert"
echo "pip install . and pip install -e . work"
