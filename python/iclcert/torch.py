"""PyTorch import (optional: torch is imported when a function needs it).

iclcert's layer is attention-only with a residual connection, no layer norm and
no MLP, the keys being the N training tokens (the probe too with probe_is_key):

    z_j <- z_j + sum_h sum_i A^h_ji V_h z_i,   A^h_ji = softmax_i(z_j^T S_h z_i),
    S_h = W_q,h^T W_k,h / sqrt(head_dim),      V_h = W_o[:, h] W_v,h.

Biases of torch.nn.MultiheadAttention (q = W_q z + b_q, k = W_k z + b_k, ...):
  - the key bias b_k adds z_j^T W_q^T b_k + b_q^T b_k to every score of query j, a
    constant over the keys, which the softmax ignores: accepted, exactly;
  - the query bias b_q adds b_q,h^T W_k,h z_i, a term of the key alone that
    s_ji = z_j^T S z_i cannot express: accepted only when W_k,h^T b_q,h = 0 exactly
    (b_q = 0, PyTorch's initial value), refused otherwise;
  - the value and output biases add the constant b_o + sum_h W_o,h b_v,h to every
    token (the softmax weights sum to 1), which the layer cannot express: accepted
    only when that vector is exactly 0, refused otherwise.
The checks are exact (rational arithmetic on the float weights).

A model records d and C and probe_is_key, so no split is ever guessed.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import Model, Samples

if TYPE_CHECKING:
    import torch

# An nn.Module holding nn.MultiheadAttention layers, or any iterable of such layers
# (or of modules holding them): a plain list works.
Layers = Union["torch.nn.Module", Iterable["torch.nn.Module"]]


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("iclcert.torch needs PyTorch (Debian: apt-get install python3-torch)") from e
    return torch


def _attention_layers(model: Layers) -> list:
    """The nn.MultiheadAttention layers of a module, in `model.modules()` order, or
    of an iterable of layers or modules, each in turn."""
    torch = _torch()
    mha = torch.nn.MultiheadAttention
    if isinstance(model, torch.nn.Module):
        return [m for m in model.modules() if isinstance(m, mha)]
    try:
        items = list(model)
    except TypeError:
        raise TypeError("expected an nn.Module or an iterable of nn.MultiheadAttention layers, got "
                        f"{type(model).__name__}") from None
    layers = []
    for k, item in enumerate(items):
        if not isinstance(item, torch.nn.Module):
            raise TypeError(f"item {k} is a {type(item).__name__}, not an nn.MultiheadAttention "
                            "(or a module holding some)")
        layers += [m for m in item.modules() if isinstance(m, mha)]
    return layers


def _layers_dtype(layers: list) -> "torch.dtype":
    return next(p for m in layers for p in m.parameters()).dtype


def _array(t):
    """A float64 NumPy array of a tensor or array: float32 weights widen exactly."""
    if hasattr(t, "detach"):
        t = t.detach().cpu().double().numpy()
    return np.asarray(t, dtype=np.float64)


def _exact_zero(vector):
    return all(Fraction(float(v)) == 0 for v in vector)


def _exact_matvec_zero(M, v):
    """M v == 0 computed exactly."""
    v = [Fraction(float(x)) for x in v]
    return all(sum(Fraction(float(a)) * b for a, b in zip(row, v)) == 0 for row in M)


def head_matrices(W_q: Any, W_k: Any, W_v: Any, W_o: Any, heads: int,
                  scale: float | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-head (S, V) from projections W_q, W_k, W_v (E, D) and W_o (D, E) (tensors
    or arrays), as float64 arrays: S_h = scale W_q,h^T W_k,h with scale =
    1/sqrt(E/heads) by default, V_h = W_o[:, h] W_v,h."""
    W_q, W_k, W_v, W_o = (_array(w) for w in (W_q, W_k, W_v, W_o))
    E = W_q.shape[0]
    if E % heads:
        raise ValueError(f"embed dim {E} is not divisible by {heads} heads")
    dh = E // heads
    scale = 1.0 / math.sqrt(dh) if scale is None else scale
    out = []
    for h in range(heads):
        rows = slice(h * dh, (h + 1) * dh)
        out.append((scale * (W_q[rows].T @ W_k[rows]), W_o[:, rows] @ W_v[rows]))
    return out


def _layer_of(mha, index):
    """(S, V) per head of one nn.MultiheadAttention, its biases checked."""
    where = f"layer {index} (nn.MultiheadAttention)"
    if getattr(mha, "bias_k", None) is not None or getattr(mha, "bias_v", None) is not None:
        raise ValueError(f"{where}: add_bias_kv appends a learned key/value token, which iclcert's layer has not")
    if getattr(mha, "add_zero_attn", False):
        raise ValueError(f"{where}: add_zero_attn appends a zero token, which iclcert's layer has not")
    if mha.in_proj_weight is None:
        raise ValueError(f"{where}: kdim/vdim differ from embed_dim: keys and values must be the tokens themselves")
    w = _array(mha.in_proj_weight)
    E, H = mha.embed_dim, mha.num_heads
    W_q, W_k, W_v, W_o = w[:E], w[E:2 * E], w[2 * E:], _array(mha.out_proj.weight)
    dh = E // H
    if mha.in_proj_bias is not None:
        b = _array(mha.in_proj_bias)
        b_q, b_v = b[:E], b[2 * E:]
        for h in range(H):
            rows = slice(h * dh, (h + 1) * dh)
            if not _exact_zero(b_q[rows]) and not _exact_matvec_zero(W_k[rows].T, b_q[rows]):
                raise ValueError(f"{where}, head {h}: the query bias adds a score term of the key alone "
                                 "(b_q^T W_k z_i), which s_ji = z_j^T S z_i cannot express; train with b_q = 0 "
                                 "(the key bias is fine: the softmax ignores it)")
        shift = [Fraction(0)] * E
        for h in range(H):
            rows = slice(h * dh, (h + 1) * dh)
            Wo_h, bv_h = W_o[:, rows], b_v[rows]
            for r in range(E):
                shift[r] += sum(Fraction(float(a)) * Fraction(float(c)) for a, c in zip(Wo_h[r], bv_h))
    else:
        shift = [Fraction(0)] * E
    if mha.out_proj.bias is not None:
        for r, v in enumerate(_array(mha.out_proj.bias)):
            shift[r] += Fraction(float(v))
    if any(s != 0 for s in shift):
        raise ValueError(f"{where}: the value and output biases add the constant b_o + W_o b_v to every token, "
                         "which iclcert's layer z_j += sum_i A_ji V z_i cannot express; train with "
                         "bias=False or keep only the key bias (in_proj_bias[E:2E])")
    return head_matrices(W_q, W_k, W_v, W_o, H)


def from_matrices(W_q: Any, W_k: Any, W_v: Any, W_o: Any, heads: int, d: int, C: int, **options: Any) -> Model:
    """A one-layer Model from raw projections (see head_matrices); for several
    layers pass lists of the four matrices. options: kernel, probe_is_key,
    probe_label_init (as Model.dense)."""
    if isinstance(W_q, (list, tuple)):
        layers = [head_matrices(q, k, v, o, heads) for q, k, v, o in zip(W_q, W_k, W_v, W_o)]
    else:
        layers = [head_matrices(W_q, W_k, W_v, W_o, heads)]
    return Model.dense(layers, d, C, **options)


def from_module(model: Layers, d: int, C: int, probe_is_key: bool = False, kernel: str = "softmax",
                probe_label_init: str = "zero") -> Model:
    """A Model from nn.MultiheadAttention layers (embed_dim d + C): a module holding
    them, in the order `model.modules()` visits them (a single
    nn.MultiheadAttention, an nn.Sequential or nn.ModuleList of them, or your own
    module), or any iterable of layers (a plain list). They are taken to compute
    iclcert's layer: residual, no layer norm, no MLP. Biases: accepted where the
    recursion allows them, else refused with the reason (module doc). Weights of
    any float dtype enter exactly. d, C and probe_is_key are recorded in the model."""
    layers = _attention_layers(model)
    if not layers:
        raise ValueError("from_module: no nn.MultiheadAttention in this module")
    for k, m in enumerate(layers, 1):
        if m.embed_dim != d + C:
            raise ValueError(f"layer {k}: embed_dim {m.embed_dim} differs from d + C = {d + C}")
    return Model.dense([_layer_of(m, k) for k, m in enumerate(layers, 1)], d, C, kernel=kernel,
                       probe_is_key=probe_is_key, probe_label_init=probe_label_init)


def load_weights(path: str | os.PathLike[str], d: int, C: int, heads: int, prefix: str = "",
                 **options: Any) -> Model:
    """A Model from a weight file: safetensors (.safetensors, needs the `safetensors`
    module), PyTorch (.pt/.pth, a state_dict) or NumPy (.npz). Layer k's weights are
    PREFIX{k}.in_proj_weight (3E x E: W_q, W_k, W_v), PREFIX{k}.out_proj.weight and
    the optional biases PREFIX{k}.in_proj_bias and PREFIX{k}.out_proj.bias, as
    nn.MultiheadAttention names them (k from 0). Checked like from_module."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError as e:
            raise ImportError(f"{path}: reading .safetensors needs the safetensors module (pip install safetensors); "
                              "or save the state_dict with torch.save (.pt) or numpy.savez (.npz)") from e
        tensors = load_file(str(path))
    elif ext in (".pt", ".pth"):
        tensors = _torch().load(str(path), map_location="cpu")
        if not isinstance(tensors, dict):
            tensors = tensors.state_dict()
    elif ext == ".npz":
        with np.load(str(path)) as f:
            tensors = {k: f[k] for k in f.files}
    else:
        raise ValueError(f"{path}: expected a .safetensors, .pt, .pth or .npz file")
    torch = _torch()
    E = d + C
    layers = []
    k = 0
    while f"{prefix}{k}.in_proj_weight" in tensors:
        mha = torch.nn.MultiheadAttention(E, heads, bias=True, dtype=torch.float64)
        with torch.no_grad():
            def get(name):
                return torch.as_tensor(np.asarray(_array(tensors[name])))
            mha.in_proj_weight.copy_(get(f"{prefix}{k}.in_proj_weight"))
            mha.out_proj.weight.copy_(get(f"{prefix}{k}.out_proj.weight"))
            mha.in_proj_bias.zero_()
            mha.out_proj.bias.zero_()
            if f"{prefix}{k}.in_proj_bias" in tensors:
                mha.in_proj_bias.copy_(get(f"{prefix}{k}.in_proj_bias"))
            if f"{prefix}{k}.out_proj.bias" in tensors:
                mha.out_proj.bias.copy_(get(f"{prefix}{k}.out_proj.bias"))
        layers.append(mha)
        k += 1
    if not layers:
        raise ValueError(f"{path}: no {prefix}0.in_proj_weight (keys: {sorted(tensors)[:8]})")
    return from_module(torch.nn.Sequential(*layers), d, C, **options)


def tokens(prompts: Samples, dtype: "torch.dtype | Layers | None" = None) -> "torch.Tensor":
    """The input tokens of iclcert's recursion as a tensor Z[B, N+1, d+C]: row i < N
    is x_i with the one-hot label y_i, row N the probe with zero label part
    (probe_label_init "zero"). prompts: Samples (see iclcert.sample).

    dtype: a torch dtype, or the model (a module or layers, as from_module takes)
    whose dtype to use; default torch.get_default_dtype() (float32 unless set). The
    sampler's numbers are doubles: only float64 holds them exactly."""
    torch = _torch()
    if dtype is None:
        dtype = torch.get_default_dtype()
    elif not isinstance(dtype, torch.dtype):
        layers = _attention_layers(dtype)
        if not layers:
            raise ValueError("tokens: no nn.MultiheadAttention in this model to take the dtype of")
        dtype = _layers_dtype(layers)
    B, n1, d = prompts.X.shape
    Z = torch.zeros(B, n1, d + prompts.C, dtype=torch.float64)
    Z[:, :, :d] = torch.from_numpy(prompts.X)
    Z[:, :n1 - 1, d:] = torch.nn.functional.one_hot(torch.from_numpy(prompts.labels), prompts.C).double()
    return Z.to(dtype)


def forward(model: Layers, Z: "torch.Tensor", N: int, probe_is_key: bool = False) -> "torch.Tensor":
    """The nn.MultiheadAttention layers of model (a module, in `model.modules()`
    order, or an iterable of layers) run as iclcert's layer, in PyTorch (for
    training): every token z_j += attention of z_j over the keys z_1..z_N (and the
    probe with probe_is_key), residual, no layer norm. Z[B, N+1, E], cast to the
    layers' dtype; returns the final tokens; the probe's logits are [:, N, d:].
    This is what from_module imports."""
    layers = _attention_layers(model)
    if layers:
        Z = Z.to(_layers_dtype(layers))
    for mha in layers:
        keys = Z if probe_is_key else Z[:, :N]
        q, k = (Z, keys) if mha.batch_first else (Z.transpose(0, 1), keys.transpose(0, 1))
        out, _ = mha(q, k, k, need_weights=False)
        Z = Z + (out if mha.batch_first else out.transpose(0, 1))
    return Z


def write_prompts(path: str | os.PathLike[str], X: Any, labels: Any, probe: Any, probe_labels: Any = None,
                  C: int | None = None) -> Samples:
    """The batch prompt file (docs/formats.md) of tensors X[B, N, d], labels[B, N],
    probe[B, d], probe_labels[B] (tensors or arrays): every float exactly. Returns
    them as Samples."""
    X, probe = _array(X), _array(probe)
    full = np.concatenate([X, probe[:, None, :]], axis=1)
    pl = None if probe_labels is None else _array(probe_labels).astype(np.int64)
    s = Samples(full, _array(labels).astype(np.int64), pl, C)
    s.to_json(path)
    return s


def write_predictions(path: str | os.PathLike[str], predictions: Any, logits: Any = None, model: str | None = None,
                      prompts: str | None = None, arithmetic: str = "float32 (PyTorch)") -> dict:
    """The exported-predictions file `compare --predictions` reads: one class per
    prompt and optionally the probe logits (C per prompt), each float exactly;
    model and prompts: the files' names to record. Returns the file's dict."""
    preds = [int(c) for c in _array(predictions).astype(np.int64)]
    out = {"format": 1, "arithmetic": arithmetic, "predictions": preds}
    if model is not None:
        out["model"] = str(model)
    if prompts is not None:
        out["prompts"] = str(prompts)
    if logits is not None:
        out["probe_logits"] = [[repr(float(v)) for v in row] for row in _array(logits)]
    with open(path, "w") as f:
        json.dump(out, f)
    return out
