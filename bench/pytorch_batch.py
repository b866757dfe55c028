#!/usr/bin/env python3
"""The reduced recursion of theory/model.md section 4, batched in PyTorch: the peer that
bench/batch_throughput compares iclcert's CPU backend with (issue 6).

For every prompt b, with Z = (X, Y) of shape (N + 1) x (d + C), probe in the last row:
    S = (Z * q_coef) @ K^T          q_coef = (beta on x columns, gamma on y columns)
    A = softmax(S, keys)            keys K = the N training rows
    Z = Z + (A @ K) * v_coef        v_coef = (alpha on x, alpha' on y)
with torch.bmm and torch.softmax, in float32 or float64, on `--threads` CPU threads.
The prediction is argmax of the probe's label block (ties: torch.argmax's choice).

Input (written by bench/batch_throughput): raw little-endian arrays in --input-dir:
X.bin (B, N, d), probe.bin (B, d) in float64, labels.bin (B, N) int32.
Prints one JSON line: prompts/s and prompts per CPU-second (all threads; best of
--repeat), the float32 GEMM rate of this
machine (4096^3 torch.mm, best of 3), and writes predictions.bin (int32).
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch


def recursion(X, labels, probe, layers, C, dtype):
    B, N, d = X.shape
    Z = torch.zeros((B, N + 1, d + C), dtype=dtype)
    Z[:, :N, :d] = X
    Z[:, N, :d] = probe
    Z[:, :N, d:].scatter_(2, labels.long().unsqueeze(2), 1.0)
    for beta, gamma, alpha, alpha_label in layers:
        q_coef = torch.tensor([beta] * d + [gamma] * C, dtype=dtype)
        v_coef = torch.tensor([alpha] * d + [alpha_label] * C, dtype=dtype)
        K = Z[:, :N, :]
        S = torch.bmm(Z * q_coef, K.transpose(1, 2))
        A = torch.softmax(S, dim=2)
        Z = Z + torch.bmm(A, K) * v_coef
    return torch.argmax(Z[:, N, d:], dim=1)


def gemm_gflops(dtype):
    n = 4096
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input-dir", required=True)
    ap.add_argument("--B", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--C", type=int, required=True)
    ap.add_argument("--N", type=int, required=True)
    ap.add_argument("--layers", required=True, help='JSON list of [beta, gamma, alpha, alpha_label]')
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-gemm", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "float32" else torch.float64
    read = lambda name, t: np.fromfile(os.path.join(a.input_dir, name), dtype=t)
    X = torch.from_numpy(read("X.bin", np.float64).reshape(a.B, a.N, a.d)).to(dtype)
    probe = torch.from_numpy(read("probe.bin", np.float64).reshape(a.B, a.d)).to(dtype)
    labels = torch.from_numpy(read("labels.bin", np.int32).reshape(a.B, a.N))
    layers = json.loads(a.layers)
    best = float("inf")
    best_cpu = float("inf")
    preds = None
    with torch.no_grad():
        for _ in range(a.repeat):
            t = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            out = [recursion(X[s:s + a.chunk], labels[s:s + a.chunk], probe[s:s + a.chunk], layers, a.C, dtype)
                   for s in range(0, a.B, a.chunk)]
            best = min(best, time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            best_cpu = min(best_cpu, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
            preds = torch.cat(out)
        gflops = None if a.no_gemm else gemm_gflops(torch.float32)
    preds.to(torch.int32).numpy().tofile(os.path.join(a.input_dir, "predictions.bin"))
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "dtype": a.dtype,
                      "seconds": best, "prompts_per_s": a.B / best,
                      "cpu_seconds": best_cpu, "prompts_per_cpu_s": a.B / best_cpu, "gemm_float32_gflops": gflops}))


if __name__ == "__main__":
    main()
