#!/usr/bin/env bash
# Installs what the batch benchmark's PyTorch peer needs (bench/pytorch_batch.py):
# Debian's python3-torch and python3-numpy, and OpenBLAS so that they do not run on
# the reference BLAS (shared/TOOLCHAIN.md: about 30 times slower). Not needed to
# build or test iclcert; bench/batch_throughput prints a clear message without it.
set -euo pipefail

packages=(python3 python3-torch python3-numpy libopenblas0-pthread)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-bench-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-bench-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
