"""iclcert.plot: the figures exist, and what they draw equals the JSON files."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import iclcert
import iclcert.plot as plot
from iclcert.__main__ import main as cli_main
from _common import CLI, cli_json


def line(fig, label):
    for ax in fig.axes:
        for l in ax.lines:
            if l.get_label() == label:
                return list(l.get_xdata()), list(l.get_ydata())
    raise AssertionError(f"no line labelled {label}")


class Figures(unittest.TestCase):
    def test_metrics_of_an_interval_trace_are_its_enclosures(self):
        r = iclcert.run(iclcert.sample(3, 2, 8, seed=1).prompt(0), arith="interval:128")
        fig = plot.metrics(r)
        ts, lo = line(fig, "enclosure lo")
        _, hi = line(fig, "enclosure hi")
        for t, a, b in zip(ts, lo, hi):
            enc = r.raw["layers"][t]["metrics"]["fisher"]
            self.assertLessEqual(a, float(enc[0]))
            self.assertGreaterEqual(b, float(enc[1]))
            self.assertLess(b - a, 1e-20 + 1e-12 * abs(b))

    def test_metrics_of_a_double_trace_and_the_command_line(self):
        r = iclcert.run(arith="double")
        fig = plot.metrics(r)
        ts, v = line(fig, "probe_margin")
        self.assertEqual(v, [float(r.raw["layers"][t]["metrics"]["probe_margin"]) for t in ts])
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "trace.json")
            r.to_json(src)
            # The command line once per outcome (a new interpreter costs about 0.6 s of CPU,
            # which a loaded machine multiplies); the other formats through its main().
            out = os.path.join(tmp, "fig.png")
            subprocess.run([sys.executable, "-m", "iclcert", "plot", src, "-o", out], check=True)
            self.assertGreater(os.path.getsize(out), 1000)
            for ext in ("svg", "pdf"):
                out = os.path.join(tmp, f"fig.{ext}")
                self.assertEqual(cli_main(["plot", src, "-o", out]), 0)
                self.assertGreater(os.path.getsize(out), 1000)
            bad = subprocess.run([sys.executable, "-m", "iclcert", "plot", os.path.join(tmp, "none.json"), "-o",
                                  os.path.join(tmp, "x.png")], capture_output=True)
            self.assertEqual(bad.returncode, 2)

    def test_validation_draws_the_files_counts(self):
        b = iclcert.batch(sample="3,3,12", count=30, seed=2, validate=10, threads=1)
        fig = plot.validation(b)
        _, flips = line(fig, "flips")
        self.assertEqual(flips, [layer["flips"] for layer in b.raw["validation"]["layers"]])
        bars = [p for p in fig.axes[0].patches]
        total = sum(p.get_height() for p in bars)
        self.assertEqual(total, sum(layer["outside"] for layer in b.raw["validation"]["layers"]))

    def test_compare_draws_accuracies_and_baselines(self):
        m = iclcert.Model.default()
        s = iclcert.sample(4, 3, 24, count=20, seed=3)
        c = iclcert.compare(m, m, s, threads=1)
        fig = plot.compare(c)
        ts, agree = line(fig, "agreement of the two models")
        self.assertEqual(ts, list(range(1, len(c.raw["layers"]))))  # t = 0 predicts nothing
        self.assertEqual(agree, [1.0] * (len(c.raw["layers"]) - 1))
        _, base = line(fig, "baseline nearest class mean")
        acc = c.raw["baselines"][0]["accuracy"]
        self.assertEqual(base[0], float(acc))

    @unittest.skipUnless(CLI, "ICLCERT_CLI is not set")
    def test_sweep_heatmap_is_the_proved_fraction(self):
        model = os.path.join(os.environ.get("ICLCERT_SOURCE_DIR", "."), "examples", "models", "reduced4.json")
        _, sweep = cli_json("sweep", "--claim", "A2", "--model", model, "--grid", "beta=0:2:3", "--grid",
                            "gamma=0:2:4", "--sample", "2,3,6", "--prompts", "2", "--threads", "1")
        fig = plot.sweep(sweep)
        image = fig.axes[0].images[0].get_array()
        for c in sweep["cells"]:
            i, j = c["cell"] // 4, c["cell"] % 4
            if c["proved"] + c["refuted"] == 0:  # nothing decided: masked (grey), not 0 proved
                self.assertTrue(image.mask[j, i])
                continue
            self.assertAlmostEqual(float(image[j, i]), c["proved"] / (c["proved"] + c["refuted"] + c["undecided"]))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.json")
            with open(path, "w") as f:
                json.dump(sweep, f)
            self.assertEqual(plot.save(path, os.path.join(tmp, "s.png")), [os.path.join(tmp, "s.png")])
            self.assertTrue(os.path.exists(os.path.join(tmp, "s.png")))

    @unittest.skipUnless(CLI, "ICLCERT_CLI is not set")
    def test_paving_draws_every_region_where_the_map_puts_it(self):
        from fractions import Fraction

        with tempfile.TemporaryDirectory() as tmp:
            # One layer and d = 2 (about 0.01 s; the default model's six layers took 2 s of
            # CPU): its map has refuted, proved and undecided regions.
            prompt, model = os.path.join(tmp, "p.json"), os.path.join(tmp, "m.json")
            with open(prompt, "w") as f:
                json.dump({"format": 1, "d": 2, "C": 2, "N": 4, "X": [["1", "0"], ["2", "1"], ["0", "1"], ["1", "3"]],
                           "labels": [0, 0, 1, 1], "probe": ["1", "1"], "probe_label": 0}, f)
            with open(model, "w") as f:
                json.dump({"format": 1, "layers": [{"beta": "1", "gamma": "1", "alpha": "1/2", "alpha_label": "1"}]}, f)
            path = os.path.join(tmp, "map.json")
            r = subprocess.run([CLI, "check", "--claim", "R1", "--prompt", prompt, "--model", model, "--map", "--box",
                                "alpha=-0.5:1", "--budget", "8", "--map-json", path], capture_output=True, text=True)
            self.assertIn(r.returncode, (0, 1, 3), r.stderr)
            with open(path) as f:
                m = json.load(f)
            fig = plot.figure(path)
            patches = [p for p in fig.axes[0].patches if p.get_gid()]
            self.assertEqual(len(patches), len(m["regions"]))
            self.assertEqual({p.get_gid() for p in patches}, {"refuted", "proved", "undecided"})  # each drawn
            for p, region in zip(patches, m["regions"]):
                lo, hi = (float(Fraction(v)) for v in region["ranges"]["alpha"])
                self.assertEqual(p.get_gid(), region["status"])
                self.assertEqual(p.get_x(), lo)
                self.assertAlmostEqual(p.get_width(), hi - lo, places=15)
            plot.save(path, os.path.join(tmp, "map.png"))
            self.assertTrue(os.path.exists(os.path.join(tmp, "map.png")))


class Backend(unittest.TestCase):
    def test_drawing_leaves_the_users_backend(self):
        """A notebook's, a GUI's or MPLBACKEND's backend stays as it is (here ps,
        headless): importing iclcert.plot and drawing never switches it."""
        code = ("import matplotlib, iclcert, iclcert.plot as plot; "
                "before = matplotlib.get_backend(); fig = plot.metrics(iclcert.run()); "
                "print(before, matplotlib.get_backend())")
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        env["MPLBACKEND"] = "ps"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        self.assertEqual((r.returncode, r.stdout.split()), (0, ["ps", "ps"]), r.stderr)


if __name__ == "__main__":
    unittest.main()
