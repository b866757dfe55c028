#!/usr/bin/env python3
"""Hold jax's YNNPACK kernels to a lower x86-64 level, for bench/peers.py (issue 25).

Why: when bench/batch_throughput forces iclcert to AVX2 on an AVX-512 machine,
standing in for an AVX2-only one, the peers must be held to AVX2 too. jaxlib 0.10
runs the recursion's dots, exp and softmax as YNNPACK fusions, and YNNPACK picks
its kernels from `ynn::get_supported_arch_flags()`, whose value (a bit per ISA
extension, read from cpuinfo once) is a function-local static that no flag or
variable reaches: `--xla_cpu_max_isa` does not (bench/README.md, "Third pass").

How: jaxlib's libjax_common.so keeps its local symbols (`nm` lists them), so the
static `flags` and its guard have known addresses. Before jax runs anything,
`hold` writes the capped flags and marks the guard initialised: the
initialiser never runs, and every kernel choice sees the cap. The bit layout
(ynnpack/base/arch.h: sse2 = bit 0 ... avx512vnni = bit 13) is not an interface,
so `hold` first checks it: a child process lets YNNPACK initialise the flags
itself and they must equal what /proc/cpuinfo says, bit for bit, over bits 0-13.
Anything unexpected (no nm, no symbols, another layout, flags already set)
leaves jax alone and says why.

What it does not hold: XLA's own generated kernels (the few ops outside the
fusions, 7% of the peer's time in a profile) keep the CPU's level.

`python3 ynn_cap.py --read` (the check's child) prints the flags YNNPACK sets.
"""
import ctypes
import os
import shutil
import subprocess
import sys

# ynnpack/base/arch.h's arch_flag bits, by the name /proc/cpuinfo gives the extension.
LAYOUT = ["sse2", "ssse3", "sse4_1", "avx", "f16c", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
          "avx512dq", "avx512_bf16", "avx512_fp16", "avx512_vnni"]
CHECKED = (1 << len(LAYOUT)) - 1
CAPS = {"AVX2": ["sse2", "ssse3", "sse4_1", "avx", "f16c", "avx2", "fma"], "SSE4_2": ["sse2", "ssse3", "sse4_1"]}
FLAGS = "_ZZN3ynn24get_supported_arch_flagsEvE5flags"
GUARD = "_ZGVZN3ynn24get_supported_arch_flagsEvE5flags"


def bits_of(names):
    return sum(1 << LAYOUT.index(n) for n in names)


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def library():
    import jaxlib

    path = os.path.join(jaxlib.__path__[0], "libjax_common.so")
    return path if os.path.exists(path) else None


def addresses(lib):
    """The loaded addresses of the static flags and its guard, or a reason why not."""
    nm = shutil.which("nm")
    if not nm:
        return None, "no nm (binutils) to read jaxlib's symbols"
    offsets = {}
    for line in subprocess.run([nm, lib], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in (FLAGS, GUARD):
            offsets[parts[2]] = int(parts[0], 16)
    if len(offsets) != 2:
        return None, "jaxlib's YNNPACK arch flags are not in its symbol table"
    base = None
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and os.path.realpath(fields[5]) == os.path.realpath(lib) and int(fields[2], 16) == 0:
                base = int(fields[0].split("-")[0], 16)
                break
    if base is None:
        return None, "libjax_common.so is not loaded"
    return (base + offsets[FLAGS], base + offsets[GUARD]), None


def read_own_flags():
    """YNNPACK's flags as it sets them itself (run a small jit first)."""
    import jax
    import jax.numpy as jnp

    x = jnp.ones((4, 32, 32), jnp.float32)
    jax.jit(lambda a: jnp.einsum("bij,bjk->bik", a, a))(x).block_until_ready()
    where, why = addresses(library())
    if why:
        raise SystemExit(why)
    return ctypes.c_uint64.from_address(where[0]).value


def hold(isa):
    """Cap YNNPACK at isa ("AVX2" or "SSE4_2"); call after importing jax, before it runs
    anything. Returns (True, what was done) or (False, why not)."""
    if isa not in CAPS:
        return False, f"no YNNPACK cap known for {isa}"
    try:
        lib = library()
    except ImportError:
        return False, "jaxlib is not installed"
    if lib is None:
        return False, "jaxlib has no libjax_common.so"
    where, why = addresses(lib)
    if why:
        return False, why
    have = cpu_flags()
    expected = bits_of([n for n in LAYOUT if n in have])
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--read"], capture_output=True, text=True,
                           env={**os.environ, "XLA_FLAGS": ""})
    try:
        own = int(child.stdout.split()[-1], 0)
    except (IndexError, ValueError):
        return False, "could not read YNNPACK's own flags in a child process: " + child.stderr.strip()[-200:]
    if own & CHECKED != expected:
        return False, (f"YNNPACK's flags {own:#x} do not match /proc/cpuinfo under the known layout "
                       f"({expected:#x}): not capped")
    flags = ctypes.c_uint64.from_address(where[0])
    guard = ctypes.c_uint8.from_address(where[1])
    if guard.value != 0:
        return False, "YNNPACK's flags were already set: jax ran before the cap"
    flags.value = own & bits_of(CAPS[isa])  # the CPU's own flags, above the cap's cleared
    guard.value = 1
    return True, f"YNNPACK held to {isa} (its arch flags {own:#x} -> {flags.value:#x}, bench/ynn_cap.py)"


if __name__ == "__main__":
    if sys.argv[1:] == ["--read"]:
        print(hex(read_own_flags()))
    else:
        sys.exit(__doc__)
