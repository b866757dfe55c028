"""Figures of iclcert's result files (matplotlib), also as

    python3 -m iclcert plot FILE.json -o fig.png [--vector]   # --vector: fig.pdf and fig.svg too

Each function takes a result object of this package, a dict of the file, or the
file's path, draws on a new Figure and returns it. The plotted numbers are the
file's own (docs/formats.md), converted by iclcert._numbers: enclosures as bands
rounded outward. Every line, band and marker carries a label, so that a test can
read back what was drawn; docs/figures.md shows one figure of each kind.

  metrics(trace)        a trace (`run --json`): each metric against depth; an
                        enclosure is a band [lo, hi] drawn to scale; a failure of A2
                        (the Fisher or gap ratio falls) is marked; a batch file
                        (`batch --json`): the mean over prompts with the [min, max] band
  validation(batch)     `batch --validate K --json`: values outside their enclosure by
                        distance in ulps, the largest error against the stated bound,
                        and the prediction flips, each on its own axes
  compare(comparison)   `compare --json`: accuracy of the two models (by their file
                        names) and their agreement per depth from t = 1, the baselines
                        as labelled horizontal lines
  sweep(sweep)          `sweep --json`: the fraction of prompts proved per cell, a
                        heatmap over the last two grid axes (stacked bars for one)
  paving(map)           `check --claim R1 --map --map-json`: the regions, coloured
                        proved, refuted, undecided, and the refuting points
  certify(batch)        `batch --certify --json`: every prompt's final margin as an
                        enclosure, coloured by status, and the share decided in float64
  verdict(file)         `check --json`: a claim's evidence per layer (A1, A2: the
                        metric's enclosures, failing layers marked) or its bounds (C1)

Colours are Okabe and Ito's colour-blind-safe palette (PALETTE); heatmaps use
viridis. Figures are made with matplotlib.pyplot under whatever backend is in
force (a notebook's, MPLBACKEND, matplotlib's own choice): this module never
changes it.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from ._numbers import down, is_enclosure, nearest, up

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# A result of this package (its .raw), a file's dict, or the file's path.
Source = Union[Any, dict, str, "os.PathLike[str]"]

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common
# colour-vision deficiencies, and in greyscale by the markers and line styles.
PALETTE = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
           "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7"}
_SERIES = [PALETTE[k] for k in ("blue", "orange", "bluish_green", "reddish_purple", "sky_blue", "vermillion")]
STATUS_COLOURS = {"proved": PALETTE["bluish_green"], "refuted": PALETTE["vermillion"], "undecided": "#BBBBBB",
                  "certified": PALETTE["bluish_green"], "escalated": PALETTE["blue"]}
_FAIL = PALETTE["vermillion"]

_METRICS = ["fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment",
            "probe_attention_same_class", "train_attention_same_class"]
# Each metric's name and symbol (theory/metrics.md), for titles and axis labels.
METRIC_LABELS = {
    "fisher": ("Fisher ratio", "$F^t$"),
    "gap_ratio": ("gap ratio", "$R^t$"),
    "min_label_margin": ("smallest label margin", r"$m^t_{\min}$"),
    "probe_margin": ("probe margin", "$a^t$"),
    "probe_alignment": ("probe alignment", "$g^t$"),
    "probe_attention_same_class": ("probe's attention on its class", "$P^t_{same}$"),
    "train_attention_same_class": ("training rows' attention on their class", "$T^t_{same}$"),
}
# The R1 and sweep coefficients (theory/model.md): beta and gamma scale queries,
# alpha and alpha_label the update.
COEFFICIENT_LABELS = {"alpha": r"$\alpha$ (alpha)", "alpha_label": r"$\alpha'$ (alpha_label)",
                      "beta": r"$\beta$ (beta)", "gamma": r"$\gamma$ (gamma)"}
_DEPTH = "depth $t$ (layers applied)"


def _data(source):
    if isinstance(source, dict):
        return source
    if hasattr(source, "raw"):
        return source.raw
    with open(source) as f:
        return json.load(f)


def _figure(rows=1, cols=1, **kw):
    # The backend stays the user's (or matplotlib's own choice, Agg where there is
    # no display): a notebook's inline backend, a GUI's window, MPLBACKEND.
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, **kw)


def _integer_ticks():
    """Depths are integers: no tick at t = 0.5."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _metric_label(name):
    words, symbol = METRIC_LABELS.get(name, (name.replace("_", " "), ""))
    return f"{words} {symbol}".strip()


def _coefficient_label(name):
    return COEFFICIENT_LABELS.get(name, name)


def _model_name(path, fallback):
    """A model's name for a legend: its file name without folder and .json."""
    if not path:
        return fallback
    base = os.path.basename(str(path))
    return base[:-5] if base.endswith(".json") else base


def kind(data: dict) -> str:
    """trace, batch, certify, compare, sweep, paving (an R1 map) or verdict: which
    figure a file makes."""
    command = data.get("command")
    if command == "batch --certify":
        return "certify"
    if command in ("batch", "compare", "sweep"):
        return command
    if data.get("claim") == "R1" and "regions" in data:
        return "paving"
    if "claim" in data and "verdict" in data:
        return "verdict"
    if "layers" in data and "arithmetic" in data:
        return "trace"
    raise ValueError("not an iclcert result file iclcert.plot knows (trace, batch, compare, sweep, R1 map, verdict)")


def _trace_series(data):
    """{metric: (t, value)} or {metric: (t, lo, hi)} of a trace file."""
    out = {}
    for name in _METRICS:
        ts, lo, hi, mid = [], [], [], []
        enclosed = False
        for layer in data["layers"]:
            v = layer["metrics"].get(name, "absent")
            if v == "absent" or v is None:
                continue
            ts.append(layer["t"])
            if is_enclosure(v):
                enclosed = True
                lo.append(down(v[0]))
                hi.append(up(v[1]))
            else:
                mid.append(nearest(v))
        if ts:
            out[name] = (ts, lo, hi) if enclosed else (ts, mid)
    return out


def _max_width(data, name):
    """The largest width hi - lo of a trace's enclosures of one metric, from the
    exact texts (the plotted float band is wider by its outward rounding)."""
    widths = []
    for layer in data["layers"]:
        v = layer["metrics"].get(name)
        if is_enclosure(v) and "inf" not in v[0] + v[1]:
            widths.append(float(Fraction(v[1]) - Fraction(v[0])))
    return max(widths) if widths else None


def _batch_series(data):
    """{metric: (t, mean, min, max)} of a batch file."""
    out = {}
    for name in _METRICS:
        ts, mean, lo, hi = [], [], [], []
        for layer in data["layers"]:
            s = layer["metrics"].get(name)
            if s is None or s.get("mean") is None:
                continue
            ts.append(layer["t"])
            mean.append(nearest(s["mean"]))
            lo.append(nearest(s["min"]))
            hi.append(nearest(s["max"]))
        if ts:
            out[name] = (ts, mean, lo, hi)
    return out


def _scale(ax, values):
    """A log scale for positive values over more than two decades, symlog for signed
    ones (margins grow geometrically over many layers), linear otherwise."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    nonzero = [v for v in finite if v > 0]
    if not nonzero or max(nonzero) / min(nonzero) <= 100:
        return "linear"
    if all(v > 0 and math.isfinite(v) for v in values):
        ax.set_yscale("log")
        return "log"
    # Linear near 0 (over at most the five decades below the largest value), logarithmic beyond.
    smallest = max(min(nonzero), max(nonzero) * 1e-5)
    ax.set_yscale("symlog", linthresh=10.0 ** math.floor(math.log10(smallest)))
    return "symlog"


def _falls(ts, lo, hi):
    """Depths t where the metric certainly fell: the enclosure at t lies below the
    one at t - 1 (hi_t < lo_{t-1}); for points, value_t < value_{t-1}."""
    return [ts[k] for k in range(1, len(ts)) if ts[k] == ts[k - 1] + 1 and hi[k] < lo[k - 1]]


def _band_narrower_than_line(ax, lo, hi, linewidth_pt):
    """Whether the widest band is thinner on the page than a line of linewidth_pt
    (measured through the axes' transform, so on any scale)."""
    ax.get_ylim()  # settles the autoscaled limits that transData uses
    widest = 0.0
    for a, b in zip(lo, hi):
        if math.isfinite(a) and math.isfinite(b):
            (_, ya), (_, yb) = ax.transData.transform([(0, a), (0, b)])
            widest = max(widest, abs(yb - ya) * 72 / ax.figure.dpi)
    return widest < linewidth_pt


def metrics(source: Source, names: Sequence[str] | None = None) -> Figure:
    """Each metric against depth, one panel per metric, titled by its name and
    symbol: a trace (`run`, an enclosure as a band to scale) or a batch file
    (`batch`, the mean with the [min, max] band). Values over more than two decades
    get a log (symlog when signed) axis. Where the Fisher or gap ratio falls from
    one depth to the next (claim A2 fails there; certified when the enclosures are
    disjoint) the depth is marked. names: the metrics to draw (default: every one
    the file has)."""
    data = _data(source)
    batch = kind(data) == "batch"
    series = _batch_series(data) if batch else _trace_series(data)
    names = [n for n in (names or _METRICS) if n in series]
    if not names:
        raise ValueError("metrics: no metric in this file")
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = _figure(rows, cols, figsize=(4.4 * cols, 3.3 * rows), squeeze=False)
    colour, lw = _SERIES[0], 1.2
    for ax, name in zip(axes.flat, names):
        s = series[name]
        title = _metric_label(name)
        if batch:
            ts, mean, lo, hi = s
            ax.fill_between(ts, lo, hi, alpha=0.3, color=colour, lw=0, label="[min, max] over prompts")
            ax.plot(ts, mean, "o-", color=colour, lw=lw, ms=3, label="mean")
            values, fall_lo, fall_hi = lo + hi, mean, mean
        elif len(s) == 3:
            ts, lo, hi = s
            # The band is drawn to scale, its edges without a line width of their own.
            ax.fill_between(ts, lo, hi, alpha=0.45, color=colour, lw=0, label="enclosure [lo, hi]")
            ax.plot(ts, hi, "o", color=colour, ms=2.5, label="enclosure hi")
            ax.plot(ts, lo, "-", color=colour, lw=0.6, label="enclosure lo")
            values, fall_lo, fall_hi = lo + hi, lo, hi
        else:
            ts, v = s
            ax.plot(ts, v, "o-", color=colour, lw=lw, ms=3, label=name)
            values, fall_lo, fall_hi = v, v, v
        _scale(ax, values)
        if name in ("fisher", "gap_ratio"):
            fell = _falls(ts, fall_lo, fall_hi)
            if fell:
                symbol = METRIC_LABELS[name][1]
                certified = not batch and len(s) == 3
                ys = [fall_hi[ts.index(t)] for t in fell]
                ax.plot(fell, ys, "v", color=_FAIL, ms=6, ls="none",
                        label=f"A2 fails: {symbol} < {symbol.replace('^t', '^{t-1}')}" +
                        ("" if certified else " (not certified)"))
                ax.axvline(fell[0] - 0.5, color=_FAIL, ls="--", lw=0.8)
                title += f"\nA2 fails from layer {fell[0]}"
        if not batch and len(s) == 3:
            width = _max_width(data, name)
            if width is not None and _band_narrower_than_line(ax, s[1], s[2], lw):
                title += f"\n(band narrower than a line: widest {width:.2g})"
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(METRIC_LABELS.get(name, ("", name))[1] or name)
        ax.set_xlabel(_DEPTH)
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.grid(alpha=0.3)
        # (A batch's band and mean are named once, in the figure's title.)
        if any(line.get_label().startswith("A2") for line in ax.lines):
            # The band and the failures; the band's edges need no entry of their own.
            handles = [h for h in ax.get_legend_handles_labels()[0] if not h.get_label().startswith("enclosure ")]
            ax.legend(handles=handles, fontsize=7, loc="best")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    what = f"batch of {data['prompts']} prompts, {data['arithmetic']}: mean and [min, max]" if batch \
        else f"arithmetic {data['arithmetic']}"
    fig.suptitle(f"metrics per depth ({what})", fontsize=10)
    fig.tight_layout()
    return fig


_ULP_BUCKETS = {"le_1": "≤ 1 ulp", "le_4": "≤ 4 ulps", "le_16": "≤ 16 ulps", "le_256": "≤ 256 ulps",
                "le_65536": "≤ 65536 ulps", "gt_65536": "> 65536 ulps"}


def validation(source: Source) -> Figure:
    """Three panels per depth: float values outside their certified enclosure by
    distance in ulps (stacked bars), the largest absolute error against the stated
    a-priori bound (log axis), and the prediction flips (their own integer axis)."""
    data = _data(source)
    v = data.get("validation")
    if not v:
        raise ValueError("validation: this batch file has no validation (run batch --validate K --json)")
    layers = v["layers"]
    ts = [layer["t"] for layer in layers]
    buckets = [b for b in layers[0]["outside_ulps"] if b != "inside"]
    fig, (ax, ax2, ax3) = _figure(1, 3, figsize=(13, 3.9))
    bottom = [0] * len(ts)
    colours = [PALETTE[k] for k in ("sky_blue", "blue", "bluish_green", "orange", "reddish_purple", "vermillion")]
    for b, c in zip(buckets, colours):
        counts = [layer["outside_ulps"][b] for layer in layers]
        ax.bar(ts, counts, bottom=bottom, color=c, label=_ULP_BUCKETS.get(b, b))
        bottom = [x + y for x, y in zip(bottom, counts)]
    ax.set_xlabel(_DEPTH)
    ax.set_xticks(ts)
    ax.set_ylabel("float values outside their enclosure (count)")
    ax.set_ylim(0, 1.35 * max(max(bottom), 1))  # room for the legend above the bars
    ax.set_title(f"distance outside, {v['prompts']} prompts vs {v['reference']}", fontsize=8)
    ax.legend(fontsize=7, ncol=3, loc="upper center", title="distance", title_fontsize=7)

    err = [nearest(layer["max_abs_error"]) for layer in layers]
    bound = [nearest(layer["stated_bound"]) for layer in layers]
    ax2.plot(ts, err, "o-", color=_SERIES[0], label=r"largest error $\max|\hat x - x|$")
    ax2.plot(ts, bound, "s--", color=_FAIL, label=r"stated bound $\varepsilon^t$")
    beyond = [t for t, layer in zip(ts, layers) if layer.get("beyond_bound")]
    if beyond:
        ax2.plot(beyond, [err[ts.index(t)] for t in beyond], "x", color=_FAIL, ms=9, ls="none",
                 label="beyond the bound")
    if all(x > 0 and math.isfinite(x) for x in err + bound):
        ax2.set_yscale("log")
    ax2.set_xticks(ts)
    ax2.set_xlabel(_DEPTH)
    ax2.set_ylabel(r"absolute error $|\hat x - x|$")
    ax2.set_title("largest error and the a-priori bound (theory/batch_path.md)", fontsize=8)
    ax2.legend(fontsize=7)

    flips = [layer["flips"] for layer in layers]
    ax3.plot(ts, flips, "o-", color=_SERIES[1], label="flips")
    ax3.set_xticks(ts)
    ax3.set_xlabel(_DEPTH)
    ax3.set_ylabel("predictions flipped (count)")
    ax3.yaxis.set_major_locator(_integer_ticks())
    ax3.set_ylim(-0.05 * max(1, max(flips)), max(1, max(flips)) * 1.15)
    ax3.set_title("float prediction against a certified one", fontsize=8)
    ax3.legend(fontsize=7)
    for a in (ax, ax2, ax3):
        a.grid(alpha=0.3)
    fig.suptitle(f"batch validation ({data['arithmetic']}): {v['prompts_diverged']} prompts diverged", fontsize=10)
    fig.tight_layout()
    return fig


def _spread(ys, gap):
    """ys moved apart (in order) so that neighbours are at least gap apart."""
    order = sorted(range(len(ys)), key=lambda k: ys[k])
    out = list(ys)
    for a, b in zip(order, order[1:]):
        out[b] = max(out[b], out[a] + gap)
    return out


def compare(source: Source, names: Sequence[str] | None = None) -> Figure:
    """Accuracy of models A and B and their agreement per depth, from t = 1 (at
    t = 0 no prediction is made: the probe's label part is its initial value), with
    the baselines (which see the raw prompt) as horizontal lines, each its own
    style, labelled beside the axes. names: the two models' names in the legend
    (default: their file names)."""
    from matplotlib.transforms import blended_transform_factory

    data = _data(source)
    name_a, name_b = names or (_model_name(data.get("model"), "model A"), _model_name(data.get("against"), "model B"))
    layers = [layer for t, layer in enumerate(data["layers"]) if layer.get("t", t) > 0]
    ts = [layer["t"] for layer in layers]
    fig, ax = _figure(figsize=(7.2, 5))

    def value(x):
        return nearest(x) if isinstance(x, str) or x is None else x

    for key, label, style, c in (("accuracy_a", f"accuracy of {name_a}", "o-", _SERIES[0]),
                                 ("accuracy_b", f"accuracy of {name_b}", "s-", _SERIES[1]),
                                 ("agreement", "agreement of the two models", "^--", _SERIES[2])):
        ax.plot(ts, [value(layer[key]) for layer in layers], style, color=c, label=label, ms=4)
    baselines = data.get("baselines") or []
    accs = [value(b["accuracy"]) for b in baselines]
    styles = [":", (0, (5, 2)), "-.", (0, (1, 3)), (0, (3, 1, 1, 1, 1, 1))]
    greys = ["#222222", "#555555", "#888888"]
    side = blended_transform_factory(ax.transAxes, ax.transData)
    for k, (b, acc, y) in enumerate(zip(baselines, accs, _spread(accs, 0.045))):
        ax.axhline(acc, ls=styles[k % len(styles)], lw=1.2, color=greys[k % len(greys)],
                   label=f"baseline {b['name'].replace('_', ' ')}")
        ax.text(1.01, y, b["name"].replace("_", " "), transform=side, fontsize=7, va="center", ha="left",
                color=greys[k % len(greys)], clip_on=False)
    cert = data.get("certify")
    title = f"{name_a} vs {name_b} on {data['prompts']} prompts ({data['arithmetic']})"
    if cert:
        title += f"\nboth certified on {cert['both_certified']}, of which they certainly disagree on " \
                 f"{cert['certified_disagree']}"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(_DEPTH)
    ax.set_ylabel("fraction of prompts")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    # Below the axes, where it covers no data.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def sweep(source: Source) -> Figure:
    """The fraction of prompts proved per cell: a heatmap over the last two grid
    axes (the others must have one value each, or are averaged), stacked bars of
    proved / refuted / undecided for one axis. A cell with a refuting prompt has a
    small cross in its corner; a cell where nothing was decided is grey and
    labelled "undecided", not coloured as 0 proved."""
    data = _data(source)
    grid = data["grid"]
    cells = data["cells"]

    def frac(c):
        total = c["proved"] + c["refuted"] + c["undecided"]
        return c["proved"] / total if total else float("nan")

    if len(grid) == 1:
        name = grid[0]["name"]
        xs = [float(c["coordinates"][name]["decimal"]) for c in cells]
        fig, ax = _figure(figsize=(6.5, 3.8))
        bottom = [0.0] * len(cells)
        for status in ("proved", "refuted", "undecided"):
            shares = [c[status] / max(1, c["proved"] + c["refuted"] + c["undecided"]) for c in cells]
            ax.bar(range(len(xs)), shares, bottom=bottom, color=STATUS_COLOURS[status], label=status)
            bottom = [a + b for a, b in zip(bottom, shares)]
        ax.set_xticks(range(len(xs)), [f"{x:.3g}" for x in xs], rotation=60, fontsize=7)
        ax.set_xlabel(_coefficient_label(name))
        ax.set_ylabel("fraction of prompts")
        ax.legend(fontsize=7, loc="upper right")
    else:
        gx, gy = grid[-2], grid[-1]
        nx, ny = gx["count"], gy["count"]
        import numpy as np

        total = np.zeros((nx, ny))
        seen = np.zeros((nx, ny))
        refuted = np.zeros((nx, ny))
        decided = np.zeros((nx, ny))
        xs = [None] * nx
        ys = [None] * ny
        for c in cells:
            i, j = (c["cell"] // ny) % nx, c["cell"] % ny
            xs[i] = float(c["coordinates"][gx["name"]]["decimal"])
            ys[j] = float(c["coordinates"][gy["name"]]["decimal"])
            total[i, j] += frac(c)
            seen[i, j] += 1
            refuted[i, j] += c["refuted"]
            decided[i, j] += c["proved"] + c["refuted"]
        image = np.where(decided > 0, total / np.maximum(seen, 1), np.nan)
        import matplotlib

        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#DDDDDD")
        fig, ax = _figure(figsize=(6.6, 5.2))
        mesh = ax.imshow(np.ma.masked_invalid(image.T), origin="lower", aspect="auto", vmin=0, vmax=1, cmap=cmap,
                         extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
        mesh.set_label("proved fraction")
        fig.colorbar(mesh, ax=ax, label="fraction of prompts proved")
        small = nx * ny <= 100 and len(grid) == 2
        for i in range(nx):
            for j in range(ny):
                if decided[i, j] == 0:
                    ax.text(i, j, "undecided", ha="center", va="center", fontsize=6 if small else 4, color="black",
                            gid="undecided")
        rx, ry = np.nonzero(refuted > 0)
        if len(rx):
            ax.plot(rx + 0.32, ry + 0.3, "X", color="white", mec=PALETTE["black"], ms=5, mew=0.6, ls="none",
                    label="cell has a refuting prompt")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False)
        if small:
            for c in cells:
                i, j = (c["cell"] // ny) % nx, c["cell"] % ny
                if decided[i, j] == 0:
                    continue
                total_c = c["proved"] + c["refuted"] + c["undecided"]
                ax.text(i, j, f"{c['proved']}/{total_c}", ha="center", va="center", fontsize=7,
                        color="black" if image[i, j] > 0.5 else "white")
        step_x, step_y = max(1, nx // 8), max(1, ny // 8)
        ax.set_xticks(range(0, nx, step_x), [f"{xs[i]:.3g}" for i in range(0, nx, step_x)])
        ax.set_yticks(range(0, ny, step_y), [f"{ys[j]:.3g}" for j in range(0, ny, step_y)])
        ax.set_xlabel(_coefficient_label(gx["name"]))
        ax.set_ylabel(_coefficient_label(gy["name"]))
    t = data["totals"]
    ax.set_title(f"sweep of {data['claim']}: {t['proved']} proved, {t['refuted']} refuted, "
                 f"{t['undecided']} undecided (prompts x cells)", fontsize=9)
    fig.tight_layout()
    return fig


def paving(source: Source) -> Figure:
    """The regions of an R1 map (`check --claim R1 --map --map-json`): each region
    a rectangle coloured by its status (proved green, refuted vermillion, undecided
    grey) over the first two boxed coefficients, or a strip over one, and every
    refuting point (`refuting_points`, where the claim fails, possibly on a region's
    edge) as a black cross. The corners are the exact endpoints rounded to the
    nearest double."""
    import matplotlib.patches
    from matplotlib.lines import Line2D

    data = _data(source)
    names = [b["coefficient"] for b in data["box"]]
    if len(names) > 2:
        raise ValueError("a paving figure draws one or two boxed coefficients; this map has "
                         f"{len(names)} ({', '.join(names)})")

    def ends(region, name):
        lo, hi = region["ranges"][name]
        return float(Fraction(lo)), float(Fraction(hi))

    fig, ax = _figure(figsize=(6.5, 4.8 if len(names) == 2 else 2.6))
    for region in data["regions"]:
        x0, x1 = ends(region, names[0])
        y0, y1 = ends(region, names[1]) if len(names) == 2 else (0.0, 1.0)
        patch = matplotlib.patches.Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=STATUS_COLOURS[region["status"]],
                                             edgecolor="white", lw=0.4)
        patch.set_gid(region["status"])
        ax.add_patch(patch)
    points = data.get("refuting_points") or []
    px = [float(Fraction(p["coefficients"][names[0]])) for p in points]
    py = [float(Fraction(p["coefficients"][names[1]])) for p in points] if len(names) == 2 else [0.5] * len(points)
    if points:
        ax.plot(px, py, "X", color=PALETTE["black"], mec="white", mew=0.8, ms=9, ls="none", label="refuting point",
                zorder=5)
    x_lo, x_hi = (float(Fraction(data["box"][0][k])) for k in ("lo", "hi"))
    ax.set_xlim(x_lo, x_hi)
    ax.set_xlabel(_coefficient_label(names[0]))
    if len(names) == 2:
        ax.set_ylim(*(float(Fraction(data["box"][1][k])) for k in ("lo", "hi")))
        ax.set_ylabel(_coefficient_label(names[1]))
    else:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
    handles = [matplotlib.patches.Patch(color=STATUS_COLOURS[s], label=f"{s} region") for s in
               ("proved", "refuted", "undecided")]
    if points:
        handles.append(Line2D([], [], marker="X", color=PALETTE["black"], ls="none", ms=8,
                              label=f"refuting point ({len(points)})"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    v = data.get("volume_fractions_decimal") or {k: float(Fraction(x)) for k, x in data["volume_fractions"].items()}
    ax.set_title(f"R1 map, verdict {data['verdict']} ({data['form']} form, {data['sub_boxes_evaluated']} sub-boxes)\n"
                 f"volume: proved {v['proved']:.3g}, refuted {v['refuted']:.3g}, undecided {v['undecided']:.3g}",
                 fontsize=9)
    fig.tight_layout()
    return fig


def certify(source: Source) -> Figure:
    """A `batch --certify` file: left, every prompt's certified final probe margin
    (sorted; an enclosure as an error bar, coloured by status, a flipped float
    prediction marked), on a symlog axis; right, the fraction of prompts whose
    prediction float64 intervals already decide at each depth (from t = 1)."""
    data = _data(source)
    cert = data.get("certification") or data.get("certify")
    if not cert or "per_prompt" not in cert:
        raise ValueError("certify: not a batch --certify file (run batch --certify --json)")
    rows = cert["per_prompt"]
    fig, (ax, ax2) = _figure(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.6, 1]})

    def mid(p):
        m = p.get("margin")
        if is_enclosure(m):
            return (down(m[0]) + up(m[1])) / 2
        return nearest(p["margin_float"]) if p.get("margin_float") is not None else float("nan")

    order = sorted(range(len(rows)), key=lambda k: mid(rows[k]))
    for status in ("certified", "escalated", "undecided"):
        ks = [r for r, k in enumerate(order) if rows[k]["status"] == status]
        if not ks:
            continue
        lo = [down(rows[order[r]]["margin"][0]) if is_enclosure(rows[order[r]].get("margin")) else math.nan for r in ks]
        hi = [up(rows[order[r]]["margin"][1]) if is_enclosure(rows[order[r]].get("margin")) else math.nan for r in ks]
        m = [(a + b) / 2 for a, b in zip(lo, hi)]
        ax.errorbar(ks, m, yerr=[[a - b for a, b in zip(m, lo)], [b - a for a, b in zip(m, hi)]], fmt="o", ms=2.5,
                    color=STATUS_COLOURS[status], elinewidth=1, label=f"{status} ({len(ks)})")
    flipped = [r for r, k in enumerate(order) if rows[k].get("flipped")]
    if flipped:
        ax.plot(flipped, [mid(rows[order[r]]) for r in flipped], "X", color=_FAIL, ms=8, ls="none",
                label=f"float prediction flipped ({len(flipped)})")
    ax.axhline(0, color=PALETTE["black"], lw=0.8)
    _scale(ax, [mid(p) for p in rows])
    ax.set_xlabel("prompt, sorted by its margin")
    ax.set_ylabel(r"final probe margin $a^L$ (enclosure)")
    ax.set_title(f"{len(rows)} prompts: {cert['certified']} certified, {cert['undecided']} undecided, "
                 f"{cert['flips']} flips", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    by_depth = [r for r in cert.get("decided_float64_by_depth", []) if r["t"] > 0]
    ax2.plot([r["t"] for r in by_depth], [r["fraction"] for r in by_depth], "o-", color=_SERIES[0],
             label="decided by float64 intervals")
    ax2.set_ylim(0, 1.05)
    ax2.set_xlabel(_DEPTH)
    ax2.set_ylabel("fraction of prompts")
    ax2.xaxis.set_major_locator(_integer_ticks())
    ax2.set_title("prediction decided without Arb, per depth", fontsize=9)
    ax2.legend(fontsize=7, loc="lower right")
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    fig.suptitle(f"batch --certify ({data.get('arithmetic', '')} predictions certified)", fontsize=10)
    fig.tight_layout()
    return fig


def verdict(source: Source) -> Figure:
    """A verdict file (`check --json`). A1 and A2: the metric's enclosure at each
    layer (after it), the failing layers marked; C1: the interval that holds E[g]
    against 0; other bounds as intervals. A claim with no numbers per layer (E1, E2,
    G1) gets its headline and checks."""
    data = _data(source)
    ev = data.get("evidence") or {}
    claim, status = data["claim"], data["verdict"]
    layers = ev.get("layers") if isinstance(ev, dict) else None
    if layers and "after" in layers[0]:
        name = "gap_ratio" if ev.get("metric") == "gap" else ev.get("metric", "fisher")
        symbol = METRIC_LABELS.get(name, (name, name))[1]
        fig, ax = _figure(figsize=(6.8, 4))
        ts = [layers[0]["layer"] - 1] + [r["layer"] for r in layers]
        encl = [layers[0]["before"]] + [r["after"] for r in layers]
        lo = [down(e[0]) for e in encl]
        hi = [up(e[1]) for e in encl]
        ax.fill_between(ts, lo, hi, color=_SERIES[0], alpha=0.45, lw=0, label="enclosure [lo, hi]")
        ax.plot(ts, hi, "o-", color=_SERIES[0], ms=3, lw=1, label=symbol)
        failed = [r["layer"] for r in layers if r["outcome"] != "holds"]
        fails = [r["layer"] for r in layers if r["outcome"] == "fails"]
        if fails:
            ax.plot(fails, [hi[ts.index(t)] for t in fails], "v", color=_FAIL, ms=7, ls="none",
                    label=f"{claim} fails ({len(fails)} layers)")
            ax.axvline(fails[0] - 0.5, color=_FAIL, ls="--", lw=0.8)
        unknown = [t for t in failed if t not in fails]
        if unknown:
            ax.plot(unknown, [hi[ts.index(t)] for t in unknown], "D", color=PALETTE["orange"], ms=5, ls="none",
                    label=f"undecided ({len(unknown)} layers)")
        _scale(ax, lo + hi)
        ax.set_xlabel(_DEPTH)
        ax.set_ylabel(f"{METRIC_LABELS.get(name, (name,))[0]} {symbol}")
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
        first = f", first failure at layer {fails[0]}" if fails else ""
        headline = ev.get("headline") or f"{symbol} {ev.get('relation', '')} per layer"
        ax.set_title(f"claim {claim}: {headline}\n"
                     f"{status}{first} ({ev.get('arithmetic', data.get('precision_bits', ''))})", fontsize=9)
    elif isinstance(ev, dict) and "mean_alignment_lower_bound" in ev:
        fig, ax = _figure(figsize=(6.8, 2.6))
        lo, hi = down(ev["mean_alignment_lower_bound"][0]), up(ev["mean_alignment_upper_bound"][1])
        ax.plot([lo, hi], [0, 0], "-", color=_SERIES[0], lw=8, solid_capstyle="butt",
                label=f"E[g] lies here with probability >= {float(Fraction(ev['joint_confidence'])):.3g}")
        ax.axvline(0, color=_FAIL, lw=1, ls="--", label="0: C1 needs E[g] > 0")
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        ax.set_xlabel("expected probe alignment E[$g^L$] (Hoeffding bounds)")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3, axis="x")
        acc = down(ev["accuracy_lower_bound"][0])
        ax.set_title(f"claim C1: {status} ({ev.get('verdict_kind', '')}, {ev['samples']} prompts); "
                     f"accuracy >= {acc:.3g}", fontsize=9)
    else:
        bounds = {k: v for k, v in ev.items() if is_enclosure(v)} if isinstance(ev, dict) else {}
        fig, ax = _figure(figsize=(6.8, 1.2 + 0.5 * max(1, len(bounds))))
        for k, (key, v) in enumerate(bounds.items()):
            lo, hi = down(v[0]), up(v[1])
            ax.plot([lo, hi], [k, k], "-", color=_SERIES[k % len(_SERIES)], lw=6, solid_capstyle="butt",
                    label=key)
            ax.plot([lo, hi], [k, k], "|", color=PALETTE["black"], ms=12)
        if bounds:
            ax.axvline(0, color=PALETTE["black"], lw=0.8, ls="--")
            ax.set_yticks(range(len(bounds)), [k.replace("_", " ") for k in bounds], fontsize=7)
            ax.set_xlabel("value (enclosure of the bound)")
            ax.set_ylim(-0.7, len(bounds) - 0.3)
            ax.grid(alpha=0.3, axis="x")
        else:
            ax.axis("off")
            checks = ev.get("instance_checks", []) if isinstance(ev, dict) else []
            lines = [f"{c.get('element', '')}: " + ("a certified difference" if c.get("certified_difference")
                                                      else "no certified difference") for c in checks]
            ax.text(0, 0.5, "\n".join(lines) or "(no numbers to draw)", fontsize=8, va="center",
                    transform=ax.transAxes)
        headline = ev.get("headline", "") if isinstance(ev, dict) else ""
        ax.set_title(f"claim {claim}: {status} ({ev.get('verdict_kind', '')})\n{headline[:90]}", fontsize=8)
    fig.tight_layout()
    return fig


def figure(source: Source) -> Figure:
    """The figure a result makes, by its kind (see `kind`): metrics of a trace,
    validation (or metrics) of a batch, certify, compare, sweep, paving of an R1
    map, or verdict."""
    data = _data(source)
    k = kind(data)
    if k == "batch":
        return validation(data) if data.get("validation") else metrics(data)
    draw = {"trace": metrics, "certify": certify, "compare": compare, "sweep": sweep, "paving": paving,
            "verdict": verdict}[k]
    return draw(data)


VECTOR_FORMATS = (".pdf", ".svg")


def save(source: Source, path: str | os.PathLike[str], vector: bool = False, dpi: int = 150) -> list[str]:
    """figure(source) written to path (.png, .svg or .pdf) and, with vector, to the
    .pdf and .svg of the same name too; returns the paths written. Text stays text
    in the vector files (TrueType fonts in PDF), so a journal's checks pass."""
    import matplotlib
    import matplotlib.pyplot as plt

    stem, ext = os.path.splitext(str(path))
    if ext.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"{path}: expected a .png, .svg or .pdf file")
    paths = [str(path)] + ([stem + e for e in VECTOR_FORMATS if e != ext.lower()] if vector else [])
    fig = figure(source)
    try:
        with matplotlib.rc_context({"pdf.fonttype": 42, "svg.fonttype": "none"}):
            for p in paths:
                fig.savefig(p, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return paths
