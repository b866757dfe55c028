#!/usr/bin/env python3
"""The batched recursion in PyTorch on a device (CUDA or CPU): the peer that
bench/gpu_throughput compares iclcert's batch driver with (issue 12).

For every prompt b, with Z = (X, Y) of shape (N + 1) x (d + C), probe in the last
row (label block 0) and keys K = the N training rows of the current state:

  reduced layer (theory/model.md section 4; coefficients the same for every row):
      A = softmax((Z * q_coef) K^T)     q_coef = (beta on x columns, gamma on y columns)
      Z = Z + (A K) * v_coef            v_coef = (alpha on x, alpha' on y)
  dense layer (docs/formats.md: s_ji = z_j^T S z_i, z_j += sum_i A_ji V z_i), heads h:
      Z = Z + sum_h softmax(Z (K S_h^T)^T) (K V_h^T)

all heads and rows reading the depth-t state, as numerics/layer.hpp does. The
prediction is argmax of the probe's label block (torch.argmax: the first maximum,
as iclcert's ties to the smallest class).

Timing mode (default): prompts are sampled ON the device with torch, a Gaussian
W (C x d) per prompt, Gaussian points and probe, labels argmax_c <w_c, x>: not
iclcert's prompts (a throughput peer). The run goes in chunks of --chunk prompts;
one chunk first as a warm-up, then the whole batch timed end to end (sampling,
recursion, predictions copied to the host; torch.cuda.synchronize before the clock
stops). TF32 is off, so float32 products are float32. With --peak it also times a
square torch.mm (8192^3 on cuda, 2048^3 on cpu unless --peak-n) in float32 and
float64, best of 3 after one warm-up: the device's practical peak.

Check mode (--input-dir DIR): the prompts of DIR (raw little-endian arrays written
by bench/gpu_throughput: X.bin (K, N, d) and probe.bin (K, d) float64, labels.bin
(K, N) int32) run once in --dtype; writes predictions.bin (int32) and
probe_labels.bin (the final probe label blocks, (K, C) float64). No timing.

Prints one JSON line. Needs only torch (no numpy).
"""
import argparse
import array
import json
import os
import platform
import time
from fractions import Fraction

import torch


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + " (%d threads)" % torch.get_num_threads()
    except OSError:
        pass
    return platform.processor() or "cpu"


def reduced_layers(a, dtype, device):
    """L identical reduced layers as (q_coef, v_coef) vectors of length D."""
    q = torch.tensor([a.beta] * a.d + [a.gamma] * a.C, dtype=dtype, device=device)
    v = torch.tensor([a.alpha] * a.d + [a.alpha_label] * a.C, dtype=dtype, device=device)
    return [("reduced", q, v)] * a.L


def model_file_layers(path, a, dtype, device):
    """The layers of an iclcert model file (docs/formats.md), reduced or dense.

    Numbers are exact decimals or fractions: each is rounded once to the dtype
    (float() of a Fraction rounds to nearest; float32 then rounds again, which is
    exact for the small dyadic entries gpu_throughput writes)."""
    with open(path) as f:
        m = json.load(f)
    if m.get("kernel", "softmax") != "softmax" or m.get("probe_is_key", False) or \
            m.get("probe_label_init", "zero") != "zero":
        raise SystemExit("pytorch_gpu.py: only softmax models with probe_is_key false and "
                         "probe_label_init zero are supported")
    num = lambda s: float(Fraction(str(s)))
    D = a.d + a.C
    layers = []
    for layer in m["layers"]:
        if "heads" not in layer:
            if "probe" in layer:
                raise SystemExit("pytorch_gpu.py: probe overrides are not supported")
            q = [num(layer["beta"])] * a.d + [num(layer["gamma"])] * a.C
            v = [num(layer["alpha"])] * a.d + [num(layer["alpha_label"])] * a.C
            layers.append(("reduced", torch.tensor(q, dtype=dtype, device=device),
                           torch.tensor(v, dtype=dtype, device=device)))
            continue
        heads = []
        for h in layer["heads"]:
            if "score_matrix" not in h:
                raise SystemExit("pytorch_gpu.py: full (theta) heads are not supported; write them as dense")
            S = torch.tensor([[num(x) for x in row] for row in h["score_matrix"]], dtype=dtype, device=device)
            V = torch.tensor([[num(x) for x in row] for row in h["value_matrix"]], dtype=dtype, device=device)
            if S.shape != (D, D) or V.shape != (D, D):
                raise SystemExit("pytorch_gpu.py: dense matrices must be %d x %d (d + C)" % (D, D))
            # K S^T gives the keys S z_i as rows; transposed once here, not per chunk.
            heads.append((S.t().contiguous(), V.t().contiguous()))
        layers.append(("dense", heads, None))
    return layers


def initial_state(X, labels, probe, C):
    B, N, d = X.shape
    Z = torch.zeros((B, N + 1, d + C), dtype=X.dtype, device=X.device)
    Z[:, :N, :d] = X
    Z[:, N, :d] = probe
    Z[:, :N, d:].scatter_(2, labels.long().unsqueeze(2), 1.0)
    return Z


def recursion(Z, layers, N):
    """Runs the layers on states Z (B, N + 1, D); returns the final state."""
    for kind, p, v in layers:
        K = Z[:, :N, :]
        if kind == "reduced":
            A = torch.softmax(torch.bmm(Z * p, K.transpose(1, 2)), dim=2)
            Z = Z + torch.bmm(A, K) * v
        else:
            out = Z
            for St, Vt in p:
                keys = torch.matmul(K, St)    # rows S z_i
                values = torch.matmul(K, Vt)  # rows V z_i
                A = torch.softmax(torch.bmm(Z, keys.transpose(1, 2)), dim=2)
                out = out + torch.bmm(A, values)
            Z = out
    return Z


def sample(B, a, dtype, device, gen):
    """B prompts on the device: W (C x d), points and probe Gaussian, labels argmax <w_c, x>."""
    W = torch.randn((B, a.C, a.d), dtype=dtype, device=device, generator=gen)
    X = torch.randn((B, a.N, a.d), dtype=dtype, device=device, generator=gen)
    probe = torch.randn((B, a.d), dtype=dtype, device=device, generator=gen)
    labels = torch.argmax(torch.bmm(X, W.transpose(1, 2)), dim=2)
    return X, labels, probe


def run_chunk(B, a, layers, dtype, device, gen):
    X, labels, probe = sample(B, a, dtype, device, gen)
    Z = recursion(initial_state(X, labels, probe, a.C), layers, a.N)
    return torch.argmax(Z[:, a.N, a.d:], dim=1).to(torch.int32)


def timed_run(a, layers, dtype, device):
    gen = torch.Generator(device=device)
    gen.manual_seed(a.seed)
    run_chunk(min(a.chunk, a.B), a, layers, dtype, device, gen)  # warm-up: kernels, allocator
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    preds = torch.empty(a.B, dtype=torch.int32, device=device)
    for s in range(0, a.B, a.chunk):
        n = min(a.chunk, a.B - s)
        preds[s:s + n] = run_chunk(n, a, layers, dtype, device, gen)
    host = preds.cpu()  # as iclcert's driver, which returns its predictions on the host
    synchronize(device)
    seconds = time.perf_counter() - start
    counts = torch.bincount(host.long(), minlength=a.C).tolist()
    return seconds, counts


def check_run(a, layers, dtype, device):
    def read(name, t):
        with open(os.path.join(a.input_dir, name), "rb") as f:
            return torch.frombuffer(bytearray(f.read()), dtype=t)
    X = read("X.bin", torch.float64).reshape(a.B, a.N, a.d).to(device=device, dtype=dtype)
    probe = read("probe.bin", torch.float64).reshape(a.B, a.d).to(device=device, dtype=dtype)
    labels = read("labels.bin", torch.int32).reshape(a.B, a.N).to(device)
    preds, blocks = [], []
    for s in range(0, a.B, a.chunk):
        Z = recursion(initial_state(X[s:s + a.chunk], labels[s:s + a.chunk], probe[s:s + a.chunk], a.C),
                      layers, a.N)
        blocks.append(Z[:, a.N, a.d:].to(torch.float64).cpu())
        preds.append(torch.argmax(Z[:, a.N, a.d:], dim=1).to(torch.int32).cpu())
    with open(os.path.join(a.input_dir, "predictions.bin"), "wb") as f:
        array.array("i", torch.cat(preds).tolist()).tofile(f)
    with open(os.path.join(a.input_dir, "probe_labels.bin"), "wb") as f:
        array.array("d", torch.cat(blocks).reshape(-1).tolist()).tofile(f)


def peak_gflops(device, n, dtype):
    a = torch.randn((n, n), dtype=dtype, device=device)
    b = torch.randn((n, n), dtype=dtype, device=device)
    torch.mm(a, b)
    synchronize(device)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--model", choices=["reduced", "dense"], default="reduced")
    ap.add_argument("--model-file", help="iclcert model file (required for --model dense)")
    ap.add_argument("--B", type=int, default=1000000)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--C", type=int, default=4)
    ap.add_argument("--N", type=int, default=64)
    ap.add_argument("--L", type=int, default=8, help="layers of --model reduced")
    ap.add_argument("--beta", type=float, default=0.8)
    ap.add_argument("--gamma", type=float, default=1.5)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--alpha-label", type=float, default=0.5)
    ap.add_argument("--chunk", type=int, help="prompts per step (default 262144 on cuda, 4096 on cpu)")
    ap.add_argument("--threads", type=int, help="CPU threads (default: torch's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--peak", action="store_true", help="also time a square torch.mm in float32 and float64")
    ap.add_argument("--peak-n", type=int, help="its size (default 8192 on cuda, 2048 on cpu)")
    ap.add_argument("--input-dir", help="check mode: run the prompts of this directory, no timing")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("pytorch_gpu.py: --device cuda but torch %s sees no CUDA device" % torch.__version__)
    if a.model == "dense" and not a.model_file:
        raise SystemExit("pytorch_gpu.py: --model dense needs --model-file")
    if a.threads:
        torch.set_num_threads(a.threads)
    # Full float32 products: no TF32 (10-bit mantissa) in matmul or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(a.device)
    dtype = torch.float32 if a.dtype == "float32" else torch.float64
    if a.chunk is None:
        a.chunk = 262144 if device.type == "cuda" else 4096
    a.chunk = max(1, min(a.chunk, a.B))
    layers = model_file_layers(a.model_file, a, dtype, device) if a.model == "dense" \
        else reduced_layers(a, dtype, device)
    result = {"torch": torch.__version__, "device": a.device, "device_name": device_name(device),
              "threads": torch.get_num_threads(), "dtype": a.dtype, "model": a.model, "layers": len(layers),
              "B": a.B, "chunk": a.chunk}
    with torch.no_grad():
        if a.input_dir:
            check_run(a, layers, dtype, device)
            result["mode"] = "check"
        else:
            seconds, counts = timed_run(a, layers, dtype, device)
            result.update({"mode": "timed", "seconds": seconds, "prompts_per_s": a.B / seconds,
                           "prediction_counts": counts})
            if device.type == "cuda":
                result["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2 ** 30
        if a.peak:
            n = a.peak_n or (8192 if device.type == "cuda" else 2048)
            result["peak_n"] = n
            result["peak_gflops"] = {"float32": peak_gflops(device, n, torch.float32),
                                     "float64": peak_gflops(device, n, torch.float64)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
