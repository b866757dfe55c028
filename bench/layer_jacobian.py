#!/usr/bin/env python3
"""How much a reduced layer amplifies perturbations of the state (theory/affine_forms.md,
"Why order 2 or 3"): for the default prompt and reduced4's layers at given beta and gamma,
the largest row sum of |J_t| per layer, of the product of the |J_t| (what one interval
remainder per state entry pays at best), and of |J_t ... J_1| (what one symbol per
remainder source could reach at best). Float64 autograd; needs torch.

    python3 bench/layer_jacobian.py [BETA GAMMA] [--layers 4]
"""
import argparse
import json
import pathlib
from fractions import Fraction

import torch

torch.set_default_dtype(torch.float64)
ROOT = pathlib.Path(__file__).resolve().parent.parent


def default_state():
    p = json.loads((ROOT / "examples" / "default_prompt.json").read_text())
    X = torch.tensor([[float(Fraction(v)) for v in row] for row in p["X"]])
    N, C = p["N"], p["C"]
    Y = torch.zeros(N, C)
    Y[range(N), p["labels"]] = 1
    probe = torch.tensor([float(Fraction(v)) for v in p["probe"]])
    Z = torch.cat([torch.cat([X, Y], 1), torch.cat([probe, torch.zeros(C)])[None]], 0)  # probe label 0
    return Z, X.shape[1], N


def layer(Z, d, N, beta, gamma, alpha=0.5, alpha_label=0.5):
    """numerics/layer.hpp, apply_reduced: keys and values are the training tokens."""
    x, y, keys = Z[:, :d], Z[:, d:], Z[:N]
    A = torch.softmax(beta * x @ keys[:, :d].T + gamma * y @ keys[:, d:].T, 1)
    out = A @ keys
    return torch.cat([x + alpha * out[:, :d], y + alpha_label * out[:, d:]], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("beta", nargs="?", type=float, default=0.53)
    ap.add_argument("gamma", nargs="?", type=float, default=2.1)
    ap.add_argument("--layers", type=int, default=4)
    a = ap.parse_args()
    Z, d, N = default_state()
    n = Z.numel()
    signed, absolute = torch.eye(n), torch.eye(n)
    print(f"beta {a.beta}, gamma {a.gamma}: largest row sums (the infinity norm)")
    print("layer | |J_t| | |J_t|...|J_1| | |J_t ... J_1|")
    for t in range(a.layers):
        J = torch.autograd.functional.jacobian(lambda z: layer(z.reshape(Z.shape), d, N, a.beta, a.gamma).reshape(-1),
                                               Z.reshape(-1))
        signed, absolute = J @ signed, J.abs() @ absolute
        row = lambda M: M.abs().sum(1).max().item()
        print(f"{t + 1} | {row(J):.3g} | {row(absolute):.3g} | {row(signed):.3g}")
        Z = layer(Z, d, N, a.beta, a.gamma)


if __name__ == "__main__":
    main()
