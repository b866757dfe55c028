#!/usr/bin/env python3
"""Static check of the CUDA kernels, without a GPU (issue 28): reads the device code
of the build's iclcert_gpu_kernel library with cuobjdump (-res-usage and -sass) and
checks the contracts that a GPU run cannot show by itself:

  * no tensor-core instruction (HMMA, IMMA, DMMA, HGMMA, ...) and no TF32 in any
    kernel: the results must stay bit-identical to the CPU backend;
  * the hot kernels (team_kernel, the column kernel; sample_kernel, the device
    sampler) use no local memory: no stack frame, no STL/LDL, so no register
    spills and no array in local memory (theory/batch_path.md, "Layout");
  * team_kernel<float, *> at most 128 registers a thread (16 warps per
    multiprocessor of sm_90's 64K registers: at N = 64 a block of 7 prompts);
    every team kernel fits the benchmark's shape on one multiprocessor;
  * fused multiply-adds present: FFMA in team_kernel<float, *>, DFMA in
    team_kernel<double, *> (the kernel's explicit fmadd calls);
  * the interval tier (certify_kernel) uses the directed roundings:
    DADD.RM, DADD.RP, DMUL.RM and DMUL.RP (__dadd_rd/_ru, __dmul_rd/_ru).

It prints per kernel the registers, stack, local traffic, instruction counts, and the
occupancy at the benchmark's shape (--d 16 --C 4 --N 64, reduced layers), for sm_90
(65536 registers, 64 warps, 32 blocks and 228 KB of shared memory per multiprocessor,
227 KB per block, 1 KB reserved per block), with the prompts per block that
CudaPipeline's pick_team would choose (gpu/batch_cuda.cu; layout: team_layout in
gpu/batch_columns.hpp, mirrored below).

Known and allowed (reported, not failed): certify_kernel's stack and spills, within
--certify-local-max STL+LDL instructions (696 in the build of 2026-12-07, nvcc
13.0, plus 10%: with the workspace interleaved by prompt and attend_rows one
function instead of two inlined copies; 954 with both copies, 718 with one
prompt's workspace after another, 1046 before its workspace reads became plain
loads), so that they cannot grow unnoticed. certify_kernel reads and writes no global memory a byte at
a time (LDG.E.U8/STG.E.U8: what nvcc makes of a memcpy it cannot prove aligned).

usage: cuda_static_test.py --lib LIBRARY_OBJECT_OR_EXECUTABLE [--cuobjdump PATH] [--d D --C C --N N]
Exit status: 0 all contracts hold, 1 one fails (each failure one line "FAIL: ..."),
77 no cuobjdump or no such library (ctest: skipped), 2 bad usage or unreadable output.
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys

SM90 = dict(regs=65536, warps=64, blocks=32, smem=228 * 1024, smem_block=227 * 1024, reserved=1024,
            reg_unit=256, max_regs=255)
TENSOR_CORE = re.compile(r"(UTC)?[HIDBQO]G?MMA")  # HMMA, IMMA, DMMA, BMMA, HGMMA, ...: base opcodes
FLOAT_TEAM_MAX_REGS = 128


def find_cuobjdump(given):
    for c in [given, shutil.which("cuobjdump"), "/usr/local/cuda/bin/cuobjdump"]:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def run(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cuda_static_test: {os.path.basename(tool)} {' '.join(args)} failed: {r.stderr.strip()[:300]}")
    return r.stdout


KERNEL = re.compile(r"(team_kernel|prompt_kernel|sample_kernel|certify_kernel)(?:I([fd])(?:Li(\d+)E)?E)?")


def label(mangled):
    m = KERNEL.search(mangled)
    if not m:
        return mangled
    kind, t, maxd = m.groups()
    args = [{"f": "float", "d": "double"}[t]] if t else []
    if maxd:
        args.append(maxd)
    return kind + (f"<{', '.join(args)}>" if args else "")


def resources(text):
    """{mangled name: {REG, STACK, SHARED, LOCAL}} of every sm_90 function."""
    out, arch, name = {}, None, None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("arch = "):
            arch = s.split("=", 1)[1].strip()
        elif s.startswith("Function ") and s.endswith(":"):
            name = s[len("Function "):-1]
        elif name and s.startswith("REG:") and arch == "sm_90":
            out[name] = {k: int(v) for k, v in re.findall(r"(\w+):(\d+)", s) if k in ("REG", "STACK", "SHARED", "LOCAL")}
            name = None
    return out


def opcodes(text):
    """{mangled name: Counter of full opcodes (predicate dropped)} of every sm_90 function."""
    out, arch, cur = {}, None, None
    instr = re.compile(r"^\s*/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)")
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("arch = "):
            arch = s.split("=", 1)[1].strip()
        elif s.startswith("Function : "):
            cur = out.setdefault(s[len("Function : "):], collections.Counter()) if arch == "sm_90" else None
        elif cur is not None:
            m = instr.match(line)
            if m:
                cur[m.group(1)] += 1
    return out


def base(op):
    return op.split(".", 1)[0]


def exact(ops, name):
    return ops.get(name, 0)


def by_base(ops, name):
    return sum(n for op, n in ops.items() if base(op) == name)


def team_layout(G, d, C, N, probe_is_key=False, dense=False):
    """gpu/batch_columns.hpp's team_layout: (threads, shared elements)."""
    D = d + C
    n_keys = N + 1 if probe_is_key else N
    P = (N + 1 + 3) // 4 * 4
    threads = (G * (N + 1) + 31) // 32 * 32
    per = (3 if dense else 1) * D * P + C * d + d + P
    per_prompt = (per + 3) // 4 * 4
    return threads, G * per_prompt + n_keys * threads


def blocks_per_sm(regs, threads, smem_bytes):
    warps = threads // 32
    per_warp = -(-regs * 32 // SM90["reg_unit"]) * SM90["reg_unit"]
    by_regs = (SM90["regs"] // per_warp) // warps
    by_warps = SM90["warps"] // warps
    need = -(-(smem_bytes + SM90["reserved"]) // 128) * 128
    by_smem = SM90["smem"] // need
    return min(by_regs, by_warps, by_smem, SM90["blocks"])


def occupancy(regs, size, d, C, N):
    """pick_team of gpu/batch_cuda.cu: the G in 1..8 with the most prompts resident (ties: smaller G)."""
    best = None
    for G in range(1, 9):
        threads, elems = team_layout(G, d, C, N)
        smem = elems * size
        if smem > SM90["smem_block"] or threads > 1024:
            break
        b = blocks_per_sm(regs, threads, smem)
        if best is None or b * G > best["prompts"]:
            best = dict(G=G, threads=threads, smem=smem, blocks=b, prompts=b * G, warps=b * threads // 32)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True, help="the build's libiclcert_gpu_kernel.a, batch_cuda.cu.o or iclcert")
    ap.add_argument("--cuobjdump", help="cuobjdump to use (else PATH, else /usr/local/cuda/bin)")
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--C", type=int, default=4)
    ap.add_argument("--N", type=int, default=64)
    ap.add_argument("--certify-local-max", type=int, default=766,
                    help="certify_kernel's STL + LDL instructions allowed (known spills)")
    a = ap.parse_args()
    tool = find_cuobjdump(a.cuobjdump)
    if not tool:
        print("skipped: no cuobjdump (CUDA toolkit's bin, PATH, or --cuobjdump)")
        return 77
    if not os.path.isfile(a.lib):  # a build packed for a GPU machine carries executables only
        print(f"skipped: no {a.lib} (give an executable that links it, such as iclcert)")
        return 77
    version = re.findall(r"release [\d.]+", run(tool, "--version"))
    res = resources(run(tool, "-res-usage", a.lib))
    sass = opcodes(run(tool, "-sass", a.lib))
    def order(n):
        kind, t, maxd = KERNEL.search(n).groups()
        return kind, t or "", int(maxd or 0)
    kernels = sorted((n for n in res if KERNEL.search(n)), key=order)
    if not kernels or not set(kernels) <= set(sass):
        print(f"cuda_static_test: no sm_90 kernels with SASS in {a.lib} (found {len(res)} functions)", file=sys.stderr)
        return 2
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    D = a.d + a.C
    maxd = 8 if D <= 8 else 16 if D <= 16 else 24 if D <= 24 else 32 if D <= 32 else 0
    print(f"cuda_static_test: {a.lib}, cuobjdump {version[0] if version else '?'}, sm_90")
    print("| kernel | regs | stack B | STL+LDL | instructions | FFMA | FADD+FMUL | DFMA | DADD+DMUL | "
          "RM/RP roundings | MUFU | LDS | tensor core |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in kernels:
        r, ops, k = res[n], sass[n], label(n)
        local = by_base(ops, "STL") + by_base(ops, "LDL")
        tc = sum(c for op, c in ops.items() if TENSOR_CORE.fullmatch(base(op)) or "TF32" in op)
        directed = sum(c for op, c in ops.items() if re.search(r"\.R[MP]\b", op) and base(op)[0] in "DF")
        print(f"| {k} | {r['REG']} | {r['STACK']} | {local} | {sum(ops.values())} | {by_base(ops, 'FFMA')} | "
              f"{by_base(ops, 'FADD') + by_base(ops, 'FMUL')} | {by_base(ops, 'DFMA')} | "
              f"{by_base(ops, 'DADD') + by_base(ops, 'DMUL')} | {directed} | {by_base(ops, 'MUFU')} | "
              f"{by_base(ops, 'LDS')} | {tc} |")
        if tc:
            fail(f"{k}: {tc} tensor-core or TF32 instructions "
                 f"({', '.join(sorted(op for op in ops if TENSOR_CORE.fullmatch(base(op)) or 'TF32' in op))})")
        u8 = exact(ops, "LDG.E.U8") + exact(ops, "STG.E.U8")
        if u8 and k.startswith("certify_kernel"):  # a memcpy nvcc could not prove aligned: 8 per double
            fail(f"{k}: {u8} byte-wide global loads and stores (LDG.E.U8/STG.E.U8)")
        elif u8:  # (sample_kernel: one, a byte-sized field)
            print(f"NOTE: {k} has {u8} byte-wide global loads and stores (LDG.E.U8/STG.E.U8)")
        hot = k.startswith(("team_kernel", "sample_kernel"))
        if hot and (r["STACK"] or r["LOCAL"] or local):
            fail(f"{k}: local memory in a hot kernel (stack {r['STACK']} B, local {r['LOCAL']} B, "
                 f"{local} STL/LDL): spills or a local array")
        if k.startswith("team_kernel<float") and r["REG"] > FLOAT_TEAM_MAX_REGS:
            fail(f"{k}: {r['REG']} registers, over the budget of {FLOAT_TEAM_MAX_REGS} (16 warps per multiprocessor)")
        if k.startswith("team_kernel<float") and not by_base(ops, "FFMA"):
            fail(f"{k}: no FFMA (the kernel's fmadd calls did not fuse)")
        if k.startswith("team_kernel<double") and not by_base(ops, "DFMA"):
            fail(f"{k}: no DFMA (the kernel's fmadd calls did not fuse)")
        if k.startswith("certify_kernel"):
            missing = [op for op in ("DADD.RM", "DADD.RP", "DMUL.RM", "DMUL.RP") if not exact(ops, op)]
            if missing:
                fail(f"{k}: no {', '.join(missing)}: the interval tier lost its directed roundings")
            if local > a.certify_local_max:
                fail(f"{k}: {local} STL/LDL instructions, more than the known {a.certify_local_max}")
            elif r["STACK"] or local:
                print(f"KNOWN (issue 28): {k} has a {r['STACK']}-byte stack and {local} STL/LDL instructions "
                      f"(register spills at {r['REG']} registers); allowed up to {a.certify_local_max}")
            print(f"certify_kernel roundings: " + ", ".join(
                f"{op} {c}" for op, c in sorted(ops.items()) if re.search(r"\.R[MP]\b", op)))

    print(f"\nOccupancy on sm_90 at d = {a.d}, C = {a.C}, N = {a.N} (D = {D}, reduced layers), "
          f"with pick_team's prompts per block G:")
    print("| kernel | regs | G | threads/block | shared B/block | blocks/SM | warps/SM | prompts/SM |")
    print("|---|---|---|---|---|---|---|---|")
    for t, size in (("float", 4), ("double", 8)):
        name = next((n for n in kernels if label(n) == f"team_kernel<{t}, {maxd}>"), None)
        if not maxd or not name:
            print(f"| team_kernel<{t}, {maxd}> | (not in the build) |")
            continue
        o = occupancy(res[name]["REG"], size, a.d, a.C, a.N)
        if not o or o["prompts"] == 0:
            fail(f"team_kernel<{t}, {maxd}>: no block of the benchmark's shape fits a multiprocessor")
            continue
        print(f"| team_kernel<{t}, {maxd}> | {res[name]['REG']} | {o['G']} | {o['threads']} | {o['smem']} | "
              f"{o['blocks']} | {o['warps']} ({100 * o['warps'] // SM90['warps']}%) | {o['prompts']} |")
    if failures:
        print(f"cuda_static_test: {len(failures)} contract(s) broken")
        return 1
    print("cuda_static_test: all contracts hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
