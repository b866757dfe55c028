"""iclcert from PyTorch in under 40 lines (docs/python.md): train a 2-layer attention
model, import it, check E1, extract the reduced recursion, compare with
certification, and plot. Run: PYTHONPATH=build/python /usr/bin/python3 examples/tutorial.py OUT"""
import os
import sys

import torch

import iclcert
import iclcert.plot
import iclcert.torch

out = sys.argv[1] if len(sys.argv) > 1 else "tutorial_out"
os.makedirs(out, exist_ok=True)
d, C, N = 4, 3, 16
torch.manual_seed(1)  # your model: attention layers of embed_dim d + C, iclcert's residual layer
model = torch.nn.Sequential(*[torch.nn.MultiheadAttention(d + C, 1, bias=False, dtype=torch.float64) for _ in range(2)])
train = iclcert.sample(d, C, N, count=256, seed=100)            # training prompts from iclcert's sampler
Z, y = iclcert.torch.tokens(train, model), torch.from_numpy(train.probe_labels)
opt = torch.optim.Adam(model.parameters(), lr=0.03)
for step in range(60):                                          # the probe's label part as logits
    loss = torch.nn.functional.cross_entropy(iclcert.torch.forward(model, Z, N)[:, N, d:], y)
    opt.zero_grad(), loss.backward(), opt.step()
print(f"training loss {loss.item():.3f}")

m = iclcert.torch.from_module(model, d=d, C=C)                  # import: exact, d and C recorded
e1 = iclcert.check("E1", model=m, sample=f"{d},{C},{N}")        # is every layer equivariant?
print("E1:", e1.status)
e = iclcert.extract(m)                                          # the reduced recursion, E3 residuals per layer
print(e.layers[["layer", "residual_score", "residual_value"]].to_string(index=False))
prompts = iclcert.sample(d, C, N, count=200, seed=7)
c = iclcert.compare(m, e.reduced_model, prompts, certify=True)  # float path, every prediction certified
print(c.layers[["t", "accuracy_a", "accuracy_b", "agreement"]].to_string(index=False))
print("both certified:", c.certify["both_certified"], "of", len(prompts))
iclcert.plot.compare(c).savefig(os.path.join(out, "compare.png"))
iclcert.plot.metrics(iclcert.run(prompts.prompt(0), m, arith="interval:128")).savefig(os.path.join(out, "metrics.png"))
print("figures in", out)
