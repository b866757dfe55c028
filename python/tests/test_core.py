"""The package against the iclcert command: run, batch, check and sample give the
same numbers on the same inputs; Prompt and Model round-trip exactly."""
import os
import tempfile
import unittest

import numpy as np

import iclcert
from _common import cli_file, cli_json, without


class PromptsAndModels(unittest.TestCase):
    def test_a_float_enters_as_its_exact_rational_value(self):
        p = iclcert.Prompt.from_arrays([[0.1, -2.0], [0.5, 1.0]], [0, 1], [0.25, 3.0], probe_label=1)
        self.assertEqual(p.to_dict()["X"][0][0], "3602879701896397/36028797018963968")
        self.assertEqual(p.to_dict()["probe"], ["1/4", "3"])
        self.assertEqual((p.d, p.C, p.N, p.probe_label), (2, 2, 2, 1))

    def test_prompt_and_model_round_trip_their_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = iclcert.Prompt.default()
            p.to_json(os.path.join(tmp, "p.json"))
            self.assertEqual(iclcert.Prompt.from_json(os.path.join(tmp, "p.json")), p)
            m = iclcert.Model.default()
            m.to_json(os.path.join(tmp, "m.json"))
            self.assertEqual(iclcert.Model.from_json(os.path.join(tmp, "m.json")), m)

    def test_a_dense_model_records_its_split_and_refuses_another(self):
        D = 5
        S = np.eye(D) * 0.5
        V = np.full((D, D), 0.125)
        m = iclcert.Model.dense([[(S, V)]], d=3, C=2)
        self.assertEqual((m.d, m.C), (3, 2))
        self.assertEqual(m.layers[0]["heads"][0]["score_matrix"][0][0], "1/2")
        with self.assertRaises(ValueError):
            iclcert.run(iclcert.sample(2, 3, 6).prompt(0), m)

    def test_bad_input_names_the_field(self):
        with self.assertRaises(iclcert.InputError) as e:
            iclcert.Prompt({"format": 1, "d": 2, "C": 2, "N": 1, "X": [["1", "x"]], "labels": [0], "probe": ["0", "0"]})
        self.assertIn("X", str(e.exception))
        with self.assertRaises(ValueError):
            iclcert.Prompt.from_arrays([[float("nan")]], [0], [0.0], C=2)


class SameAsTheCommand(unittest.TestCase):
    def test_sample_draws_the_commands_prompts(self):
        s = iclcert.sample(3, 3, 9, count=3, seed=11, balanced=True)
        batch = cli_file("sample", "-d", "3", "-C", "3", "-N", "9", "--count", "3", "--seed", "11", "--balanced")
        for k, expected in enumerate(batch["prompts"]):
            self.assertEqual(s.prompt(k).to_dict(), iclcert.Prompt({"format": 1, **expected}).to_dict())
        self.assertEqual(s.X.shape, (3, 10, 3))

    def test_run_returns_the_commands_trace(self):
        p = iclcert.sample(3, 2, 8, seed=5).prompt(0)
        with tempfile.TemporaryDirectory() as tmp:
            pf = p.to_json(os.path.join(tmp, "p.json")) and os.path.join(tmp, "p.json")
            for arith in ("double", "interval:128", "mpfr:128"):
                r = iclcert.run(p, arith=arith)
                _, expected = cli_json("run", "--prompt", pf, "--arith", arith)
                self.assertEqual(r.raw, expected, arith)
                self.assertEqual(len(r.metrics), 7)  # depth 0..6 of the default model
        # The DataFrame holds the file's numbers; enclosures as outward (lo, hi).
        r = iclcert.run(p, arith="interval:128")
        fisher = r.raw["layers"][3]["metrics"]["fisher"]
        self.assertLessEqual(r.metrics["fisher_lo"][3], float(fisher[0]))
        self.assertGreaterEqual(r.metrics["fisher_hi"][3], float(fisher[1]))
        self.assertEqual(r.states[0]["X_lo"].shape, (9, 3))
        d = iclcert.run(p, arith="double")
        self.assertEqual(d.metrics["probe_margin"][6], float(d.raw["layers"][6]["metrics"]["probe_margin"]))
        np.testing.assert_array_equal(d.states[0]["X"][:8], p.X)

    def test_check_returns_the_commands_verdict(self):
        v = iclcert.check("A2", sample="3,3,9", seed=2)
        status, expected = cli_json("check", "--claim", "A2", "--sample", "3,3,9", "--seed", "2", allowed=(0, 1, 3))
        self.assertEqual(v.exit_status, status)
        self.assertEqual(v.status, expected["verdict"])
        self.assertEqual(without(v.evidence, "seconds", "precision_escalation"),
                         without(expected["evidence"], "seconds", "precision_escalation"))
        self.assertEqual(v.counterexample, expected["counterexample"])
        self.assertTrue(v.replay())

    def test_a_refuted_verdict_carries_a_replayable_counterexample(self):
        m = iclcert.Model({"format": 1, "layers": [{"beta": "0", "gamma": "-3", "alpha": "1", "alpha_label": "0"}] * 2})
        v = iclcert.check("A2", sample="2,2,6", seed=1, model=m)
        self.assertEqual(v.status, "refuted", v.log)
        self.assertIsNotNone(v.counterexample)
        self.assertTrue(v.replay(), getattr(v, "replay_log", ""))

    def test_replay_hands_the_verdict_over_in_memory(self):
        v = iclcert.check("A2", sample="3,3,9", seed=2)
        saved = tempfile.tempdir
        tempfile.tempdir = "/nonexistent/iclcert-no-temporary-files"  # any temporary file fails
        try:
            self.assertTrue(v.replay(), getattr(v, "replay_log", ""))
        finally:
            tempfile.tempdir = saved
        self.assertTrue(v.replay_log.startswith("replaying Python Verdict (recorded verdict: "), v.replay_log)
        bad = iclcert.Verdict(0, dict(v.raw, claim="Z9"), "")
        with self.assertRaises(ValueError):
            bad.replay()

    def test_batch_returns_the_commands_results(self):
        ignore = ("seconds", "validation_seconds", "peak_memory_kib", "device", "model", "source")
        b = iclcert.batch(sample="3,3,12", count=40, seed=3, validate=5, threads=1)
        _, expected = cli_json("batch", "--sample", "3,3,12", "--prompts", "40", "--seed", "3", "--validate", "5",
                               "--threads", "1", "--no-progress")
        self.assertEqual(without(b.raw, *ignore), without(expected, *ignore))
        self.assertEqual(list(b.predictions), expected["predictions"])
        # The same prompts as arrays give the same numbers.
        s = iclcert.sample(3, 3, 12, count=40, seed=3)
        a = iclcert.batch(s, validate=5, threads=1)
        self.assertEqual(without(a.raw, *ignore), without(b.raw, *ignore))
        self.assertEqual(len(a.validation), 7)

    def test_batch_certify_returns_the_commands_certification(self):
        s = iclcert.sample(3, 2, 8, count=12, seed=4)
        b = iclcert.batch(s, arith="float64", certify=True, threads=1)
        with tempfile.TemporaryDirectory() as tmp:
            s.to_json(os.path.join(tmp, "p.json"))
            _, expected = cli_json("batch", "--prompt-file", os.path.join(tmp, "p.json"), "--arith", "float64",
                                   "--certify", "--threads", "1", "--no-progress")
        self.assertEqual(without(b.raw["certification"], "seconds"), without(expected["certification"], "seconds"))
        self.assertEqual(len(b.certification), 12)
        self.assertTrue((b.certification["margin_lo"] <= b.certification["margin_hi"]).all())


if __name__ == "__main__":
    unittest.main()
