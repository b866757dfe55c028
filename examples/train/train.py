#!/usr/bin/env python3
"""Trains an attention-only softmax transformer on the in-context classification
task of theory/model.md section 1 and exports it for iclcert (issue 7).

The model is the one of theory/model.md section 3: tokens z = (x, y) in R^{d+C}, the probe
last with y_q = 0, L layers of H heads, each head a score matrix S and a value
matrix V, keys = the N training tokens, and every token updated at once:

    s_ji = z_j^T S z_i,   A = softmax_i(s_ji),   z_j <- z_j + sum_h sum_i A^h_ji V^h z_i.

The logits are the probe's label block after L layers, trained with cross-entropy
against the probe's true class (hard no-margin regime: nothing is rejected).

How the symmetry is enforced (--symmetry):
  constrained  the trainable parameters of each head are theta_S, theta_V in R^6
               and the matrices are M(theta) of theory/model.md section 3, so every layer is
               exactly S_d x S_C equivariant at every step of training.
  none         S and V are free (d+C) x (d+C) matrices: nothing ties them to the
               symmetry (the control run whose E3 residual `iclcert extract` shows).

Outputs in --out (NAME = --name):
  NAME_model.json        dense matrices, iclcert's model format (docs/formats.md)
  NAME_full_model.json   full form, the six scalars per map (constrained only)
  NAME_predictions.json  this model's float32 predictions and logits on the held-out batch
  NAME_training.json     settings, loss curve, time, held-out accuracy
  heldout_prompts.json   the held-out batch (seeded by --heldout-seed, so runs share it)

Inputs are drawn on a dyadic grid (multiples of 1/256) so that the held-out file
is short and every number in it is exact in float32: iclcert and PyTorch then run
on identical inputs.
"""
import argparse
import os
import time

import torch

from iclcert_export import full_model_dict, model_dict, number, write_json

GRID = 256.0  # inputs are multiples of 1/GRID


def sample_prompts(B, d, C, N, gen):
    """B prompts of theory/model.md section 1: W rows, points and probe ~ N(0, I), classes by
    argmax <w_c, x> (ties: smallest index, as torch.argmax on equal values may not
    guarantee, so ties are broken explicitly)."""
    W = torch.randn(B, C, d, generator=gen, dtype=torch.float64)
    X = torch.round(torch.randn(B, N + 1, d, generator=gen, dtype=torch.float64) * GRID) / GRID
    scores = torch.einsum("bcd,bnd->bnc", W, X)
    top = scores.max(dim=2, keepdim=True).values
    idx = torch.arange(C, dtype=torch.float64).expand_as(scores)
    classes = torch.where(scores == top, idx, torch.full_like(idx, C)).min(dim=2).values.long()
    return X[:, :N, :], classes[:, :N], X[:, N, :], classes[:, N]


def equivariant_matrix(theta, d, C):
    """M(theta) of theory/model.md section 3, differentiable in theta."""
    Id, Jd = torch.eye(d), torch.ones(d, d)
    Ic, Jc = torch.eye(C), torch.ones(C, C)
    top = torch.cat([theta[0] * Id + theta[1] * Jd, theta[2] * torch.ones(d, C)], dim=1)
    bottom = torch.cat([theta[3] * torch.ones(C, d), theta[4] * Ic + theta[5] * Jc], dim=1)
    return torch.cat([top, bottom], dim=0)


class Transformer(torch.nn.Module):
    def __init__(self, d, C, layers, heads, symmetry, gen):
        super().__init__()
        self.d, self.C, self.symmetry = d, C, symmetry
        D = d + C
        if symmetry == "constrained":
            # theta = (th1..th6) for the score map, then the value map.
            self.theta = torch.nn.Parameter(0.1 * torch.randn(layers, heads, 2, 6, generator=gen))
        else:
            self.dense = torch.nn.Parameter(0.1 * torch.randn(layers, heads, 2, D, D, generator=gen))

    def matrices(self):
        """[(S, V) per head] per layer."""
        out = []
        if self.symmetry == "constrained":
            for layer in self.theta:
                out.append([(equivariant_matrix(h[0], self.d, self.C), equivariant_matrix(h[1], self.d, self.C))
                            for h in layer])
        else:
            for layer in self.dense:
                out.append([(h[0], h[1]) for h in layer])
        return out

    def forward(self, X, labels, probe, keep_states=False):
        B, N, d = X.shape
        C = self.C
        Z = torch.zeros(B, N + 1, d + C, dtype=X.dtype)
        Z[:, :N, :d] = X
        Z[:, N, :d] = probe
        Z[:, :N, d:] = torch.nn.functional.one_hot(labels, C).to(X.dtype)
        logits_per_depth = [Z[:, N, d:]]
        for layer in self.matrices():
            keys = Z[:, :N, :]
            update = torch.zeros_like(Z)
            for S, V in layer:
                scores = torch.einsum("bjd,de,bie->bji", Z, S.to(X.dtype), keys)
                A = torch.softmax(scores, dim=2)
                update = update + torch.einsum("bji,bie,de->bjd", A, keys, V.to(X.dtype))
            Z = Z + update
            logits_per_depth.append(Z[:, N, d:])
        return Z[:, N, d:], logits_per_depth


def thetas(model):
    """[(theta_S, theta_V) per head] per layer (constrained runs)."""
    return [[(h[0], h[1]) for h in layer] for layer in model.theta.detach()]


def prompts_json(X, labels, probe, probe_labels):
    prompts = []
    for b in range(X.shape[0]):
        prompts.append({"format": 1, "d": X.shape[2], "C": None, "N": X.shape[1],
                        "X": [[float(v) for v in row] for row in X[b]],
                        "labels": [int(c) for c in labels[b]],
                        "probe": [float(v) for v in probe[b]],
                        "probe_label": int(probe_labels[b])})
    return prompts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=4)
    ap.add_argument("--C", type=int, default=3)
    ap.add_argument("--N", type=int, default=16)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--symmetry", choices=["constrained", "none"], default="constrained")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heldout", type=int, default=1000)
    ap.add_argument("--heldout-seed", type=int, default=20260411)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=".")
    ap.add_argument("--name", default=None, help="file prefix (default: trained_<symmetry>); must contain 'trained'")
    args = ap.parse_args()
    name = args.name or f"trained_{'equivariant' if args.symmetry == 'constrained' else 'free'}"
    if "trained" not in name:
        ap.error("--name must contain 'trained' (iclcert's examples are found by that)")
    if min(args.d, args.C, args.N, args.layers, args.heads, args.steps, args.batch, args.heldout) < 1 or args.C < 2:
        ap.error("sizes and counts must be >= 1, and C >= 2")
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    gen = torch.Generator().manual_seed(args.seed)
    model = Transformer(args.d, args.C, args.layers, args.heads, args.symmetry, gen)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    losses = []
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        X, labels, probe, probe_labels = sample_prompts(args.batch, args.d, args.C, args.N, gen)
        logits, _ = model(X.float(), labels, probe.float())
        loss = torch.nn.functional.cross_entropy(logits, probe_labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss))
        if step % max(1, args.steps // 20) == 0 or step == args.steps:
            recent = sum(losses[-100:]) / len(losses[-100:])
            print(f"step {step}/{args.steps}  loss {recent:.4f}  {time.perf_counter() - start:.0f} s", flush=True)
    seconds = time.perf_counter() - start

    held = torch.Generator().manual_seed(args.heldout_seed)
    X, labels, probe, probe_labels = sample_prompts(args.heldout, args.d, args.C, args.N, held)
    with torch.no_grad():
        logits, per_depth = model(X.float(), labels, probe.float())
    predictions = torch.argmax(logits, dim=1)
    accuracy = float((predictions == probe_labels).float().mean())
    accuracy_per_depth = [float((torch.argmax(l, dim=1) == probe_labels).float().mean()) for l in per_depth]
    print(f"trained in {seconds:.1f} s; held-out accuracy {accuracy:.4f} (per depth {accuracy_per_depth})")

    prompts = prompts_json(X, labels, probe, probe_labels)
    for p in prompts:
        p["C"] = args.C
    write_json(os.path.join(args.out, "heldout_prompts.json"), {"format": 1, "prompts": prompts}, compact=True)
    model_file = f"{name}_model.json"
    with torch.no_grad():
        write_json(os.path.join(args.out, model_file), model_dict(model.matrices(), d=args.d, C=args.C))
    if args.symmetry == "constrained":
        write_json(os.path.join(args.out, f"{name}_full_model.json"), full_model_dict(thetas(model)))
    write_json(os.path.join(args.out, f"{name}_predictions.json"), {
        "format": 1, "model": model_file, "prompts": "heldout_prompts.json", "arithmetic": "float32 (PyTorch)",
        "predictions": [int(c) for c in predictions],
        "probe_logits": [[number(v) for v in row] for row in logits]}, compact=True)
    write_json(os.path.join(args.out, f"{name}_training.json"), {
        "settings": vars(args) | {"name": name},
        "torch": torch.__version__, "seconds": round(seconds, 1),
        "heldout_accuracy": accuracy, "heldout_accuracy_per_depth": accuracy_per_depth,
        "loss_every_100_steps": [round(sum(losses[k:k + 100]) / len(losses[k:k + 100]), 5)
                                 for k in range(0, len(losses), 100)]})


if __name__ == "__main__":
    main()
