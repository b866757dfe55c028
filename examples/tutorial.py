"""iclcert from PyTorch in about 60 lines (docs/python.md): train a 2-layer attention
model, import it, check E1, extract the reduced recursion, compare with
certification, and plot. Each result is explained where it is printed.
Run: PYTHONPATH=build/python /usr/bin/python3 examples/tutorial.py OUT"""
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
print("  (cross-entropy of the probe's label part; ln 3 = 1.099 is chance for C = 3 classes)")

m = iclcert.torch.from_module(model, d=d, C=C)                  # import: exact, d and C recorded
e1 = iclcert.check("E1", model=m, sample=f"{d},{C},{N}")        # is every layer equivariant?
print("E1:", e1.status)
# A plain nn.MultiheadAttention has dense weights: nothing ties them to the symmetry of the
# task (permuting features or labels), so E1 is expected to fail, and "refuted" is certified:
# iclcert found a permutation whose output differs by more than any rounding could explain.
print("  E1: does every layer commute with permutations of features, labels and tokens?\n"
      "  Refuted is expected for dense weights trained without that symmetry (theory/claims.md)")
e = iclcert.extract(m)                                          # the reduced recursion, E3 residuals per layer
print(e.layers[["layer", "residual_score", "residual_value"]].to_string(index=False))
# residual = |W - P(W)|_F / |W|_F, the share of a score or value matrix outside the
# equivariant span {M(theta)} (theory/extraction.md): 0 is exactly equivariant; about 0.99
# means almost all of the weights break the symmetry, so the reduced recursion (P(W) only)
# keeps little of this model. A model trained with the symmetry built in scores near 0.
print("  residual: the relative size of the part of each matrix outside the equivariant span\n"
      "  (0: equivariant; near 1: the reduced recursion keeps little of this layer)")
prompts = iclcert.sample(d, C, N, count=200, seed=7)
c = iclcert.compare(m, e.reduced_model, prompts, certify=True)  # float path, every prediction certified
print(c.layers[["t", "accuracy_a", "accuracy_b", "agreement"]].to_string(index=False))
# Per depth t: the accuracy of the trained model (a) and of its reduced recursion (b), and the
# share of prompts on which they predict the same class. At t = 0 nothing is predicted yet (the
# probe's label part is 0, a tie), so the row reads accuracy 0 and agreement 1.
# With 3 classes, chance agreement is about 1/3: an agreement near 0.26 says the reduced
# recursion does not stand in for this model, as the residuals above predicted.
print("  accuracy: share of prompts predicted right (1/3 by chance); agreement: share where both\n"
      "  models predict the same class (about 1/3 by chance); t = 0 predicts nothing (0 and 1 there)")
print("both certified:", c.certify["both_certified"], "of", len(prompts))
# Certified: on that many prompts both models' final predictions were proved to be what exact
# arithmetic gives (float64 intervals, Arb where needed), so the accuracies and the agreement
# above are facts about the models, not rounding. It certifies the predictions, not that they
# are correct or that the two models agree; certified_disagree counts certain disagreements.
print("  both certified: prompts on which both final predictions are proved equal to the exact ones;\n"
      f"  the models certainly disagree on {c.certify['certified_disagree']} of them")
iclcert.plot.compare(c, names=["trained", "reduced"]).savefig(os.path.join(out, "compare.png"))
iclcert.plot.metrics(iclcert.run(prompts.prompt(0), m, arith="interval:128")).savefig(os.path.join(out, "metrics.png"))
print("figures in", out, "(how to read them: docs/figures.md)")
