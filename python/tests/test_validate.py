"""iclcert.validate: a user's own float run (the shipped PyTorch predictions of the
trained model on its 1000 held-out prompts) against certified predictions; its
flips are those of `iclcert compare --certify` on the same inputs."""
import json
import os
import unittest

import numpy as np

import iclcert
from _common import SOURCE, cli_json

TRAINED = os.path.join(SOURCE, "examples", "trained")
MODEL = os.path.join(TRAINED, "trained_equivariant_model.json")
PROMPTS = os.path.join(TRAINED, "heldout_prompts.json")
PREDICTIONS = os.path.join(TRAINED, "trained_equivariant_predictions.json")


class Validate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(PREDICTIONS) as f:
            cls.exported = json.load(f)
        with open(PROMPTS) as f:
            cls.labels = [p["probe_label"] for p in json.load(f)["prompts"]]
        cls.result = iclcert.validate(MODEL, PROMPTS, np.array(cls.exported["predictions"]),
                                      logits=np.array(cls.exported["probe_logits"], dtype=float), threads=1)

    def test_1000_rows_with_the_columns(self):
        rows = self.result.rows
        self.assertEqual(len(rows), 1000)
        self.assertEqual(list(rows.columns), ["prompt", "label", "certified", "float_class", "flip", "margin_lo",
                                              "margin_hi", "float_margin"])
        self.assertEqual(rows["prompt"].tolist(), list(range(1000)))
        self.assertEqual(rows["float_class"].tolist(), self.exported["predictions"])
        self.assertEqual(rows["label"].tolist(), self.labels)
        self.assertTrue((rows["margin_lo"] <= rows["margin_hi"]).all())
        certified = rows[rows["certified"] >= 0]
        self.assertTrue((certified["margin_lo"] > 0).all())  # a certified class: its margin certainly > 0
        self.assertTrue((rows["float_margin"] >= 0).all())  # each float class is its logits' argmax

    def test_flips_equal_those_of_compare_certify(self):
        _, expected = cli_json("compare", "--model", MODEL, "--against", MODEL, "--prompt-file", PROMPTS,
                               "--predictions", PREDICTIONS, "--certify", "--no-baselines", "--threads", "1",
                               "--no-progress")
        # PyTorch's predictions are iclcert's float32 ones, so their flips are compare's.
        self.assertEqual(expected["exported_predictions"]["agreement_a"], 1.0)
        s = self.result.summary
        self.assertEqual(s["flips"], expected["certify"]["a"]["flips"])
        self.assertEqual(s["undecided"], expected["certify"]["a"]["undecided"])
        self.assertEqual(s["prompts"], 1000)
        self.assertEqual(self.result.exit_status, 1 if s["flips"] else 0)
        rows = self.result.rows
        certified = rows[rows["certified"] >= 0]
        self.assertEqual(s["labelled"], len(certified))
        self.assertEqual(s["correct"], int((certified["certified"] == certified["label"]).sum()))
        self.assertEqual(s["certified_accuracy"], s["correct"] / s["labelled"])

    def test_a_changed_prediction_is_a_flip_at_its_prompt(self):
        pred = np.array(self.exported["predictions"])
        moved = [3, 141, 592]
        for k in moved:
            pred[k] = (pred[k] + 1) % 3
        r = iclcert.validate(MODEL, PROMPTS, pred, threads=1, progress=False)
        self.assertEqual(r.flips.tolist(), [k for k in moved if self.result.rows["certified"][k] >= 0])
        self.assertEqual(r.summary["flips"], len(r.flips))
        self.assertEqual(r.exit_status, 1)

    def test_bad_predictions(self):
        sub = iclcert.sample(4, 3, 16, count=4, seed=3)
        with self.assertRaises(ValueError):
            iclcert.validate(MODEL, sub, [0, 1, 2])  # 3 predictions for 4 prompts
        with self.assertRaises(ValueError):
            iclcert.validate(MODEL, sub, [0, 1, 2, 3])  # class 3 of C = 3
        with self.assertRaises(TypeError):
            iclcert.validate(MODEL, sub, [0.5, 1, 2, 0])
        with self.assertRaises(TypeError):
            iclcert.validate(MODEL, sub, ["0", "1", "2", "0"])
        with self.assertRaises(ValueError):
            iclcert.validate(MODEL, sub, [0, 1, 2, 0], logits=np.zeros((4, 2)))


if __name__ == "__main__":
    unittest.main()
