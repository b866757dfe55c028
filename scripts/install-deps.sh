#!/usr/bin/env bash
# Installs, from Debian's archive, whatever iclcert needs that this machine lacks.
# Safe to re-run: packages already present are skipped, and apt is not touched at all
# when nothing is missing (so a warm machine pays nothing).
#   scripts/install-deps.sh          what `iclcert` and its Python package (pybind11 bindings,
#                                    NumPy, pandas, matplotlib for Debian's python3) need
#   scripts/install-deps.sh --test   also PyTorch (Debian's python3-torch, CPU), which the
#                                    test of examples/train/train.py
#                                    needs; also clang 14 with its sanitizer and libFuzzer runtimes
#                                    (and llvm-symbolizer), for the sanitizer and fuzz stage;
#                                    Open MPI, for the tests that run commands under mpiexec; and
#                                    python3-venv and python3-pip, for the test of `pip install .`;
#                                    Jupyter's nbconvert and kernel, and tqdm, for the test that
#                                    executes examples/walkthrough.ipynb headless
#   scripts/install-deps.sh --bench  also the batch benchmark's PyTorch peer
#                                    (bench/pytorch_batch.py): python3-torch, numpy and
#                                    OpenBLAS, without which they run on the reference
#                                    BLAS, about 30 times slower (docs/toolchain.md);
#                                    and its strongest peers (bench/peers.py) in the venv
#                                    .venv-bench: torch 2.x and jax[cpu] from PyPI
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost-dev libgmp-dev libmpfr-dev libmpfi-dev
  libflint-arb-dev libflint-dev libeigen3-dev
  libz3-dev z3
  nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev librapidcheck-dev libbenchmark-dev
  python3 python3-dev pybind11-dev python3-numpy python3-pandas python3-matplotlib
)
case "${1:-}" in
  "") ;;
  --test) packages+=(python3-torch cvc5 clang libclang-rt-14-dev libfuzzer-14-dev llvm-14
                    libopenmpi-dev openmpi-bin python3-venv python3-pip
                    jupyter-nbconvert python3-nbclient python3-ipykernel python3-tqdm) ;;
  --bench) packages+=(python3 python3-torch python3-numpy libopenblas0-pthread python3-venv python3-pip) ;;
  *)
    echo "usage: scripts/install-deps.sh [--test | --bench]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# --bench: the batch benchmark's strongest peers (bench/peers.py) from PyPI into a venv,
# .venv-bench (git-ignored): torch 2.x (torch.compile, SDPA; run on the CPU) and jax[cpu].
bench_venv() {
  local venv="${ICLCERT_BENCH_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-bench}"
  echo "install-deps: installing torch 2.x and jax[cpu] from PyPI into $venv"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  # PyPI's torch: its Linux build brings CUDA libraries (about 5 GB in all) and runs on the CPU.
  "$venv/bin/pip" install -q "torch>=2"
  "$venv/bin/pip" install -q numpy "jax[cpu]"
  echo "install-deps: bench peers in $venv (bench/batch_throughput uses it; ICLCERT_PYTHON overrides)"
}

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  if [[ ${1:-} == --bench ]]; then bench_venv; fi
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
if [[ ${1:-} == --bench ]]; then bench_venv; fi
