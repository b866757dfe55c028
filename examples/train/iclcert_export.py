"""Write PyTorch attention weights as an iclcert model file (docs/formats.md).

iclcert's layer is attention-only with a residual connection, no layer norm and
no MLP, the keys being the N training tokens:

    z_j <- z_j + sum_h sum_i A^h_ji V_h z_i,   A^h_ji = softmax_i(z_j^T S_h z_i).

A model of that shape, however parametrised, maps onto dense layers (S_h, V_h):

    layer = [(S_1, V_1), ..., (S_H, V_H)]        S_h, V_h of shape (d+C, d+C)
    write_model("my_model.json", [layer_1, layer_2, ...])

and `head_matrices` converts the usual query/key/value/output projections (as in
torch.nn.MultiheadAttention with bias=False, embed_dim = d + C):

    S_h = scale * W_q,h^T W_k,h,   V_h = W_o[:, h] W_v,h,   scale = 1/sqrt(head_dim).

Biases are refused: a key bias adds a term that depends on the key alone, which
s_ji = z_j^T S z_i cannot express. Numbers are written as the shortest decimal that
reads back as the same double, so iclcert holds exactly the weights PyTorch had.
"""
import json
import math
import os


def number(v):
    return repr(float(v))


def matrix(m):
    return [[number(v) for v in row] for row in m.tolist()]


def head_matrices(w_q, w_k, w_v, w_o, num_heads, scale=None):
    """Per-head (S, V) from projections W_q, W_k, W_v of shape (E, D) and W_o of
    shape (D, E), E divisible by num_heads (torch.nn.MultiheadAttention stores
    in_proj_weight = cat(W_q, W_k, W_v) and out_proj.weight = W_o)."""
    E = w_q.shape[0]
    if E % num_heads:
        raise ValueError(f"embed dim {E} is not divisible by {num_heads} heads")
    dh = E // num_heads
    scale = 1.0 / math.sqrt(dh) if scale is None else scale
    heads = []
    for h in range(num_heads):
        rows = slice(h * dh, (h + 1) * dh)
        S = scale * (w_q[rows].T @ w_k[rows])
        V = w_o[:, rows] @ w_v[rows]
        heads.append((S, V))
    return heads


def from_multihead_attention(mha):
    """(S, V) per head of a torch.nn.MultiheadAttention without biases."""
    if mha.in_proj_bias is not None or mha.out_proj.bias is not None:
        raise ValueError("iclcert's layer has no biases: build nn.MultiheadAttention(..., bias=False)")
    if mha.in_proj_weight is None:
        raise ValueError("kdim/vdim different from embed_dim: keys and values must be the tokens themselves")
    w = mha.in_proj_weight.detach()
    E = mha.embed_dim
    return head_matrices(w[:E], w[E:2 * E], w[2 * E:], mha.out_proj.weight.detach(), mha.num_heads)


def model_dict(layers, kernel="softmax", probe_label_init="zero", probe_is_key=False, d=None, C=None):
    """layers: a list of layers, each a list of (S, V) per head. d and C (features and
    classes, d + C = the matrices' size) are recorded when given, and iclcert then refuses
    prompts of another split; give both or neither."""
    if (d is None) != (C is None):
        raise ValueError("give both d and C, or neither")
    out = {"format": 1}
    if d is not None:
        out.update({"d": int(d), "C": int(C)})
    out.update({"kernel": kernel, "probe_label_init": probe_label_init, "probe_is_key": probe_is_key,
                "layers": [{"heads": [{"score_matrix": matrix(S), "value_matrix": matrix(V)} for S, V in layer]}
                           for layer in layers]})
    return out


def full_model_dict(layers, kernel="softmax", probe_label_init="zero", probe_is_key=False):
    """layers: a list of layers, each a list of (theta_score, theta_value) per head,
    six numbers each in the order of theory/model.md section 3."""
    return {"format": 1, "kernel": kernel, "probe_label_init": probe_label_init, "probe_is_key": probe_is_key,
            "layers": [{"heads": [{"score": [number(v) for v in ts], "value": [number(v) for v in tv]}
                                  for ts, tv in layer]} for layer in layers]}


def write_json(path, obj, compact=False):
    """Whole or not at all: written beside the target, then renamed over it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":")) if compact else json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def write_model(path, layers, **options):
    write_json(path, model_dict(layers, **options))
