#!/usr/bin/env python3
"""The batch benchmark's peers (bench/batch_throughput, issue 25): the reduced
recursion of spec section 4, batched, in
  eager    PyTorch eager, torch.bmm + torch.softmax (bench/pytorch_batch.py's recursion)
  sdpa     PyTorch, torch.nn.functional.scaled_dot_product_attention (scale 1)
  compile  torch.compile of the eager recursion (its compile time reported apart)
  jax      jax.jit of the same recursion in jax.numpy
each optional: a peer whose package is missing is reported as skipped.
ICLCERT_PEER_ISA (set by the driver with the libraries' own variables when a
lower x86-64 level is forced) asks XLA for a cap (--xla_cpu_max_isa), which does
not hold in jaxlib 0.10: the recursion's dots, exp and softmax run as YNNPACK
fusions, which pick their kernels from the CPU itself, and XLA's own kernels came
out the same with the cap at AVX2, at SSE4_2 and without it (bench/README.md,
"Third pass"). So bench/ynn_cap.py holds YNNPACK to the cap by presetting its
arch flags (checked against /proc/cpuinfo first); XLA's own kernels, about 7% of
the peer's time, keep the machine's level. The ready line's "notes" say which
happened: held, or not held (and why), in which case the peer's figure is that
of the machine's own level.

For every prompt b, with Z = (X, Y) of shape (N + 1) x (d + C), probe in the last row:
    S = (Z * q_coef) @ K^T, A = softmax(S over the N training keys K = Z[:N]),
    Z = Z + (A @ K) * v_coef; prediction = argmax of the probe's label block.

A server for the driver, which interleaves it with iclcert's own runs: it reads
the prompts (raw little-endian arrays in --input-dir: X.bin (B, N, d) and
probe.bin (B, d) in float64, labels.bin (B, N) int32), compiles every available
peer in both dtypes, and prints one JSON line {"ready": ..., "peers": {name:
version or null}, "compile_s": {...}, "gemm_float32_gflops": ...,
"gemm_float32_gflops_per_cpu_s": ..., "notes": {name: why its ISA cap does
not hold}} (the machine's float32 GEMM rate, by wall
clock and per CPU-second of all threads: 4096^3 torch.mm, else numpy, best of 3). Then for each line
"PEER DTYPE" on stdin it runs the peer on all B prompts (best of --repeat), writes
predictions_PEER_DTYPE.bin (int32) and prints {"peer", "dtype", "prompts_per_s",
"prompts_per_cpu_s"}; "quit" ends it.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def cpu_time():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def torch_peers(a, layers):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)  # before torch.compile: its guards include the grad mode
    d, C, N = a.d, a.C, a.N

    def start(X, labels, probe, dtype):
        Z = torch.zeros((X.shape[0], N + 1, d + C), dtype=dtype)
        Z[:, :N, :d] = X
        Z[:, N, :d] = probe
        Z[:, :N, d:].scatter_(2, labels.long().unsqueeze(2), 1.0)
        return Z

    def coefs(dtype):
        return [(torch.tensor([b] * d + [g] * C, dtype=dtype), torch.tensor([al] * d + [alc] * C, dtype=dtype))
                for b, g, al, alc in layers]

    def eager(X, labels, probe, dtype):
        Z = start(X, labels, probe, dtype)
        for q_coef, v_coef in coefs(dtype):
            K = Z[:, :N, :]
            A = torch.softmax(torch.bmm(Z * q_coef, K.transpose(1, 2)), dim=2)
            Z = Z + torch.bmm(A, K) * v_coef
        return torch.argmax(Z[:, N, d:], dim=1)

    def sdpa(X, labels, probe, dtype):
        Z = start(X, labels, probe, dtype)
        for q_coef, v_coef in coefs(dtype):
            K = Z[:, :N, :]
            Z = Z + F.scaled_dot_product_attention(Z * q_coef, K, K, scale=1.0) * v_coef
        return torch.argmax(Z[:, N, d:], dim=1)

    peers = {"eager": eager, "sdpa": sdpa}
    try:
        peers["compile"] = torch.compile(eager, dynamic=False)
    except Exception as e:  # no compiler toolchain for inductor
        print(f"peers.py: torch.compile unavailable: {e}", file=sys.stderr)
    prepare = lambda X, labels, probe, dtype: (torch.from_numpy(X).to(dtype), torch.from_numpy(labels),
                                               torch.from_numpy(probe).to(dtype))
    dtypes = {"float32": torch.float32, "float64": torch.float64}
    return torch.__version__, peers, prepare, dtypes, lambda t: t.to(torch.int32).numpy(), lambda name, args: None


def jax_peer(a, layers):
    flags = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={a.threads}"
    if os.environ.get("ICLCERT_PEER_ISA"):  # the driver's stand-in for a machine of that ISA
        flags += f" --xla_cpu_max_isa={os.environ['ICLCERT_PEER_ISA']}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    import jax

    isa = os.environ.get("ICLCERT_PEER_ISA")
    held, how = (False, None)
    if isa:  # before jax runs anything: YNNPACK reads its flags once
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ynn_cap

        held, how = ynn_cap.hold(isa)

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    d, C, N = a.d, a.C, a.N

    def recursion(X, labels, probe):
        dtype = X.dtype
        B = X.shape[0]
        Y = jax.nn.one_hot(labels, C, dtype=dtype)
        top = jnp.concatenate([X, Y], axis=2)
        last = jnp.concatenate([probe, jnp.zeros((B, C), dtype)], axis=1)[:, None, :]
        Z = jnp.concatenate([top, last], axis=1)
        for b, g, al, alc in layers:
            q_coef = jnp.array([b] * d + [g] * C, dtype)
            v_coef = jnp.array([al] * d + [alc] * C, dtype)
            K = Z[:, :N, :]
            A = jax.nn.softmax(jnp.einsum("bjk,bik->bji", Z * q_coef, K), axis=2)
            Z = Z + jnp.einsum("bji,bik->bjk", A, K) * v_coef
        return jnp.argmax(Z[:, N, d:], axis=1)

    run = jax.jit(recursion)
    f = lambda X, labels, probe, dtype: run(X, labels, probe).block_until_ready()
    prepare = lambda X, labels, probe, dtype: (jnp.asarray(X.astype(dtype)), jnp.asarray(labels),
                                               jnp.asarray(probe.astype(dtype)))
    dtypes = {"float32": np.float32, "float64": np.float64}

    def note(name, args):
        if not isa or "__ynn_fusion" not in run.lower(*args).compile().as_text():
            return None
        if held:
            return f"{how}; XLA's own kernels (outside the fusions) keep this CPU's level"
        return (f"not held to {isa}: its YNNPACK fusions pick their kernels from this CPU ({how}), so its figure "
                "is this CPU's own level, not the capped one's")

    return jax.__version__, {"jax": f}, prepare, dtypes, lambda t: np.asarray(t).astype(np.int32), note


def gemm_gflops():
    n = 4096
    try:
        import torch

        a, b = torch.randn(n, n), torch.randn(n, n)
        mm = torch.mm
    except ImportError:
        a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
        b = a.copy()
        mm = np.matmul
    mm(a, b)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        t, c = time.perf_counter(), cpu_time()
        mm(a, b)
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, cpu_time() - c)
    return 2.0 * n ** 3 / best / 1e9, 2.0 * n ** 3 / best_cpu / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input-dir", required=True)
    for k in ("B", "d", "C", "N"):
        ap.add_argument(f"--{k}", type=int, required=True)
    ap.add_argument("--layers", required=True, help="JSON list of [beta, gamma, alpha, alpha_label]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--peers", default="eager,sdpa,compile,jax")
    a = ap.parse_args()
    layers = json.loads(a.layers)
    read = lambda name, t: np.fromfile(os.path.join(a.input_dir, name), dtype=t)
    X = read("X.bin", np.float64).reshape(a.B, a.N, a.d)
    probe = read("probe.bin", np.float64).reshape(a.B, a.d)
    labels = read("labels.bin", np.int32).reshape(a.B, a.N)
    wanted = a.peers.split(",")

    versions, runners, compile_s = {}, {}, {}
    notes = {}
    families = [("torch", torch_peers, ("eager", "sdpa", "compile")), ("jax", jax_peer, ("jax",))]
    for package, make, names in families:
        if not any(n in wanted for n in names):
            continue
        try:
            version, fns, prepare, dtypes, to_np, note = make(a, layers)
        except ImportError:
            for n in names:
                versions[n] = None
            continue
        for n in names:
            if n not in wanted:
                continue
            if n not in fns:
                versions[n] = None
                continue
            versions[n] = f"{package} {version}"
            for dt, dtype in dtypes.items():
                chunks = [prepare(X[s:s + a.chunk], labels[s:s + a.chunk], probe[s:s + a.chunk], dtype)
                          for s in range(0, a.B, a.chunk)]
                t = time.perf_counter()
                fns[n](*chunks[0], dtype)  # compiles (torch.compile, jax.jit) and warms up
                first = time.perf_counter() - t
                t = time.perf_counter()
                fns[n](*chunks[0], dtype)
                compile_s[f"{n} {dt}"] = max(0.0, first - (time.perf_counter() - t))
                runners[(n, dt)] = (fns[n], chunks, dtype, to_np)
                if n not in notes:
                    notes[n] = note(n, chunks[0])
    gemm, gemm_cpu = gemm_gflops()
    print(json.dumps({"ready": True, "peers": versions, "compile_s": compile_s, "gemm_float32_gflops": gemm,
                      "gemm_float32_gflops_per_cpu_s": gemm_cpu,
                      "notes": {n: text for n, text in notes.items() if text}}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        name, dt = words
        fn, chunks, dtype, to_np = runners[(name, dt)]
        best, best_cpu, preds = float("inf"), float("inf"), None
        for _ in range(a.repeat):
            t, c = time.perf_counter(), cpu_time()
            out = [fn(*ch, dtype) for ch in chunks]
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, cpu_time() - c)
            preds = np.concatenate([to_np(o) for o in out])
        preds.tofile(os.path.join(a.input_dir, f"predictions_{name}_{dt}.bin"))
        print(json.dumps({"peer": name, "dtype": dt, "prompts_per_s": a.B / best,
                          "prompts_per_cpu_s": a.B / best_cpu}), flush=True)


if __name__ == "__main__":
    main()
