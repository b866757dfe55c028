"""iclcert.torch: a stack of nn.MultiheadAttention imported exactly (biases where
the recursion allows them), checked against PyTorch's own forward pass."""
import os
import tempfile
import unittest

import numpy as np

import iclcert
from _common import SOURCE

try:
    import torch

    import iclcert.torch as it
except ImportError:  # Debian's python3-torch is installed by scripts/install-deps.sh --test
    torch = None

D, C, N = 3, 2, 8
SEED = 20260601


@unittest.skipIf(torch is None, "PyTorch is not installed (apt-get install python3-torch): torch import tests skipped")
class TorchImport(unittest.TestCase):
    def model(self, bias=True):
        torch.manual_seed(SEED)
        print(f"seed {SEED}")
        return torch.nn.Sequential(*[torch.nn.MultiheadAttention(D + C, 1, bias=bias, dtype=torch.float64)
                                     for _ in range(2)])

    def torch_forward(self, model, prompt):
        """The residual attention stack of iclcert's layer, keys = the training tokens."""
        Z = torch.zeros(N + 1, D + C, dtype=torch.float64)
        Z[:N, :D] = torch.tensor(prompt.X)
        Z[N, :D] = torch.tensor(prompt.probe)
        Z[:N, D:] = torch.nn.functional.one_hot(torch.tensor(prompt.labels), C).double()
        with torch.no_grad():
            for mha in model:
                keys = Z[:N].unsqueeze(1)
                out, _ = mha(Z.unsqueeze(1), keys, keys)
                Z = Z + out.squeeze(1)
        return Z.numpy()

    def test_from_module_runs_as_pytorch_does_with_a_key_bias(self):
        model = self.model()
        with torch.no_grad():
            for mha in model:
                mha.in_proj_bias[D + C:2 * (D + C)].normal_()  # the key bias: the softmax ignores it
        m = it.from_module(model, d=D, C=C)
        self.assertEqual((m.d, m.C, len(m.layers)), (D, C, 2))
        p = iclcert.sample(D, C, N, seed=3).prompt(0)
        r = iclcert.run(p, m, arith="double")
        expected = self.torch_forward(model, p)
        got = np.concatenate([r.states[-1]["X"], r.states[-1]["Y"]], axis=1)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)

    def test_a_query_or_output_bias_is_refused_with_the_reason(self):
        model = self.model()
        with torch.no_grad():
            model[1].in_proj_bias[:D + C].normal_()
        with self.assertRaisesRegex(ValueError, "layer 2.*query bias"):
            it.from_module(model, d=D, C=C)
        model = self.model()
        with torch.no_grad():
            model[0].out_proj.bias.normal_()
        with self.assertRaisesRegex(ValueError, "layer 1.*output biases"):
            it.from_module(model, d=D, C=C)

    def test_weight_files_pt_and_npz_give_the_same_model(self):
        model = self.model(bias=False)
        m = it.from_module(model, d=D, C=C)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(model.state_dict(), os.path.join(tmp, "w.pt"))
            np.savez(os.path.join(tmp, "w.npz"), **{k: v.numpy() for k, v in model.state_dict().items()})
            self.assertEqual(it.load_weights(os.path.join(tmp, "w.pt"), D, C, heads=1), m)
            self.assertEqual(it.load_weights(os.path.join(tmp, "w.npz"), D, C, heads=1), m)
            try:
                import safetensors  # noqa: F401
            except ImportError:
                with self.assertRaisesRegex(ImportError, "safetensors"):
                    it.load_weights(os.path.join(tmp, "w.safetensors"), D, C, heads=1)

    def test_from_matrices_equals_from_module(self):
        model = self.model(bias=False)
        mha = model[0]
        E = D + C
        w = mha.in_proj_weight
        m = it.from_matrices(w[:E], w[E:2 * E], w[2 * E:], mha.out_proj.weight, 1, D, C)
        self.assertEqual(m.layers[0], it.from_module(model, D, C).layers[0])

    def test_prompts_and_predictions_files_feed_compare(self):
        model = self.model(bias=False)
        s = iclcert.sample(D, C, N, count=10, seed=5)
        preds, logits = [], []
        for k in range(10):
            Z = self.torch_forward(model, s.prompt(k))
            logits.append(Z[N, D:])
            preds.append(int(np.argmax(Z[N, D:])))
        with tempfile.TemporaryDirectory() as tmp:
            X = torch.tensor(s.X[:, :N])
            it.write_prompts(os.path.join(tmp, "p.json"), X, torch.tensor(s.labels), torch.tensor(s.X[:, N]),
                             torch.tensor(s.probe_labels), C=C)
            it.write_predictions(os.path.join(tmp, "pred.json"), preds, np.array(logits))
            m = it.from_module(model, D, C)
            c = iclcert.compare(m, m, os.path.join(tmp, "p.json"), predictions=os.path.join(tmp, "pred.json"),
                                arith="float64", threads=1)
        self.assertEqual(c.exit_status, 0, c.log)
        self.assertEqual(float(c.raw["exported_predictions"]["agreement_a"]), 1.0)

    def test_tokens_and_forward_are_what_from_module_imports(self):
        model = self.model()
        with torch.no_grad():
            for mha in model:
                mha.in_proj_bias[D + C:2 * (D + C)].normal_()
        s = iclcert.sample(D, C, N, count=3, seed=8)
        Z = it.forward(model, it.tokens(s, model), N).detach().numpy()
        m = it.from_module(model, D, C)
        for k in range(3):
            r = iclcert.run(s.prompt(k), m, arith="double")
            got = np.concatenate([r.states[-1]["X"], r.states[-1]["Y"]], axis=1)
            np.testing.assert_allclose(Z[k], got, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(Z[k], self.torch_forward(model, s.prompt(k)), rtol=1e-12, atol=1e-14)

    def test_tokens_take_the_models_dtype_and_a_float32_model_trains(self):
        """PyTorch's default: float32 layers; tokens() in the default dtype, or the model's."""
        torch.manual_seed(SEED)
        model = torch.nn.Sequential(*[torch.nn.MultiheadAttention(D + C, 1) for _ in range(2)])
        s = iclcert.sample(D, C, N, count=4, seed=8)
        self.assertEqual(it.tokens(s).dtype, torch.get_default_dtype())
        self.assertEqual(it.tokens(s, model).dtype, torch.float32)
        self.assertEqual(it.tokens(s, torch.float64).dtype, torch.float64)
        self.assertEqual(it.tokens(s, self.model()).dtype, torch.float64)
        logits = it.forward(model, it.tokens(s, torch.float64), N)[:, N, D:]  # cast to the layers' dtype
        self.assertEqual(logits.dtype, torch.float32)
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(s.probe_labels))
        loss.backward()
        self.assertTrue(torch.isfinite(loss))

    def test_a_plain_list_of_layers_is_a_model(self):
        model = self.model()
        layers = list(model)
        self.assertEqual(it.from_module(layers, D, C), it.from_module(model, D, C))
        self.assertEqual(it.from_module(iter(layers), D, C), it.from_module(model, D, C))
        s = iclcert.sample(D, C, N, count=2, seed=8)
        Z = it.tokens(s, layers)
        self.assertTrue(torch.equal(it.forward(layers, Z, N), it.forward(model, Z, N)))
        with self.assertRaisesRegex(TypeError, "item 1 is a str"):
            it.from_module([layers[0], "layer"], D, C)
        with self.assertRaisesRegex(TypeError, "expected an nn.Module or an iterable"):
            it.from_module(3, D, C)


@unittest.skipIf(torch is None, "PyTorch is not installed")
class FiveLines(unittest.TestCase):
    def test_the_pytorch_lines_of_docs_python_md_certify_a_compare(self):
        """docs/python.md's PyTorch block, run as written on a user's 2-layer
        nn.MultiheadAttention (bias=True, PyTorch's default, with a trained-like key bias)."""
        with open(os.path.join(SOURCE, "docs", "python.md")) as f:
            text = f.read()
        section = text[text.index("## PyTorch"):]
        block = []
        for line in section.splitlines()[1:]:
            if line.startswith("    "):
                block.append(line[4:])
            elif block:
                break
        self.assertLessEqual(len(block), 5, block)
        torch.manual_seed(SEED)
        print(f"seed {SEED}")
        model = torch.nn.Sequential(*[torch.nn.MultiheadAttention(7, 1) for _ in range(2)])  # float32, bias=True
        with torch.no_grad():
            for mha in model:
                mha.in_proj_bias[7:14].normal_()  # the key bias
        scope = {"model": model}
        exec("\n".join(block), scope)
        c = scope["c"]
        self.assertEqual(c.exit_status, 0, c.log)
        n = c.raw["prompts"]
        self.assertGreater(n, 0)
        cert = c.certify
        self.assertEqual(cert["certified_agree"] + cert["certified_disagree"], cert["both_certified"])
        self.assertGreater(cert["both_certified"], n // 2, cert)


if __name__ == "__main__":
    unittest.main()
