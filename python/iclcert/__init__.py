"""iclcert from Python: exact, enclosed and certified runs of the layerwise
in-context classification recursion (docs/python.md).

Every number is computed by iclcert's C++ library (the module iclcert._core, the
same code as the `iclcert` command); this package only turns its files
(docs/formats.md) into pandas DataFrames and NumPy arrays.

Numbers in are exact: a float (NumPy float64 or Python float) enters as its exact
rational value (0.1 is 3602879701896397/36028797018963968), as a JSON number does
in a file. Numbers out are floats for plotting and tables; an enclosure becomes a
pair of columns NAME_lo, NAME_hi rounded outward, so it still contains the true
value; every result keeps the library's exact text in `.raw`.

    import iclcert
    p = iclcert.sample(4, 3, 16, count=1, seed=1).prompt(0)
    r = iclcert.run(p, arith="interval:256")      # r.metrics: a DataFrame per depth
    v = iclcert.check("A2", p)                     # v.status: proved / refuted / undecided
"""
import json
import operator
import os
import tempfile

import numpy as np

from . import _core
from ._calls import call, captured
from ._numbers import down, is_enclosure, nearest, up

InputError = _core.InputError  # bad input (a ValueError): the message names the field

__all__ = ["Prompt", "Model", "Samples", "run", "check", "batch", "compare", "extract", "fuzz", "sample",
           "InputError", "RunResult", "Verdict", "BatchResult", "CompareResult", "ExtractResult", "FuzzResult"]


def _load(source):
    """A dict from a dict, a JSON text, or a path."""
    if isinstance(source, dict):
        return source
    if isinstance(source, (str, os.PathLike)) and not str(source).lstrip().startswith("{"):
        with open(source) as f:
            return json.load(f)
    return json.loads(source)


class _Document:
    """A file form held as the library's exact text (self._data, its JSON)."""

    def to_dict(self):
        return json.loads(json.dumps(self._data))

    def to_json(self, path=None):
        text = json.dumps(self._data, indent=1) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text


class Prompt(_Document):
    """One prompt (docs/formats.md, "Prompt files"), held as the library's exact
    text form. Build it from a file or dict (`Prompt.from_json`) or from arrays
    (`Prompt.from_arrays`); `to_json()` writes what `iclcert --prompt` reads."""

    def __init__(self, data):
        self._data = json.loads(_core.canonical_prompt(json.dumps(_load(data)), "prompt"))

    @classmethod
    def from_json(cls, source):
        return cls(source)

    @classmethod
    def from_arrays(cls, X, labels, probe, probe_label=None, C=None):
        """X (N, d), labels (N,), probe (d,), the optional true class of the probe, and
        C (default: the largest label + 1). Each float enters as its exact rational
        value."""
        labels = _classes(labels, "Prompt.from_arrays: labels")
        probe_label = None if probe_label is None else _whole(probe_label, "Prompt.from_arrays: probe_label")
        if C is None:
            C = int(max(labels.max(initial=0), -1 if probe_label is None else probe_label)) + 1
            C = max(C, 2)
        text = _core.prompt_from_arrays(_reals(X, "Prompt.from_arrays: X"), labels,
                                        _reals(probe, "Prompt.from_arrays: probe"), probe_label,
                                        _whole(C, "Prompt.from_arrays: C"))
        return cls(text)

    @classmethod
    def default(cls):
        """The embedded default prompt (examples/default_prompt.json)."""
        return cls(_core.default_prompt())

    d = property(lambda self: self._data["d"])
    C = property(lambda self: self._data["C"])
    N = property(lambda self: self._data["N"])
    labels = property(lambda self: np.array(self._data["labels"], dtype=np.int64))
    probe_label = property(lambda self: self._data.get("probe_label"))
    X = property(lambda self: np.array([[nearest(v) for v in row] for row in self._data["X"]]).reshape(self.N, self.d))
    probe = property(lambda self: np.array([nearest(v) for v in self._data["probe"]]))

    def __eq__(self, other):
        return isinstance(other, Prompt) and self._data == other._data

    def __repr__(self):
        return f"Prompt(d={self.d}, C={self.C}, N={self.N}, probe_label={self.probe_label})"


class Model(_Document):
    """A model (docs/formats.md, "Model files"): reduced, full or dense layers, held
    as the library's exact text form. `Model.dense` builds one from NumPy matrices
    (iclcert.torch builds them from PyTorch)."""

    def __init__(self, data):
        self._data = json.loads(_core.canonical_model(json.dumps(_load(data)), "model"))

    @classmethod
    def from_json(cls, source):
        return cls(source)

    @classmethod
    def default(cls):
        """The embedded default model (examples/default_model.json)."""
        return cls(_core.default_model())

    @classmethod
    def dense(cls, layers, d, C, kernel="softmax", probe_is_key=False, probe_label_init="zero"):
        """layers: a list of layers, each a list of (S, V) per head, (d+C) x (d+C)
        arrays: s_ji = z_j^T S z_i and z_j += sum_i A_ji V z_i. d and C are recorded
        in the model, so no prompt of another split is accepted. Each float enters
        as its exact rational value."""
        layers = [[(np.asarray(S, dtype=np.float64), np.asarray(V, dtype=np.float64)) for S, V in layer]
                  for layer in layers]
        return cls(_core.dense_model(layers, kernel, bool(probe_is_key), probe_label_init, int(d), int(C)))

    layers = property(lambda self: self._data["layers"])
    kernel = property(lambda self: self._data.get("kernel", "softmax"))
    probe_is_key = property(lambda self: self._data.get("probe_is_key", False))
    d = property(lambda self: self._data.get("d"))
    C = property(lambda self: self._data.get("C"))

    def __eq__(self, other):
        return isinstance(other, Model) and self._data == other._data

    def __repr__(self):
        return f"Model({len(self.layers)} layers, {self.kernel}, d={self.d}, C={self.C}, probe_is_key={self.probe_is_key})"


# --- arguments: a wrong type is a TypeError, a wrong size a ValueError (before any work)

def _whole(value, name):
    """value as a Python int: an int or NumPy integer (never a bool, nor a float
    that int() would truncate)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a whole number, got a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected a whole number, got {type(value).__name__} {value!r:.40}") from None


def _reals(value, name):
    """value as a float64 array: real numbers only (not strings, booleans, complex
    numbers or objects)."""
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected an array of real numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _classes(value, name):
    """value as an int64 array: integers, or floats that are whole numbers."""
    a = np.asarray(value)
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.trunc(a)):
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an array of whole numbers (classes), got dtype {a.dtype}")
    return a.astype(np.int64)


def _prompt(p):
    if p is None:
        return Prompt.default()
    return p if isinstance(p, Prompt) else Prompt(p)


def _model(m):
    if m is None:
        return Model.default()
    return m if isinstance(m, Model) else Model(m)


class Samples:
    """Prompts as arrays: X[B, N+1, d] (rows 0..N-1 the training points, row N the
    probe), labels[B, N], probe_labels[B] (-1: none). What `sample` returns and
    `batch` and `compare` take."""

    def __init__(self, X, labels, probe_labels=None, C=None):
        self.X = _reals(X, "Samples: X")
        self.labels = _classes(labels, "Samples: labels")
        self.probe_labels = None if probe_labels is None else _classes(probe_labels, "Samples: probe_labels")
        if self.X.ndim != 3 or self.labels.shape != (self.X.shape[0], self.X.shape[1] - 1):
            raise ValueError(f"Samples: expected X of shape (B, N+1, d) and labels of shape (B, N), got "
                             f"{self.X.shape} and {self.labels.shape}")
        if self.probe_labels is not None and self.probe_labels.shape != (self.X.shape[0],):
            raise ValueError(f"Samples: expected probe_labels of shape (B,) = ({self.X.shape[0]},), got "
                             f"{self.probe_labels.shape}")
        if C is None:  # the largest class seen + 1, at least 2 (as Prompt.from_arrays)
            seen = self.labels.max(initial=-1)
            if self.probe_labels is not None:
                seen = max(seen, self.probe_labels.max(initial=-1))
            C = max(int(seen) + 1, 2)
        self.C = _whole(C, "Samples: C")

    def __len__(self):
        return self.X.shape[0]

    def prompt(self, k):
        """Prompt k, exactly."""
        pl = None if self.probe_labels is None or self.probe_labels[k] < 0 else int(self.probe_labels[k])
        return Prompt.from_arrays(self.X[k, :-1], self.labels[k], self.X[k, -1], pl, self.C)

    def to_json(self, path=None):
        """The batch file (docs/formats.md) of these prompts."""
        text = json.dumps({"format": 1, "prompts": [self.prompt(k).to_dict() for k in range(len(self))]}) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text


def sample(d, C, N, count=1, seed=1, balanced=False, margin="0"):
    """Prompts drawn by iclcert's sampler, prompt k with seed seed + k: the very
    numbers `iclcert sample -d d -C C -N N --count count --seed seed` writes
    (every one a double, so the arrays hold them exactly). Returns Samples."""
    sizes = [_whole(v, f"sample: {name}")
             for v, name in [(d, "d"), (C, "C"), (N, "N"), (count, "count"), (seed, "seed")]]
    X, labels, probe_labels = call(_core.sample, *sizes, bool(balanced), str(margin))
    return Samples(X, labels, probe_labels, C)


# --- run ------------------------------------------------------------------------------

_METRICS = ["fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment",
            "probe_attention_same_class", "train_attention_same_class"]


def _matrix(rows):
    """(values, None) or (lo, hi) arrays of a trace's X or Y block."""
    if rows and rows[0] and is_enclosure(rows[0][0]):
        return (np.array([[down(v[0]) for v in r] for r in rows]), np.array([[up(v[1]) for v in r] for r in rows]))
    return np.array([[nearest(v) for v in r] for r in rows]), None


class RunResult:
    """The recursion on one prompt. metrics: a DataFrame, one row per depth t = 0..L
    (t = 0 the input), columns as in docs/formats.md "Trace files"; under an
    interval arithmetic each metric is two columns NAME_lo, NAME_hi (outward).
    states[t]: {"X": array, "Y": array} (or "X_lo", "X_hi", "Y_lo", "Y_hi"), rows
    1..N then the probe. raw: the trace file's dict (exact texts)."""

    def __init__(self, trace):
        import pandas as pd

        self.raw = trace
        self.arithmetic = trace["arithmetic"]
        self.enclosures = False
        rows, self.states = [], []
        for layer in trace["layers"]:
            row = {"t": layer["t"]}
            for name in _METRICS:
                v = layer["metrics"].get(name)
                if is_enclosure(v):
                    self.enclosures = True
                    row[name + "_lo"], row[name + "_hi"] = down(v[0]), up(v[1])
                elif v is None or isinstance(v, str):
                    row[name] = nearest(v)
            rows.append(row)
            X, X_hi = _matrix(layer["X"])
            Y, Y_hi = _matrix(layer["Y"])
            self.states.append({"X": X, "Y": Y} if X_hi is None else {"X_lo": X, "X_hi": X_hi, "Y_lo": Y, "Y_hi": Y_hi})
        self.metrics = pd.DataFrame(rows)

    def to_json(self, path=None):
        text = json.dumps(self.raw, indent=1) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text


def run(prompt=None, model=None, arith="double"):
    """`iclcert run --arith ARITH --json`: the recursion on one prompt. arith:
    "double", "rational" (exact; linear kernel only), "mpfr:BITS",
    "interval:BITS" (Arb balls) or "interval-mpfi:BITS". prompt and model default
    to the embedded examples. Returns a RunResult."""
    p, m = _prompt(prompt), _model(model)
    return RunResult(json.loads(call(_core.run, p.to_json(), m.to_json(), arith)))


# --- check ----------------------------------------------------------------------------

class Verdict:
    """A claim's verdict (docs/formats.md, "Verdict files"). status: "proved",
    "refuted" or "undecided"; evidence and counterexample: the file's fields (dicts,
    exact texts); exit_status: the command's (0, 1, 3); log: its account; raw: the
    whole verdict file. replay() re-checks it as `iclcert check --replay` does."""

    def __init__(self, exit_status, verdict, log):
        self.exit_status = exit_status
        self.raw = verdict
        self.log = log
        self.claim = verdict["claim"]
        self.status = verdict["verdict"]
        self.precision_bits = verdict["precision_bits"]
        self.evidence = verdict["evidence"]
        self.counterexample = verdict["counterexample"]

    def to_json(self, path=None):
        text = json.dumps(self.raw, indent=1) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text

    def replay(self):
        """True when the verdict and every recorded number are reproduced (each
        recorded enclosure contains the recomputed one); the account is in
        `replay_log`."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "verdict.json")
            self.to_json(path)
            status, self.replay_log = call(_core.replay, path)
        return status == 0

    def __bool__(self):
        return self.status == "proved"

    def __repr__(self):
        return f"Verdict({self.claim}: {self.status}, {self.precision_bits} bits)"


def check(claim, prompt=None, model=None, *, sample=None, seed=1, balanced=False, margin="0", arith="interval",
          prec=128, max_prec=1024, layers="", metric="fisher", box=(), ball="", budget=256, samples=200,
          confidence="0.99"):
    """`iclcert check --claim CLAIM`: a certified verdict on one instance. claim:
    A1, A2, E1, E2, C1, R1 (theory/claims.md). sample="d,C,N" draws the prompt
    (with seed, balanced, margin) as `--sample`; otherwise prompt (default: the
    embedded one). The other keywords are the command's flags (box: a list of
    "NAME=LO:HI"). Returns a Verdict."""
    options = {"arith": arith, "prec": int(prec), "max_prec": int(max_prec), "layers": layers, "metric": metric,
               "box": list(box), "ball": str(ball), "budget": int(budget), "samples": int(samples),
               "confidence": str(confidence), "seed": int(seed), "balanced": bool(balanced), "margin": str(margin)}
    if sample is not None:
        options["sample"] = sample if isinstance(sample, str) else ",".join(str(int(v)) for v in sample)
        if prompt is not None:
            raise ValueError("check: give prompt or sample, not both")
    p = None if prompt is None else _prompt(prompt).to_json()
    m = None if model is None else _model(model).to_json()
    status, verdict, log = call(_core.check, claim, p, m, options)
    return Verdict(status, json.loads(verdict), log)


# --- batch ----------------------------------------------------------------------------

class BatchResult:
    """`iclcert batch` (docs/formats.md, "Batch results"). predictions: array [B];
    layers: a DataFrame per depth (accuracy, and METRIC_mean/_min/_max/_finite of
    each metric); validation: a DataFrame per depth (validate > 0) or None;
    certification: a DataFrame per prompt (certify) or None, with margin_lo,
    margin_hi (outward); exit_status, log; raw: the file's dict."""

    def __init__(self, exit_status, out, log):
        import pandas as pd

        self.exit_status, self.raw, self.log = exit_status, out, log
        self.layers = self.validation = self.certification = None
        self.predictions = None
        if "predictions" in out:  # -1: undefined, the float state overflowed (null in the file)
            self.predictions = np.array([-1 if p is None else p for p in out["predictions"]], dtype=np.int64)
            self.accuracy = nearest(out["accuracy"])
            rows = []
            for layer in out["layers"]:
                row = {"t": layer["t"], "accuracy": nearest(layer["accuracy"])}
                for name, s in layer["metrics"].items():
                    for stat in ("mean", "min", "max"):
                        row[f"{name}_{stat}"] = nearest(s[stat])
                    for count in ("finite", "pos_inf", "undefined"):
                        row[f"{name}_{count}"] = s[count]
                rows.append(row)
            self.layers = pd.DataFrame(rows)
            if out["validation"] is not None:
                vrows = []
                for layer in out["validation"]["layers"]:
                    row = {k: (nearest(v) if isinstance(v, str) else v) for k, v in layer.items() if k != "outside_ulps"}
                    row.update({f"ulps {k}": v for k, v in layer["outside_ulps"].items()})
                    vrows.append(row)
                self.validation = pd.DataFrame(vrows)
        if "certification" in out:
            per = out["certification"]["per_prompt"]
            self.certification = pd.DataFrame(
                [{"status": c["status"], "prediction": c["prediction"],
                  "float_prediction": -1 if c["float_prediction"] is None else c["float_prediction"],
                  "flipped": c["flipped"], "margin_lo": down(c["margin"][0]), "margin_hi": up(c["margin"][1]),
                  "bits": c["bits"]} for c in per])
            self.predictions = self.certification["prediction"].to_numpy()


def batch(prompts=None, model=None, arith="float32", device="auto", validate=0, certify=False, *, labels=None,
          probe_labels=None, C=None, sample=None, count=1, seed=1, balanced=False, margin="0", threads=0,
          escalate=True, max_prec=4096, final_only=False):
    """`iclcert batch`: the batched float path over many prompts. prompts: a
    Samples (from `sample`), or an array X[B, N+1, d] with labels[B, N] (and
    probe_labels[B], C); or sample="d,C,N" with count and seed, drawn as
    `batch --sample`. validate=K compares the first K prompts with Arb enclosures;
    certify=True certifies every prediction (float64 intervals, then Arb). Each
    float of X enters exactly. Returns a BatchResult."""
    if validate and certify:
        raise ValueError("batch: validate and certify: choose one (certify certifies every prompt's prediction)")
    if not isinstance(validate, str):
        validate = _whole(validate, "batch: validate")
    options = {"arith": arith, "device": device, "validate": str(validate), "certify": bool(certify),
               "escalate": bool(escalate), "max_prec": _whole(max_prec, "batch: max_prec"),
               "threads": _whole(threads, "batch: threads"), "final_only": bool(final_only),
               "seed": _whole(seed, "batch: seed"), "balanced": bool(balanced), "margin": str(margin)}
    X = pl = None
    if sample is not None:
        options["sample"] = (sample if isinstance(sample, str)
                             else ",".join(str(_whole(v, "batch: sample")) for v in sample))
        options["prompts"] = _whole(count, "batch: count")
        C = 0  # the sampler's, from options["sample"] (checked there)
    elif prompts is not None:
        if not isinstance(prompts, Samples):
            if labels is None:
                raise ValueError("batch: an array X needs labels[B, N]")
            prompts = Samples(prompts, labels, probe_labels, C)
        X, labels, pl, C = prompts.X, prompts.labels, prompts.probe_labels, prompts.C
    else:
        raise ValueError("batch: give prompts (Samples or X with labels) or sample='d,C,N'")
    if pl is not None and np.any(pl < 0):
        pl = None if np.all(pl < 0) else pl
    status, text, log = call(_core.batch, X, labels, pl, C, _model(model).to_json(), options)
    return BatchResult(status, json.loads(text), log)


# --- compare, extract, fuzz: the commands' own code, in this process -------------------

def _write_prompts(prompts, path):
    if isinstance(prompts, (str, os.PathLike)):
        return str(prompts)
    if isinstance(prompts, Samples):
        prompts.to_json(path)
    elif isinstance(prompts, Prompt):
        prompts.to_json(path)
    else:  # a list of Prompt
        with open(path, "w") as f:
            json.dump({"format": 1, "prompts": [_prompt(p).to_dict() for p in prompts]}, f)
    return path


def _write_model(model, path):
    if isinstance(model, (str, os.PathLike)) and not str(model).lstrip().startswith("{"):
        return str(model)
    _model(model).to_json(path)
    return path


class CompareResult:
    """`iclcert compare` (docs/formats.md, "Comparison files"). layers: a DataFrame
    per depth (accuracy_a, accuracy_b, agreement, deviations; with validate, the
    certified counts and certified_deviation_lo/_hi); baselines: a DataFrame;
    certify: the certification of both models (dict) or None; exit_status, log, raw."""

    def __init__(self, exit_status, out, log):
        import pandas as pd

        self.exit_status, self.raw, self.log = exit_status, out, log
        rows = []
        for t, layer in enumerate(out["layers"]):
            row = {"t": layer.get("t", t)}
            for k, v in layer.items():
                if k == "certified" and isinstance(v, dict):
                    for ck, cv in v.items():
                        if is_enclosure(cv):
                            row[f"certified_{ck}_lo"], row[f"certified_{ck}_hi"] = down(cv[0]), up(cv[1])
                        elif not isinstance(cv, (list, dict)):
                            row[f"certified_{ck}"] = cv
                elif isinstance(v, str) or v is None:
                    row[k] = nearest(v)
                elif not isinstance(v, (list, dict)):
                    row[k] = v
            rows.append(row)
        self.layers = pd.DataFrame(rows)
        self.agreement = nearest(out["agreement"]) if isinstance(out.get("agreement"), str) else out.get("agreement")
        self.baselines = pd.DataFrame([{k: (nearest(v) if isinstance(v, str) and k != "name" else v)
                                        for k, v in b.items()} for b in (out.get("baselines") or [])])
        self.certify = out.get("certify")


def _command(args):
    status, log = captured(_core.command, args)
    if status == 2:
        raise InputError(log.strip().splitlines()[-1] if log.strip() else f"iclcert {args[0]}: bad input")
    return status, log


def compare(model, against, prompts, *, predictions=None, validate=0, certify=False, arith="float32",
            device="auto", baselines=True, escalate=True, max_prec=4096, threads=0, min_agreement=None,
            min_prediction_agreement=None):
    """`iclcert compare`: model A against model B on a batch of prompts (Samples, a
    list of Prompt, or a batch file's path), with the classical baselines;
    validate=K runs the first K in Arb balls, certify=True certifies both models'
    final predictions on every prompt. predictions: a trainer's exported
    predictions (a dict or a file, docs/formats.md). Returns a CompareResult."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["compare", "--model", _write_model(model, os.path.join(tmp, "a.json")),
                "--against", _write_model(against, os.path.join(tmp, "b.json")),
                "--prompt-file", _write_prompts(prompts, os.path.join(tmp, "prompts.json")),
                "--json", os.path.join(tmp, "out.json"), "--arith", arith, "--device", device,
                "--validate", str(int(validate)), "--max-prec", str(int(max_prec)), "--no-progress"]
        if predictions is not None:
            if isinstance(predictions, dict):
                path = os.path.join(tmp, "predictions.json")
                with open(path, "w") as f:
                    json.dump(predictions, f)
                predictions = path
            args += ["--predictions", str(predictions)]
        if certify:
            args.append("--certify")
        if not escalate:
            args.append("--no-escalate")
        if not baselines:
            args.append("--no-baselines")
        if threads:
            args += ["--threads", str(int(threads))]
        if min_agreement is not None:
            args += ["--min-agreement", repr(float(min_agreement))]
        if min_prediction_agreement is not None:
            args += ["--min-prediction-agreement", repr(float(min_prediction_agreement))]
        status, log = _command(args)
        with open(os.path.join(tmp, "out.json")) as f:
            return CompareResult(status, json.load(f), log)


class ExtractResult:
    """`iclcert extract` (docs/formats.md, "Extraction files"): claim E3 and the
    reduced recursion. reduced_model, full_model: Models; layers: a DataFrame
    (layer, source, residuals of score and value (max over heads), beta, gamma,
    alpha, alpha_label, fit errors); max_residual; exit_status, log, raw."""

    def __init__(self, exit_status, out, reduced, full, log):
        import pandas as pd

        self.exit_status, self.raw, self.log = exit_status, out, log
        self.reduced_model, self.full_model = Model(reduced), Model(full)
        self.max_residual = nearest(out["max_residual"]) if isinstance(out["max_residual"], str) else out["max_residual"]
        rows = []
        for layer in out["layers"]:
            row = {"layer": layer["layer"], "source": layer["source"]}
            for part in ("score", "value"):
                row[f"{part}_residual"] = max(nearest(h[part]["residual"]) if isinstance(h[part]["residual"], str)
                                              else h[part]["residual"] for h in layer["heads"]) if layer["heads"] else 0.0
                fe = layer["fit_error"][part]
                row[f"{part}_fit_error"] = nearest(fe) if isinstance(fe, str) else fe
            for k, v in layer["reduced"].items():
                row[k] = nearest(v)
            rows.append(row)
        self.layers = pd.DataFrame(rows)


def extract(model, d=None, C=None, max_residual=None):
    """`iclcert extract`: the E3 residuals of every matrix and the reduced recursion
    extracted from the model (theory/extraction.md). d and C default to those the
    model records. Returns an ExtractResult (its .reduced_model runs anywhere a
    Model does)."""
    with tempfile.TemporaryDirectory() as tmp:
        out, reduced, full = (os.path.join(tmp, n) for n in ("out.json", "reduced.json", "full.json"))
        args = ["extract", "--model", _write_model(model, os.path.join(tmp, "m.json")), "--json", out, "--out",
                reduced, "--full-out", full]
        if d is not None:
            args += ["--d", str(int(d))]
        if C is not None:
            args += ["--C", str(int(C))]
        if max_residual is not None:
            args += ["--max-residual", repr(float(max_residual))]
        status, log = _command(args)
        with open(out) as f:
            return ExtractResult(status, json.load(f), reduced, full, log)


class FuzzResult:
    """`iclcert fuzz`: status "held" (every case held), "counterexample" (then
    .counterexample is the saved case, docs/formats.md) or "gave up"; exit_status;
    log (the seed is printed there)."""

    def __init__(self, exit_status, log, counterexample):
        self.exit_status, self.log, self.counterexample = exit_status, log, counterexample
        self.status = {0: "held", 1: "counterexample", 3: "gave up"}.get(exit_status, f"exit {exit_status}")

    def __bool__(self):
        return self.exit_status == 0


def fuzz(property, model=None, *, prompt=None, sample=None, cases=None, seed=None, arith=None, weights=None,
         tolerance=None, shrink=True):
    """`iclcert fuzz --property NAME`: property-based fuzzing of the recursion
    (`iclcert fuzz --list` names them), or "equivariance" of a model's weights with
    model and sample="d,C,N" or prompt. Returns a FuzzResult."""
    run_command = _command
    if not _core.has_fuzz:  # RapidCheck is not in the module (python/_core.cpp): the command runs it
        import shutil
        import subprocess

        exe = os.environ.get("ICLCERT_CLI") or shutil.which("iclcert")
        if not exe:
            raise RuntimeError("fuzz runs the iclcert command: set ICLCERT_CLI to it or put it on PATH")

        def run_command(args):
            r = subprocess.run([exe, *args], capture_output=True, text=True)
            if r.returncode == 2:
                raise InputError(r.stderr.strip() or f"iclcert {args[0]}: bad input")
            return r.returncode, r.stdout + r.stderr
    with tempfile.TemporaryDirectory() as tmp:
        cex = os.path.join(tmp, "cex.json")
        args = ["fuzz", "--property", property, "--counterexample", cex]
        if model is not None:
            args += ["--model", _write_model(model, os.path.join(tmp, "m.json"))]
        if prompt is not None:
            args += ["--prompt", _write_prompts(_prompt(prompt), os.path.join(tmp, "p.json"))]
        if sample is not None:
            args += ["--sample", sample if isinstance(sample, str) else ",".join(str(int(v)) for v in sample)]
        for flag, value in (("--cases", cases), ("--seed", seed), ("--arith", arith), ("--weights", weights),
                            ("--tolerance", tolerance)):
            if value is not None:
                args += [flag, str(value)]
        if not shrink:
            args.append("--no-shrink")
        status, log = run_command(args)
        counterexample = None
        if os.path.exists(cex):
            with open(cex) as f:
                counterexample = json.load(f)
        return FuzzResult(status, log, counterexample)
