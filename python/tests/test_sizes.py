"""Issue 23: the Python calls refuse every bad size or type before any work, with
ValueError (a size, or a value beyond its range) or TypeError (a type), under the
limits the command applies to a batch file (docs/formats.md, "Limits"); and an
input that is not finite in the run's float type is refused, not answered."""
import unittest

import numpy as np

import iclcert


def arrays(B=2, N=1, d=2):
    """Prompts of the given sizes: X[B, N+1, d], labels[B, N] (every label 0)."""
    return np.zeros((B, N + 1, d)), np.zeros((B, N), dtype=np.int64)


class BadSizes(unittest.TestCase):
    def refused(self, X, labels, C, **kw):
        with self.assertRaises(ValueError) as e:
            iclcert.batch(X, labels=labels, C=C, threads=1, **kw)
        return str(e.exception)

    def test_the_issues_calls_raise_value_error(self):
        # N = 0 (labels of shape (2, 0)) with C = 0, then C = 1, d = 0, d = 300000 and C = 100000.
        self.assertIn("N (training points", self.refused(np.zeros((2, 1, 2)), np.zeros((2, 0), int), 0))
        self.assertIn("C (classes) = 1", self.refused(*arrays(), 1))
        self.assertIn("C (classes) = 0", self.refused(*arrays(), 0))
        self.assertIn("d (features, X.shape[2]) = 0", self.refused(*arrays(d=0), 2))
        self.assertIn("d (features, X.shape[2]) = 300000", self.refused(*arrays(B=1, d=300000), 2))
        self.assertIn("C (classes) = 100000", self.refused(*arrays(), 100000))
        self.assertIn("C (classes) = -3", self.refused(*arrays(), -3))

    def test_every_size_beyond_the_limits_of_a_batch_file(self):
        self.assertIn("B (prompts", self.refused(*arrays(B=0), 2))
        self.assertIn("d (features, X.shape[2]) = 1025", self.refused(*arrays(B=1, d=1025), 2))
        self.assertIn("N (training points, labels.shape[1]) = 65537", self.refused(*arrays(B=1, N=65537, d=1), 2))
        self.assertIn("N * (d + C) = 10280000", self.refused(*arrays(B=1, N=40000, d=1), 256))
        self.assertIn("B (prompts, X.shape[0]) = 1000001", self.refused(*arrays(B=1000001, N=1, d=1), 2))

    def test_shapes_that_do_not_match(self):
        X, labels = arrays()
        for bad_X, bad_labels in [(X[0], labels), (X, labels[0]), (X[:, :1], labels), (X[:1], labels),
                                  (X[..., None], labels), (X, labels[..., None])]:
            with self.subTest(X=bad_X.shape, labels=bad_labels.shape):
                with self.assertRaises(ValueError):
                    iclcert.batch(bad_X, labels=bad_labels, C=2, threads=1)
        with self.assertRaises(ValueError):
            iclcert.batch(X, labels=labels, probe_labels=np.zeros(3, int), C=2, threads=1)
        with self.assertRaises(ValueError):
            iclcert.batch(X, labels=labels + 2, C=2, threads=1)  # a label outside 0..C-1

    def test_options_out_of_range(self):
        X, labels = arrays()
        for kw in [{"threads": -1}, {"threads": 5000}, {"max_prec": 10}, {"count": 0, "sample": "2,2,2", "X": None}]:
            with self.subTest(**{k: v for k, v in kw.items() if k != "X"}):
                with self.assertRaises(ValueError):
                    if "sample" in kw:
                        iclcert.batch(sample=kw["sample"], count=kw["count"], threads=1)
                    else:
                        iclcert.batch(X, labels=labels, C=2, **kw)
        with self.assertRaises(ValueError):
            iclcert.sample(0, 2, 2)
        with self.assertRaises(ValueError):
            iclcert.sample(2, 1000, 2)


class BadTypes(unittest.TestCase):
    def test_arrays_of_the_wrong_type_raise_type_error(self):
        X, labels = arrays()
        for bad in [X.astype(str), X.astype(bool), X.astype(complex), np.full(X.shape, None, dtype=object)]:
            with self.subTest(X=bad.dtype):
                with self.assertRaises(TypeError):
                    iclcert.batch(bad, labels=labels, C=2, threads=1)
        for bad in [labels + 0.5, labels.astype(str), labels.astype(bool), labels.astype(complex)]:
            with self.subTest(labels=bad.dtype):
                with self.assertRaises(TypeError):
                    iclcert.batch(X, labels=bad, C=2, threads=1)
        with self.assertRaises(TypeError):
            iclcert.batch(X, labels=labels, probe_labels=np.full(2, 0.5), C=2, threads=1)

    def test_sizes_of_the_wrong_type_raise_type_error(self):
        X, labels = arrays()
        for C in [2.5, "2", True, [2]]:
            with self.subTest(C=C):
                with self.assertRaises(TypeError):
                    iclcert.batch(X, labels=labels, C=C, threads=1)
        for kw in [{"threads": 1.5}, {"max_prec": "128"}, {"seed": 1.0}, {"validate": 0.5}]:
            with self.subTest(**kw):
                with self.assertRaises(TypeError):
                    iclcert.batch(X, labels=labels, C=2, **{"threads": 1, **kw})
        with self.assertRaises(TypeError):
            iclcert.sample(2.5, 2, 2)
        with self.assertRaises(TypeError):
            iclcert.Prompt.from_arrays([[0.0]], [0.5], [0.0], C=2)

    def test_whole_floats_and_numpy_integers_are_accepted(self):
        X, labels = arrays()
        r = iclcert.batch(X, labels=labels.astype(float), C=np.int64(2), threads=np.int32(1), final_only=True)
        self.assertEqual(r.exit_status, 0)
        self.assertEqual(len(r.predictions), 2)


class NotFinite(unittest.TestCase):
    def test_a_number_beyond_float32_is_refused_in_float32_and_run_in_float64(self):
        X, labels = arrays(B=2, N=1, d=1)
        X[1, 0, 0] = 1e39
        with self.assertRaises(ValueError) as e:
            iclcert.batch(X, labels=labels, C=2, threads=1)
        self.assertIn("prompts[1].X[0][0]: about 1e+39 is not a finite float32", str(e.exception))
        with self.assertRaises(ValueError):
            iclcert.batch(X, labels=labels, C=2, threads=1, certify=True)
        self.assertEqual(iclcert.batch(X, labels=labels, C=2, threads=1, arith="float64").exit_status, 0)

    def test_a_float_state_that_overflows_has_no_prediction(self):
        # 12 linear layers: the state grows like 2^(3^t), beyond every float type.
        layer = {"beta": "1", "gamma": "0", "alpha": "1", "alpha_label": "1"}
        model = iclcert.Model({"format": 1, "kernel": "linear", "layers": [layer] * 12})
        X = np.array([[[2.0], [1.0]]])
        r = iclcert.batch(X, labels=np.zeros((1, 1), int), probe_labels=np.zeros(1, int), C=2, model=model,
                          arith="float64", threads=1)
        self.assertEqual(r.exit_status, 1)
        self.assertEqual(list(r.predictions), [-1])
        self.assertEqual(r.raw["undefined_predictions"], 1)
        self.assertIn("state overflowed on 1 of 1 prompts", r.log)
        c = iclcert.batch(X, labels=np.zeros((1, 1), int), probe_labels=np.zeros(1, int), C=2, model=model,
                          arith="float64", threads=1, certify=True)
        self.assertEqual(c.exit_status, 1)
        self.assertEqual(c.certification["status"].tolist(), ["escalated"])
        self.assertEqual(c.certification["float_prediction"].tolist(), [-1])

    def test_compare_with_certify_refuses_1e4000_and_the_interpreter_lives(self):
        m = iclcert.Model.default()
        p = iclcert.Prompt({"format": 1, "d": 1, "C": 2, "N": 1, "X": [["1e4000"]], "labels": [0], "probe": ["1"],
                            "probe_label": 0})
        with self.assertRaises(ValueError) as e:
            iclcert.compare(m, m, [p], certify=True)
        self.assertIn("about 1e+4000 is not a finite float32", str(e.exception))



class CheckPrecision(unittest.TestCase):
    def test_arith_bits_set_the_precision_and_a_second_one_is_refused(self):
        self.assertEqual(iclcert.check("A2", arith="interval:256").precision_bits, 256)
        self.assertEqual(iclcert.check("A2", prec=64).precision_bits, 64)
        with self.assertRaises(ValueError) as e:
            iclcert.check("A2", arith="interval:256", prec=64)
        self.assertIn("two starting precisions", str(e.exception))
        with self.assertRaises(TypeError):
            iclcert.check("A2", prec=1.5)


class Validate(unittest.TestCase):
    def test_sizes_of_predictions_and_logits(self):
        s = iclcert.sample(2, 2, 3, count=3, seed=1)
        m = iclcert.Model.default()
        with self.assertRaises(ValueError):
            iclcert.validate(m, s, np.zeros((3, 1), int))  # not one class per prompt
        with self.assertRaises(ValueError):
            iclcert.validate(m, s, [0, 0, 2 ** 40])
        with self.assertRaises(ValueError):
            iclcert.validate(m, s, [0, 0, 0], logits=np.zeros(3))
        with self.assertRaises(ValueError):
            iclcert.validate(m, s, [0, 0, 0], threads=-1)
        with self.assertRaises(TypeError):
            iclcert.validate(m, s, [0, 0, 0], max_prec="1024")
        self.assertEqual(len(iclcert.validate(m, s, [0, 1, 0], threads=1).rows), 3)


if __name__ == "__main__":
    unittest.main()
