"""extract, compare and fuzz from Python: the library's calls (api/), the same JSON
as the command on the same inputs."""
import os
import tempfile
import unittest

import iclcert
from _common import SOURCE, cli_json, without

TRAINED = os.path.join(SOURCE, "examples", "trained", "trained_equivariant_model.json")


class Commands(unittest.TestCase):
    def test_extract_matches_the_command(self):
        e = iclcert.extract(TRAINED, d=4)
        _, expected = cli_json("extract", "--model", TRAINED, "--d", "4")
        ignore = ("model", "reduced_model", "full_model")  # the file names: Python writes both models to files
        self.assertEqual(without(e.raw, *ignore), without(expected, *ignore))
        self.assertEqual(len(e.layers), 4)
        self.assertEqual(len(e.reduced_model.layers), 4)
        self.assertIn("beta", e.reduced_model.layers[0])

    def test_compare_with_certification_matches_the_command(self):
        s = iclcert.sample(4, 3, 16, count=30, seed=9)
        e = iclcert.extract(TRAINED, d=4)
        c = iclcert.compare(TRAINED, e.reduced_model, s, certify=True, threads=1)
        with tempfile.TemporaryDirectory() as tmp:
            s.to_json(os.path.join(tmp, "p.json"))
            e.reduced_model.to_json(os.path.join(tmp, "r.json"))
            _, expected = cli_json("compare", "--model", TRAINED, "--against", os.path.join(tmp, "r.json"),
                                   "--prompt-file", os.path.join(tmp, "p.json"), "--certify", "--threads", "1",
                                   "--no-progress")
        self.assertEqual(c.raw["layers"], expected["layers"])
        self.assertEqual(c.raw["baselines"], expected["baselines"])
        self.assertEqual(c.certify["both_certified"], expected["certify"]["both_certified"])
        self.assertEqual(len(c.layers), 5)
        self.assertEqual(len(c.baselines), 3)

    def test_bad_input_raises(self):
        with self.assertRaises(iclcert.InputError):
            iclcert.extract({"format": 1, "layers": "nope"})

    def test_fuzz_equivariance_of_the_trained_weights_holds(self):
        f = iclcert.fuzz("equivariance", TRAINED, sample="4,3,6", cases=5, seed=1)
        self.assertEqual(f.status, "held", f.log)
        self.assertIsNone(f.counterexample)


if __name__ == "__main__":
    unittest.main()
