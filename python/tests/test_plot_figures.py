"""iclcert.plot, figure by figure: what a paper needs is read back through
matplotlib's objects (axis labels with symbols, legends with the user's names,
the colour-blind-safe palette, the marked points at their coordinates), on real
files of the command (python/tests/data/README.md says which command made each)."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
from fractions import Fraction

import matplotlib.colors
import matplotlib.pyplot as plt

import iclcert.plot as plot
from _common import CLI, SOURCE

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ALLOWED = {matplotlib.colors.to_hex(c) for c in list(plot.PALETTE.values()) + list(plot.STATUS_COLOURS.values())}
GREYS = {"#222222", "#555555", "#888888", "#bbbbbb", "#dddddd", "#000000", "#ffffff"}


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def lines(ax, prefix):
    return [line for line in ax.lines if line.get_label().startswith(prefix)]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def colours(fig):
    """The colours of every line and marker face drawn, as hex."""
    out = set()
    for ax in fig.axes:
        for line in ax.lines:
            out.add(matplotlib.colors.to_hex(line.get_color()))
    return out


class Figure(unittest.TestCase):
    def tearDown(self):
        plt.close("all")

    def assertPalette(self, fig):
        self.assertLessEqual(colours(fig), ALLOWED | GREYS)


@unittest.skipUnless(CLI, "ICLCERT_CLI is not set")
class Metrics(Figure):
    @classmethod
    def setUpClass(cls):
        # 32 layers of the deep model (about 0.1 s): the Fisher ratio falls from layer 8 on.
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "t.json")
            subprocess.run([CLI, "run", "--model", os.path.join(SOURCE, "examples", "deep32_model.json"),
                            "--arith", "interval:128", "--json", out], check=True, capture_output=True)
            with open(out) as f:
                cls.trace = json.load(f)

    def test_panels_are_named_and_labelled_with_symbols(self):
        fig = plot.metrics(self.trace)
        titles = {ax.get_title().split("\n")[0]: ax for ax in fig.axes if ax.get_title()}
        self.assertEqual(titles["Fisher ratio $F^t$"].get_ylabel(), "$F^t$")
        self.assertEqual(titles["probe margin $a^t$"].get_ylabel(), "$a^t$")
        for ax in titles.values():
            self.assertEqual(ax.get_xlabel(), "depth $t$ (layers applied)")
            self.assertNotIn("_", ax.get_title().split("\n")[0].split("$")[0])  # no snake_case
        self.assertPalette(fig)

    def test_a2_failure_is_marked_at_the_layers_the_verdict_refutes(self):
        verdict = load("verdict_a2_deep32.json")
        failing = [r["layer"] for r in verdict["evidence"]["layers"] if r["outcome"] == "fails"]
        self.assertEqual(failing[0], 8)
        fig = plot.metrics(self.trace, names=["fisher"])
        ax = fig.axes[0]
        (marks,) = lines(ax, "A2 fails")
        self.assertEqual(list(marks.get_xdata()), failing)
        self.assertNotIn("not certified", marks.get_label())
        self.assertIn("A2 fails from layer 8", ax.get_title())
        self.assertEqual(matplotlib.colors.to_hex(marks.get_color()), plot.PALETTE["vermillion"].lower())
        self.assertIn(marks.get_label(), legend_texts(ax))

    def test_bands_are_to_scale_and_a_thin_one_is_said_so(self):
        fig = plot.metrics(self.trace, names=["fisher"])
        ax = fig.axes[0]
        band = ax.collections[0]
        self.assertEqual(band.get_label(), "enclosure [lo, hi]")
        self.assertEqual(band.get_linewidth()[0], 0)  # no edge that would fatten it
        self.assertIn("band narrower than a line", ax.get_title())

    def test_margins_over_32_layers_get_a_symlog_axis(self):
        fig = plot.metrics(self.trace, names=["probe_margin", "min_label_margin", "gap_ratio"])
        scales = {ax.get_title().split("\n")[0]: ax.get_yscale() for ax in fig.axes if ax.get_title()}
        self.assertEqual(scales["probe margin $a^t$"], "symlog")  # 0 at t = 0, 3e5 at t = 32
        self.assertEqual(scales[r"smallest label margin $m^t_{\min}$"], "log")
        self.assertEqual(scales["gap ratio $R^t$"], "linear")  # 0.02 to 1.26


class Validation(Figure):
    def test_ulps_error_bound_and_flips_on_separate_axes(self):
        data = load("batch_validate.json")
        layers = data["validation"]["layers"]
        fig = plot.validation(data)
        ulps, error, flips = fig.axes
        self.assertEqual(ulps.get_ylabel(), "float values outside their enclosure (count)")
        self.assertIn("≤ 1 ulp", legend_texts(ulps))
        self.assertEqual(error.get_ylabel(), r"absolute error $|\hat x - x|$")
        (bound,) = lines(error, "stated bound")
        self.assertEqual(list(bound.get_ydata()), [layer["stated_bound"] for layer in layers])
        (largest,) = lines(error, "largest error")
        self.assertEqual(list(largest.get_ydata()), [layer["max_abs_error"] for layer in layers])
        self.assertEqual(error.get_yscale(), "log")
        self.assertEqual(lines(error, "flips"), [])
        (f,) = lines(flips, "flips")
        self.assertEqual(list(f.get_ydata()), [layer["flips"] for layer in layers])
        self.assertEqual((flips.get_yscale(), flips.get_ylabel()), ("linear", "predictions flipped (count)"))
        self.assertEqual(sum(p.get_height() for p in ulps.patches), sum(layer["outside"] for layer in layers))
        self.assertPalette(fig)


class Compare(Figure):
    def test_legend_has_the_models_names_and_depth_0_is_not_drawn(self):
        data = load("compare.json")
        fig = plot.compare(data)
        ax = fig.axes[0]
        texts = legend_texts(ax)
        self.assertIn("accuracy of trained_equivariant_full_model", texts)
        self.assertIn("accuracy of trained_equivariant_extracted_model", texts)
        self.assertNotIn("accuracy_a", " ".join(texts))
        self.assertEqual(ax.get_ylabel(), "fraction of prompts")
        (a,) = lines(ax, "accuracy of trained_equivariant_full_model")
        self.assertEqual(list(a.get_xdata()), [1, 2, 3, 4])  # t = 0 predicts nothing
        self.assertEqual(list(a.get_ydata()), [layer["accuracy_a"] for layer in data["layers"][1:]])
        self.assertEqual(list(plot.compare(data, names=["trained", "reduced"]).axes[0].lines[0].get_xdata()),
                         [1, 2, 3, 4])

    def test_baselines_have_distinct_styles_and_labels_beside_the_axes(self):
        data = load("compare.json")
        ax = plot.compare(data).axes[0]
        base = lines(ax, "baseline ")
        self.assertEqual([line.get_label() for line in base],
                         [f"baseline {b['name'].replace('_', ' ')}" for b in data["baselines"]])
        self.assertEqual(len({str(line._dash_pattern) for line in base}), len(base))
        for b, line in zip(data["baselines"], base):
            self.assertEqual(line.get_ydata()[0], b["accuracy"])
        labels = [t for t in ax.texts if t.get_text() in {b["name"].replace("_", " ") for b in data["baselines"]}]
        self.assertEqual(len(labels), len(data["baselines"]))
        for t in labels:
            self.assertGreater(t.get_position()[0], 1.0)  # in axes coordinates: right of the data


class Sweep(Figure):
    def test_undecided_cell_is_not_zero_and_refuted_cells_are_crossed(self):
        data = load("sweep.json")
        fig = plot.sweep(data)
        ax = fig.axes[0]
        self.assertEqual((ax.get_xlabel(), ax.get_ylabel()), (r"$\beta$ (beta)", r"$\gamma$ (gamma)"))
        image = ax.images[0].get_array()
        ny = data["grid"][1]["count"]
        undecided = [c for c in data["cells"] if c["proved"] + c["refuted"] == 0]
        self.assertEqual([c["cell"] for c in undecided], [0])  # beta = gamma = 0, an exact tie
        for c in data["cells"]:
            i, j = c["cell"] // ny, c["cell"] % ny
            if c in undecided:
                self.assertTrue(image.mask[j, i])
            else:
                self.assertAlmostEqual(float(image[j, i]), c["proved"] / (c["proved"] + c["refuted"] + c["undecided"]))
        self.assertEqual([(t.get_position()) for t in ax.texts if t.get_gid() == "undecided"], [(0, 0)])
        (crosses,) = lines(ax, "cell has a refuting prompt")
        expected = sorted((c["cell"] // ny + 0.32, c["cell"] % ny + 0.3) for c in data["cells"] if c["refuted"])
        self.assertEqual(sorted(zip(crosses.get_xdata(), crosses.get_ydata())), expected)
        self.assertEqual(list(ax.patches), [])  # no hatching over the cells
        self.assertIn("cell has a refuting prompt", legend_texts(ax))


class Paving(Figure):
    def check_points(self, data, ax, two_d):
        (marks,) = lines(ax, "refuting point")
        names = [b["coefficient"] for b in data["box"]]
        xs = [float(Fraction(p["coefficients"][names[0]])) for p in data["refuting_points"]]
        self.assertEqual(list(marks.get_xdata()), xs)
        if two_d:
            ys = [float(Fraction(p["coefficients"][names[1]])) for p in data["refuting_points"]]
            self.assertEqual(list(marks.get_ydata()), ys)
        self.assertIn(f"refuting point ({len(xs)})", legend_texts(ax))

    def test_1d_map_marks_its_refuting_points(self):
        data = load("r1_map_1d.json")
        ax = plot.paving(data).axes[0]
        self.assertEqual(ax.get_xlabel(), r"$\alpha$ (alpha)")
        self.check_points(data, ax, False)
        refuted = [p for p in ax.patches if p.get_gid() == "refuted"]
        self.assertEqual(matplotlib.colors.to_hex(refuted[0].get_facecolor()), plot.PALETTE["vermillion"].lower())

    def test_2d_map_refuted_at_a_point_draws_the_point(self):
        data = load("r1_map_2d.json")
        self.assertEqual((data["verdict"], data["volume_fractions"]["refuted"]), ("refuted", "0"))
        ax = plot.paving(data).axes[0]
        self.assertEqual((ax.get_xlabel(), ax.get_ylabel()), (r"$\alpha$ (alpha)", r"$\gamma$ (gamma)"))
        self.check_points(data, ax, True)
        self.assertIn("verdict refuted", ax.get_title())


class Certify(Figure):
    def test_margins_by_status_and_decided_share_from_depth_1(self):
        data = load("batch_certify.json")
        cert = data["certification"]
        fig = plot.certify(data)
        self.assertIs(plot.kind(data), "certify")
        margins, decided = fig.axes
        self.assertEqual(margins.get_ylabel(), r"final probe margin $a^L$ (enclosure)")
        self.assertIn(f"certified ({cert['certified']})", legend_texts(margins))
        (share,) = lines(decided, "decided by float64")
        rows = [r for r in cert["decided_float64_by_depth"] if r["t"] > 0]
        self.assertEqual(list(share.get_xdata()), [r["t"] for r in rows])
        self.assertEqual(list(share.get_ydata()), [r["fraction"] for r in rows])
        bars = margins.containers[0]
        self.assertEqual(len(bars.lines[0].get_xdata()), cert["certified"])
        self.assertPalette(fig)


class Verdict(Figure):
    def test_a2_verdict_marks_every_failing_layer(self):
        data = load("verdict_a2_deep32.json")
        ax = plot.verdict(data).axes[0]
        failing = [r["layer"] for r in data["evidence"]["layers"] if r["outcome"] == "fails"]
        (marks,) = lines(ax, "A2 fails")
        self.assertEqual(list(marks.get_xdata()), failing)
        self.assertEqual(ax.get_ylabel(), "Fisher ratio $F^t$")
        self.assertIn("refuted, first failure at layer 8", ax.get_title())
        self.assertIs(plot.kind(data), "verdict")

    def test_c1_verdict_draws_its_interval_against_0(self):
        data = load("verdict_c1.json")
        ev = data["evidence"]
        ax = plot.figure(data).axes[0]
        (interval,) = lines(ax, "E[g] lies here")
        lo, hi = interval.get_xdata()  # the exact ends rounded outward, by one ulp at most
        exact_lo, exact_hi = float(ev["mean_alignment_lower_bound"][0]), float(ev["mean_alignment_upper_bound"][1])
        self.assertIn(lo, (exact_lo, math.nextafter(exact_lo, -math.inf)))
        self.assertIn(hi, (exact_hi, math.nextafter(exact_hi, math.inf)))
        (zero,) = lines(ax, "0: C1 needs")
        self.assertEqual(list(zero.get_xdata()), [0, 0])
        self.assertIn("undecided", ax.get_title())


    def test_e1_verdict_lists_its_checks(self):
        data = load("verdict_e1.json")
        ax = plot.figure(data).axes[0]
        (text,) = ax.texts
        self.assertEqual(text.get_text().splitlines(),
                         [f"{c['element']}: no certified difference" for c in data["evidence"]["instance_checks"]])
        self.assertIn("claim E1: proved (certified)", ax.get_title())


class Output(unittest.TestCase):
    def test_vector_files_beside_the_png_with_text_as_text(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(DATA, "r1_map_2d.json")
            written = plot.save(src, os.path.join(tmp, "map.png"), vector=True)
            self.assertEqual([os.path.basename(p) for p in written], ["map.png", "map.pdf", "map.svg"])
            with open(os.path.join(tmp, "map.svg")) as f:
                self.assertIn("refuting point (5)", f.read())  # a <text>, not paths
            with open(os.path.join(tmp, "map.pdf"), "rb") as f:
                self.assertIn(b"/FontFile2", f.read())  # TrueType embedded (pdf.fonttype 42)
            r = subprocess.run([sys.executable, "-m", "iclcert", "plot", os.path.join(DATA, "batch_certify.json"),
                                "-o", os.path.join(tmp, "c.svg"), "--vector"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sorted(os.listdir(tmp)), ["c.pdf", "c.svg", "map.pdf", "map.png", "map.svg"])
            self.assertIn("c.svg, " + os.path.join(tmp, "c.pdf"), r.stdout)


class Backend(unittest.TestCase):
    def test_import_and_every_figure_leave_the_backend(self):
        """plot.py never calls matplotlib.use: a notebook's, a GUI's or MPLBACKEND's
        backend (here svg, headless) stays as it is through import and drawing."""
        code = ("import matplotlib; before = matplotlib.get_backend(); import iclcert.plot as plot, os; "
                f"d = {DATA!r}; "
                "[plot.figure(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith('.json')]; "
                "print(before, matplotlib.get_backend())")
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        env["MPLBACKEND"] = "svg"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        self.assertEqual((r.returncode, r.stdout.split()), (0, ["svg", "svg"]), r.stderr)
        with open(plot.__file__) as f:
            self.assertNotIn("matplotlib.use(", f.read())


if __name__ == "__main__":
    unittest.main()
