#!/usr/bin/env python3
"""Checks iclcert_export against PyTorch itself: for random torch.nn.MultiheadAttention
layers (bias=False), the update sum_h softmax(Z S_h K^T) K V_h^T computed from the
exported (S_h, V_h) equals the module's own output, in float64, to 1e-12 relative.
Run by tests/cli/train_smoke_test.sh; exits 1 on a mismatch."""
import sys

import torch

from iclcert_export import from_multihead_attention, model_dict


def main():
    torch.manual_seed(3)
    worst = 0.0
    for D, H in [(7, 1), (8, 2), (12, 4)]:
        mha = torch.nn.MultiheadAttention(D, H, bias=False, batch_first=True, dtype=torch.float64)
        Z = torch.randn(5, 11, D, dtype=torch.float64)  # 5 prompts, N = 10 training tokens and the probe
        keys = Z[:, :10, :]
        expected, _ = mha(Z, keys, keys, need_weights=False)
        got = torch.zeros_like(Z)
        for S, V in from_multihead_attention(mha):
            A = torch.softmax(torch.einsum("bjd,de,bie->bji", Z, S, keys), dim=2)
            got += torch.einsum("bji,bie,de->bjd", A, keys, V)
        err = float((got - expected).abs().max() / expected.abs().max())
        worst = max(worst, err)
        model = model_dict([from_multihead_attention(mha)])
        assert len(model["layers"][0]["heads"]) == H
        assert len(model["layers"][0]["heads"][0]["score_matrix"]) == D
    print(f"check_export: largest relative difference from torch.nn.MultiheadAttention {worst:.2e}")
    try:
        from_multihead_attention(torch.nn.MultiheadAttention(4, 1, bias=True))
        print("check_export: a layer with biases was not refused")
        return 1
    except ValueError:
        pass
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
