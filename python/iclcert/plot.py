"""Figures of iclcert's result files (matplotlib), also as

    python3 -m iclcert plot FILE.json -o fig.png|svg|pdf

Each function takes a result object of this package, a dict of the file, or the
file's path, draws on a new Figure and returns it. The plotted numbers are the
file's own (docs/formats.md), converted by iclcert._numbers: enclosures as bands
rounded outward. Every line carries its metric's name as its label, so a test can
read back what was drawn.

  metrics(trace)        a trace (`run --json`): each metric against depth; an
                        enclosure is a band [lo, hi]; a batch file (`batch --json`):
                        the mean over prompts with the [min, max] band
  validation(batch)     `batch --validate K --json`: values outside their enclosure
                        per layer by distance in ulps (stacked), and the flips
  compare(comparison)   `compare --json`: accuracy of A and B and their agreement per
                        depth, the baselines as horizontal lines
  sweep(sweep)          `sweep --json`: the fraction of prompts proved per cell, a
                        heatmap over the last two grid axes (a bar chart for one)
  paving(map)           `check --claim R1 --map --map-json`: the regions, coloured
                        proved, refuted, undecided

Figures are made with matplotlib.pyplot under whatever backend is in force (a
notebook's, MPLBACKEND, matplotlib's own choice): this module never changes it.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from ._numbers import down, is_enclosure, nearest, up

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# A result of this package (its .raw), a file's dict, or the file's path.
Source = Union[Any, dict, str, "os.PathLike[str]"]

_METRICS = ["fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment",
            "probe_attention_same_class", "train_attention_same_class"]


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


def kind(data: dict) -> str:
    """trace, batch, compare, sweep, paving (an R1 map) or verdict: which figure a file makes."""
    command = data.get("command")
    if command in ("batch", "compare", "sweep"):
        return command
    if data.get("claim") == "R1" and "regions" in data:
        return "paving"
    if "claim" in data and "verdict" in data:
        return "verdict"
    if "layers" in data and "arithmetic" in data:
        return "trace"
    raise ValueError("not an iclcert result file iclcert.plot knows (trace, batch, compare, sweep, R1 map)")


def _trace_series(data):
    """{metric: (t, value)} or {metric: (t, lo, hi)} of a trace file."""
    out = {}
    for name in _METRICS:
        ts, lo, hi, mid = [], [], [], []
        enclosed = False
        for layer in data["layers"]:
            v = layer["metrics"].get(name, "absent")
            if v == "absent":
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
    from fractions import Fraction

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
            if s is None:
                continue
            ts.append(layer["t"])
            mean.append(nearest(s["mean"]))
            lo.append(nearest(s["min"]))
            hi.append(nearest(s["max"]))
        if ts:
            out[name] = (ts, mean, lo, hi)
    return out


def metrics(source: Source, names: Sequence[str] | None = None) -> Figure:
    """Each metric against depth, one panel per metric (Fisher and gap ratios on a
    log scale when positive): a trace (`run`, an enclosure as a band) or a batch
    file (`batch`, the mean with the [min, max] band). names: the metrics to draw
    (default: every one the file has)."""
    data = _data(source)
    batch = kind(data) == "batch"
    series = _batch_series(data) if batch else _trace_series(data)
    names = [n for n in (names or _METRICS) if n in series]
    if not names:
        raise ValueError("metrics: no metric in this file")
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = _figure(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        s = series[name]
        if batch:
            ts, mean, lo, hi = s
            ax.fill_between(ts, lo, hi, alpha=0.25, label=f"{name} [min, max]")
            ax.plot(ts, mean, "o-", label=name)
        elif len(s) == 3:
            ts, lo, hi = s
            ax.fill_between(ts, lo, hi, alpha=0.35, color="C0", label=f"{name} enclosure")
            ax.plot(ts, lo, "-", color="C0", lw=0.9, label=f"{name} lo")
            ax.plot(ts, hi, "o-", color="C0", lw=0.9, ms=3, label=f"{name} hi")
            width = _max_width(data, name)
            if width is not None:  # a band thinner than a line is still a band: say how wide (exactly)
                ax.text(0.02, 0.96, f"widest enclosure {width:.2g}", transform=ax.transAxes, fontsize=7,
                        va="top", color="C0")
        else:
            ts, v = s
            ax.plot(ts, v, "o-", label=name)
        if name in ("fisher", "gap_ratio"):
            values = [y for line in ax.lines for y in line.get_ydata()]
            if values and all(y > 0 and math.isfinite(y) for y in values):
                ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("depth t")
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    what = f"batch of {data['prompts']} prompts, {data['arithmetic']}: mean and [min, max]" if batch \
        else f"arithmetic {data['arithmetic']}"
    fig.suptitle(f"iclcert metrics per depth ({what})")
    fig.tight_layout()
    return fig


def validation(source: Source) -> Figure:
    """Float values outside their certified enclosure per layer, by distance in
    ulps (stacked bars), with the prediction flips on a second axis."""
    data = _data(source)
    v = data.get("validation")
    if not v:
        raise ValueError("validation: this batch file has no validation (run batch --validate K --json)")
    layers = v["layers"]
    ts = [layer["t"] for layer in layers]
    buckets = [b for b in layers[0]["outside_ulps"] if b != "inside"]
    fig, (ax, ax2) = _figure(1, 2, figsize=(10, 3.8))
    bottom = [0] * len(ts)
    for b in buckets:
        counts = [layer["outside_ulps"][b] for layer in layers]
        ax.bar(ts, counts, bottom=bottom, label=f"outside_ulps_{b}")
        bottom = [x + y for x, y in zip(bottom, counts)]
    ax.set_xlabel("depth t")
    ax.set_xticks(ts)
    ax.set_ylabel("float values outside their enclosure")
    ax.set_ylim(0, 1.3 * max(max(bottom), 1))  # room for the legend above the bars
    ax.set_title(f"{v['prompts']} prompts against {v['reference']}", fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="upper center")
    ax2.plot(ts, [layer["flips"] for layer in layers], "o-", label="flips")
    ax2.plot(ts, [nearest(layer["max_ulps_outside"]) for layer in layers], "s--", label="max_ulps_outside")
    ax2.set_yscale("symlog")
    ax2.set_xticks(ts)
    ax2.set_xlabel("depth t")
    ax2.set_title("flips and largest distance (ulps)")
    ax2.legend(fontsize=7)
    fig.suptitle(f"iclcert batch validation ({data['arithmetic']}): {v['prompts_diverged']} prompts diverged")
    fig.tight_layout()
    return fig


def compare(source: Source) -> Figure:
    """Accuracy of models A and B and their agreement per depth, with the
    baselines (which see the raw prompt) as horizontal lines."""
    data = _data(source)
    layers = data["layers"]
    ts = [layer.get("t", t) for t, layer in enumerate(layers)]
    fig, ax = _figure(figsize=(6.5, 4.2))
    for key, style in (("accuracy_a", "o-"), ("accuracy_b", "s-"), ("agreement", "^--")):
        values = [nearest(layer[key]) if isinstance(layer[key], str) or layer[key] is None else layer[key]
                  for layer in layers]
        ax.plot(ts, values, style, label=key)
    for b in data.get("baselines") or []:
        acc = nearest(b["accuracy"]) if isinstance(b["accuracy"], str) else b["accuracy"]
        ax.axhline(acc, ls=":", lw=1, label=f"baseline {b['name']}", color="grey")
        ax.annotate(b["name"], (ts[-1], acc), fontsize=7, ha="right", va="bottom")
    cert = data.get("certify")
    title = f"compare on {data['prompts']} prompts ({data['arithmetic']})"
    if cert:
        title += f": both certified on {cert['both_certified']}, certified disagree {cert['certified_disagree']}"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("depth t")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def sweep(source: Source) -> Figure:
    """The fraction of prompts proved per cell: a heatmap over the last two grid
    axes (the others must have one value each, or are averaged), a bar chart for
    one axis. Refuted cells are hatched."""
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
        ax.bar(range(len(xs)), [frac(c) for c in cells], label="proved fraction")
        ax.set_xticks(range(len(xs)), [f"{x:.3g}" for x in xs], rotation=60, fontsize=7)
        ax.set_xlabel(name)
        ax.set_ylabel("fraction proved")
    else:
        gx, gy = grid[-2], grid[-1]
        nx, ny = gx["count"], gy["count"]
        import matplotlib.patches
        import numpy as np

        total = np.zeros((nx, ny))
        seen = np.zeros((nx, ny))
        refuted = np.zeros((nx, ny))
        xs = [None] * nx
        ys = [None] * ny
        for c in cells:
            i, j = (c["cell"] // ny) % nx, c["cell"] % ny
            xs[i] = float(c["coordinates"][gx["name"]]["decimal"])
            ys[j] = float(c["coordinates"][gy["name"]]["decimal"])
            total[i, j] += frac(c)
            seen[i, j] += 1
            refuted[i, j] += c["refuted"]
        image = total / np.maximum(seen, 1)
        fig, ax = _figure(figsize=(6.2, 5))
        mesh = ax.imshow(image.T, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis",
                         extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
        mesh.set_label("proved fraction")
        fig.colorbar(mesh, ax=ax, label="fraction of prompts proved")
        for i in range(nx):  # refuted cells hatched; small grids say proved/prompts per cell
            for j in range(ny):
                if refuted[i, j] > 0:
                    ax.add_patch(matplotlib.patches.Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, hatch="//",
                                                              edgecolor="red", lw=0))
        if nx * ny <= 64 and len(grid) == 2:
            for c in cells:
                i, j = (c["cell"] // ny) % nx, c["cell"] % ny
                total_c = c["proved"] + c["refuted"] + c["undecided"]
                ax.text(i, j, f"{c['proved']}/{total_c}", ha="center", va="center", fontsize=8,
                        color="black" if image[i, j] > 0.5 else "white")
        step_x, step_y = max(1, nx // 8), max(1, ny // 8)
        ax.set_xticks(range(0, nx, step_x), [f"{xs[i]:.3g}" for i in range(0, nx, step_x)])
        ax.set_yticks(range(0, ny, step_y), [f"{ys[j]:.3g}" for j in range(0, ny, step_y)])
        ax.set_xlabel(gx["name"])
        ax.set_ylabel(gy["name"])
    t = data["totals"]
    ax.set_title(f"sweep of {data['claim']}: {t['proved']} proved, {t['refuted']} refuted (hatched), "
                 f"{t['undecided']} undecided", fontsize=9)
    fig.tight_layout()
    return fig


_PAVING_COLOURS = {"proved": "tab:green", "refuted": "tab:red", "undecided": "0.8"}


def paving(source: Source) -> Figure:
    """The regions of an R1 map (`check --claim R1 --map --map-json`): each region
    a rectangle coloured by its status (proved green, refuted red, undecided grey)
    over the first two boxed coefficients, or a strip over one. The corners are the
    regions' exact endpoints rounded to the nearest double."""
    from fractions import Fraction

    import matplotlib.patches

    data = _data(source)
    names = [b["coefficient"] for b in data["box"]]
    if len(names) > 2:
        raise ValueError("a paving figure draws one or two boxed coefficients; this map has "
                         f"{len(names)} ({', '.join(names)})")

    def ends(region, name):
        lo, hi = region["ranges"][name]
        return float(Fraction(lo)), float(Fraction(hi))

    fig, ax = _figure(figsize=(6.5, 4.8 if len(names) == 2 else 2.4))
    for region in data["regions"]:
        x0, x1 = ends(region, names[0])
        y0, y1 = ends(region, names[1]) if len(names) == 2 else (0.0, 1.0)
        patch = matplotlib.patches.Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=_PAVING_COLOURS[region["status"]],
                                             edgecolor="white", lw=0.4)
        patch.set_gid(region["status"])
        ax.add_patch(patch)
    x_lo, x_hi = (float(Fraction(data["box"][0][k])) for k in ("lo", "hi"))
    ax.set_xlim(x_lo, x_hi)
    ax.set_xlabel(names[0])
    if len(names) == 2:
        ax.set_ylim(*(float(Fraction(data["box"][1][k])) for k in ("lo", "hi")))
        ax.set_ylabel(names[1])
    else:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
    ax.legend(handles=[matplotlib.patches.Patch(color=c, label=s) for s, c in _PAVING_COLOURS.items()],
              fontsize=8, loc="upper right")
    v = data["volume_fractions"]
    ax.set_title(f"R1 map ({data['form']} form, {data['sub_boxes_evaluated']} sub-boxes): proved {v['proved']}, "
                 f"refuted {v['refuted']}, undecided {v['undecided']} of the box", fontsize=9)
    fig.tight_layout()
    return fig


def figure(source: Source) -> Figure:
    """The figure a result makes, by its kind (see `kind`): metrics of a trace,
    validation (or metrics) of a batch, compare, sweep, or paving of an R1 map."""
    data = _data(source)
    k = kind(data)
    if k == "trace":
        return metrics(data)
    if k == "batch":
        return validation(data) if data.get("validation") else metrics(data)
    if k == "compare":
        return compare(data)
    if k == "sweep":
        return sweep(data)
    if k == "paving":
        return paving(data)
    raise ValueError(f"no figure for a {k} file yet")


def save(source: Source, path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """figure(source) written to path (.png, .svg or .pdf); returns path."""
    import matplotlib.pyplot as plt

    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise ValueError(f"{path}: expected a .png, .svg or .pdf file")
    fig = figure(source)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
