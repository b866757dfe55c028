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
from __future__ import annotations

import json
import operator
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Union

try:
    import numpy as np
    import pandas  # noqa: F401  (every result's tables)
except ImportError as e:  # a python3 without them (a pyenv one first on PATH, say)
    raise ImportError(f"iclcert needs NumPy and pandas, which this Python ({e.name} missing) lacks: "
                      "pip install numpy pandas (or Debian's python3: apt-get install python3-numpy "
                      "python3-pandas)") from e
try:
    from . import _core
except ImportError as e:  # the .py files without the compiled module: a partial build
    raise ImportError("iclcert's compiled module iclcert._core is missing or was built for another Python "
                      f"({e}): run `pip install .` in the source tree, or build it with `cmake --build build "
                      "--target iclcert_python` and use Debian's /usr/bin/python3") from e
from ._calls import call
from ._numbers import down, is_enclosure, nearest, up

__version__: str = _core.__version__  # the project's version (CMakeLists.txt; `iclcert --version`)

InputError = _core.InputError  # bad input (a ValueError): the message names the field

__all__ = ["Prompt", "Model", "Samples", "run", "check", "batch", "compare", "extract", "fuzz", "sample",
           "sweep", "validate", "InputError", "RunResult", "Verdict", "RegionMap", "BatchResult", "CompareResult",
           "ExtractResult", "FuzzResult", "SweepResult", "ValidationResult", "__version__"]

PathLike = Union[str, "os.PathLike[str]"]


def _load(source):
    """A dict from a dict, a JSON text, or a path."""
    if isinstance(source, dict):
        return source
    if isinstance(source, (str, os.PathLike)) and not str(source).lstrip().startswith("{"):
        with open(source) as f:
            return json.load(f)
    return json.loads(source)


def _write_text(text: str, path: PathLike | None) -> str:
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text


class _Document:
    """A file form held as the library's exact text (self._data, its JSON)."""

    def to_dict(self) -> dict:
        """A copy of the file's dict (numbers as the library's exact texts)."""
        return json.loads(json.dumps(self._data))

    def to_json(self, path: PathLike | None = None) -> str:
        """The file's JSON text; also written to path when given."""
        return _write_text(json.dumps(self._data, indent=1) + "\n", path)


# --- arguments: a wrong type is a TypeError, a wrong size a ValueError (before any work)

def _whole(value: Any, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """value as a Python int: an int or NumPy integer (never a bool, nor a float
    that int() would truncate), within [lo, hi] when given (else ValueError)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a whole number, got a bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected a whole number, got {type(value).__name__} {value!r:.40}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} = {v}: expected {lo} to {hi}")
    return v


_SEED_MAX = 2**64 - 1  # seeds are 64-bit unsigned, as on the command line
_MAX_D, _MAX_C, _MAX_N = 1024, 256, 65536  # the limits of io/limits.hpp (docs/formats.md, "Limits")


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


def _real(value: Any, name: str) -> float:
    """value as a float: an int or float (never a bool nor a text)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r:.40}")
    return float(value)


def _sample_spec(sample: str | Sequence[int], name: str) -> str:
    """"d,C,N" from a text or a sequence of three whole numbers."""
    if isinstance(sample, str):
        return sample
    return ",".join(str(_whole(v, name)) for v in sample)


# --- tables: the command's column names; the earlier names still read, deprecated

_METRICS = ["fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment",
            "probe_attention_same_class", "train_attention_same_class"]
_STATISTICS = ("mean", "min", "max", "finite", "pos_inf", "undefined")
_RENAMED = {f"{m}_{s}": f"{s}_{m}" for m in _METRICS for s in _STATISTICS}
_RENAMED.update({f"{part}_{what}": f"{what}_{part}" for part in ("score", "value")
                 for what in ("residual", "fit_error")})


def _renamed(key, columns):
    """key, or the new name of an old column name (warned about at the caller's caller)."""
    if isinstance(key, str) and key not in columns and key in _RENAMED:
        warnings.warn(f"column {key!r} is now {_RENAMED[key]!r}, as in the command's CSV and JSON",
                      DeprecationWarning, stacklevel=3)
        return _RENAMED[key]
    return key


class _Table(pandas.DataFrame):
    """A DataFrame that still reads a column by its earlier name
    (`fisher_mean` for `mean_fisher`, `score_residual` for `residual_score`), with a
    DeprecationWarning. What it derives is a plain DataFrame."""

    def __getitem__(self, key):
        if isinstance(key, list):
            key = list(map(_renamed, key, [self.columns] * len(key)))
        else:
            key = _renamed(key, self.columns)
        return super().__getitem__(key)

    def __getattr__(self, name):
        if name in _RENAMED and name not in self.columns:
            return super().__getitem__(_renamed(name, self.columns))
        return super().__getattr__(name)

    @property
    def _constructor(self):
        return pandas.DataFrame


# --- the file forms -------------------------------------------------------------------

class Prompt(_Document):
    """One prompt (docs/formats.md, "Prompt files"), held as the library's exact
    text form. Build it from a file or dict (`Prompt.from_json`) or from arrays
    (`Prompt.from_arrays`); `to_json()` writes what `iclcert --prompt` reads.
    Read back: d, C, N, labels, probe_label, X (N x d floats), probe (d floats)."""

    def __init__(self, data: dict | str | PathLike) -> None:
        """data: a prompt file's dict, its JSON text, or its path."""
        self._data = json.loads(_core.canonical_prompt(json.dumps(_load(data)), "prompt"))

    @classmethod
    def from_json(cls, source: dict | str | PathLike) -> Prompt:
        """A prompt from a file's path, its JSON text or its dict."""
        return cls(source)

    @classmethod
    def from_arrays(cls, X: Any, labels: Any, probe: Any, probe_label: int | None = None,
                    C: int | None = None) -> Prompt:
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
                                        _whole(C, "Prompt.from_arrays: C", 2, _MAX_C))
        return cls(text)

    @classmethod
    def default(cls) -> Prompt:
        """The embedded default prompt (examples/default_prompt.json)."""
        return cls(_core.default_prompt())

    @property
    def d(self) -> int:
        """Features."""
        return self._data["d"]

    @property
    def C(self) -> int:
        """Classes."""
        return self._data["C"]

    @property
    def N(self) -> int:
        """Training points."""
        return self._data["N"]

    @property
    def labels(self) -> np.ndarray:
        """The training points' classes, int64 [N]."""
        return np.array(self._data["labels"], dtype=np.int64)

    @property
    def probe_label(self) -> int | None:
        """The probe's true class, or None."""
        return self._data.get("probe_label")

    @property
    def X(self) -> np.ndarray:
        """The training points, float64 [N, d] (each the nearest double of its exact value)."""
        return np.array([[nearest(v) for v in row] for row in self._data["X"]]).reshape(self.N, self.d)

    @property
    def probe(self) -> np.ndarray:
        """The probe, float64 [d]."""
        return np.array([nearest(v) for v in self._data["probe"]])

    def __eq__(self, other):
        return isinstance(other, Prompt) and self._data == other._data

    def __repr__(self):
        return f"Prompt(d={self.d}, C={self.C}, N={self.N}, probe_label={self.probe_label})"


class Model(_Document):
    """A model (docs/formats.md, "Model files"): reduced, full or dense layers, held
    as the library's exact text form. `Model.dense` builds one from NumPy matrices
    (iclcert.torch builds them from PyTorch). Read back: layers (the file's list),
    kernel, probe_is_key, d and C (None when the model records none)."""

    def __init__(self, data: dict | str | PathLike) -> None:
        """data: a model file's dict, its JSON text, or its path."""
        self._data = json.loads(_core.canonical_model(json.dumps(_load(data)), "model"))

    @classmethod
    def from_json(cls, source: dict | str | PathLike) -> Model:
        """A model from a file's path, its JSON text or its dict."""
        return cls(source)

    @classmethod
    def default(cls) -> Model:
        """The embedded default model (examples/default_model.json)."""
        return cls(_core.default_model())

    @classmethod
    def dense(cls, layers: Sequence[Sequence[tuple[Any, Any]]], d: int, C: int, kernel: str = "softmax",
              probe_is_key: bool = False, probe_label_init: str = "zero") -> Model:
        """layers: a list of layers, each a list of (S, V) per head, (d+C) x (d+C)
        arrays: s_ji = z_j^T S z_i and z_j += sum_i A_ji V z_i. d and C are recorded
        in the model, so no prompt of another split is accepted. kernel: "softmax" or
        "linear"; probe_label_init: "zero" or "uniform". Each float enters as its
        exact rational value."""
        d = _whole(d, "Model.dense: d", 1, _MAX_D)
        C = _whole(C, "Model.dense: C", 2, _MAX_C)
        layers = [[(np.asarray(S, dtype=np.float64), np.asarray(V, dtype=np.float64)) for S, V in layer]
                  for layer in layers]
        return cls(_core.dense_model(layers, kernel, bool(probe_is_key), probe_label_init, d, C))

    @property
    def layers(self) -> list:
        """The layers as in the file (exact texts)."""
        return self._data["layers"]

    @property
    def kernel(self) -> str:
        """"softmax" or "linear"."""
        return self._data.get("kernel", "softmax")

    @property
    def probe_is_key(self) -> bool:
        """Whether the probe is a key of the attention too."""
        return self._data.get("probe_is_key", False)

    @property
    def d(self) -> int | None:
        """The features the model records (None: any)."""
        return self._data.get("d")

    @property
    def C(self) -> int | None:
        """The classes the model records (None: any)."""
        return self._data.get("C")

    def __eq__(self, other):
        return isinstance(other, Model) and self._data == other._data

    def __repr__(self):
        return f"Model({len(self.layers)} layers, {self.kernel}, d={self.d}, C={self.C}, probe_is_key={self.probe_is_key})"


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
    probe), labels[B, N], probe_labels[B] (-1: none), C. What `sample` returns and
    `batch` and `compare` take."""

    def __init__(self, X: Any, labels: Any, probe_labels: Any = None, C: int | None = None) -> None:
        """X[B, N+1, d] (floats, each exactly), labels[B, N], probe_labels[B] or None,
        C (default: the largest class seen + 1, at least 2)."""
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

    def __len__(self) -> int:
        return self.X.shape[0]

    def prompt(self, k: int) -> Prompt:
        """Prompt k, exactly."""
        k = _whole(k, "Samples.prompt: k")
        pl = None if self.probe_labels is None or self.probe_labels[k] < 0 else int(self.probe_labels[k])
        return Prompt.from_arrays(self.X[k, :-1], self.labels[k], self.X[k, -1], pl, self.C)

    def to_json(self, path: PathLike | None = None) -> str:
        """The batch file (docs/formats.md) of these prompts; also written to path when given."""
        text = json.dumps({"format": 1, "prompts": [self.prompt(k).to_dict() for k in range(len(self))]}) + "\n"
        return _write_text(text, path)

    def __repr__(self):
        B, n1, d = self.X.shape
        return f"Samples(B={B}, d={d}, C={self.C}, N={n1 - 1})"


def sample(d: int, C: int, N: int, count: int = 1, seed: int = 1, balanced: bool = False,
           margin: str = "0") -> Samples:
    """Prompts drawn by iclcert's sampler, as `iclcert sample -d d -C C -N N --count
    count --seed seed` writes them: prompt k with seed seed + k.

    d: features (1 to 1024); C: classes (2 to 256); N: training points (1 to 65536);
    count: prompts (1 to 10^6); seed: 0 to 2^64 - 1; balanced: as many points per
    class as possible; margin: the least distance of the probe to a decision
    boundary (a number text). Every number drawn is a double, so the arrays hold the
    prompts exactly. Returns Samples (`.prompt(k)` is prompt k as a Prompt)."""
    sizes = [_whole(d, "sample: d", 1, _MAX_D), _whole(C, "sample: C", 2, _MAX_C),
             _whole(N, "sample: N", 1, _MAX_N), _whole(count, "sample: count", 1, 10**6),
             _whole(seed, "sample: seed", 0, _SEED_MAX)]
    X, labels, probe_labels = _core.sample(*sizes, bool(balanced), str(margin))
    return Samples(X, labels, probe_labels, sizes[1])


# --- run ------------------------------------------------------------------------------

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
    1..N then the probe. arithmetic; enclosures (bool); raw: the trace file's dict
    (exact texts)."""

    def __init__(self, trace: dict) -> None:
        """trace: a trace file's dict (`iclcert run --json`)."""
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
        self.metrics = pandas.DataFrame(rows)

    def to_json(self, path: PathLike | None = None) -> str:
        """The trace file's JSON text; also written to path when given."""
        return _write_text(json.dumps(self.raw, indent=1) + "\n", path)

    def to_frame(self) -> pandas.DataFrame:
        """The DataFrame per depth (`metrics`)."""
        return self.metrics

    def __repr__(self):
        return f"RunResult({self.arithmetic}, depths 0..{len(self.states) - 1})"


def run(prompt: Prompt | dict | str | PathLike | None = None, model: Model | dict | str | PathLike | None = None,
        arith: str = "double", *, progress: bool | None = None) -> RunResult:
    """The recursion on one prompt, as `iclcert run --arith ARITH --json` computes it.

    prompt, model: a Prompt or Model (or a file's path, JSON text or dict); default:
    the embedded examples. arith: "double", "rational" (exact; linear kernel only),
    "mpfr:BITS", "interval:BITS" (Arb balls) or "interval-mpfi:BITS". Returns a
    RunResult (`.metrics` a DataFrame per depth, `.states[t]` the arrays).
    progress: a bar on standard error (None: when it is a terminal or a notebook)."""
    p, m = _prompt(prompt), _model(model)
    return RunResult(json.loads(call(_core.run, p.to_json(), m.to_json(), str(arith), progress=progress)))


# --- check ----------------------------------------------------------------------------

class RegionMap:
    """R1's map (`check("R1", ..., map=True, box=...)`, docs/formats.md "R1 maps"):
    where in the coefficient box the claim is proved, refuted or undecided.
    regions: a DataFrame, one row per region, with the columns of `iclcert check
    --map-csv` (region, status, volume, volume_exact, depth, then NAME_lo, NAME_hi
    as exact texts and NAME_lo_float, NAME_hi_float as floats, NAME each box
    coefficient); fractions: the volume fractions proved, refuted and undecided
    (floats); coefficients: the box's names; raw: the `--map-json` dict."""

    def __init__(self, raw: dict, csv_text: str) -> None:
        """raw: the region list's JSON dict; csv_text: the same list as CSV."""
        import io

        self.raw = raw
        self.coefficients = [b["coefficient"] for b in raw["box"]]
        exact_columns = ["volume_exact"] + [f"{n}_{e}" for n in self.coefficients for e in ("lo", "hi")]
        self.regions = pandas.read_csv(io.StringIO(csv_text), dtype={c: str for c in exact_columns})
        self.fractions = {k: float(v) for k, v in raw["volume_fractions_decimal"].items()}

    def to_frame(self) -> pandas.DataFrame:
        """The regions (a DataFrame)."""
        return self.regions

    def to_json(self, path: PathLike | None = None) -> str:
        """The region list's JSON text (as `--map-json` writes it); also written to path."""
        return _write_text(json.dumps(self.raw, indent=1) + "\n", path)

    def __repr__(self):
        f = self.fractions
        return (f"RegionMap({len(self.regions)} regions over {', '.join(self.coefficients)}: proved "
                f"{f['proved']:.3f}, refuted {f['refuted']:.3f}, undecided {f['undecided']:.3f})")


class Verdict:
    """A claim's verdict (docs/formats.md, "Verdict files"). status: "proved",
    "refuted" or "undecided"; evidence and counterexample: the file's fields (dicts,
    exact texts); exit_status: the command's (0, 1, 3); log: its account; raw: the
    whole verdict file. replay() re-checks it as `iclcert check --replay` does.
    True (bool) exactly when proved."""

    def __init__(self, exit_status: int, verdict: dict, log: str, map: RegionMap | None = None) -> None:
        """exit_status, the verdict file's dict, the account, and R1's map (or None)."""
        self.map = map
        self.exit_status = exit_status
        self.raw = verdict
        self.log = log
        self.claim = verdict["claim"]
        self.status = verdict["verdict"]
        self.precision_bits = verdict["precision_bits"]
        self.evidence = verdict["evidence"]
        self.counterexample = verdict["counterexample"]

    def to_json(self, path: PathLike | None = None) -> str:
        """The verdict file's JSON text; also written to path when given."""
        return _write_text(json.dumps(self.raw, indent=1) + "\n", path)

    def replay(self, *, progress: bool | None = None) -> bool:
        """True when the verdict and every recorded number are reproduced (each
        recorded enclosure contains the recomputed one); the account is in
        `replay_log`."""
        status, self.replay_log = call(_core.replay, self.to_json(), progress=progress)
        return status == 0

    def to_frame(self) -> pandas.DataFrame:
        """R1 with map=True: the map's regions (`self.map.regions`); otherwise one
        row: claim, verdict, precision_bits, exit_status."""
        if self.map is not None:
            return self.map.regions
        return pandas.DataFrame([{"claim": self.claim, "verdict": self.status, "precision_bits": self.precision_bits,
                                  "exit_status": self.exit_status}])

    def __bool__(self):
        return self.status == "proved"

    def __repr__(self):
        return f"Verdict({self.claim}: {self.status}, {self.precision_bits} bits)"


def check(claim: str, prompt: Prompt | dict | str | PathLike | None = None,
          model: Model | dict | str | PathLike | None = None, *, sample: str | Sequence[int] | None = None,
          seed: int = 1, balanced: bool = False, margin: str = "0", arith: str = "interval", prec: int | None = None,
          max_prec: int = 1024, layers: str = "", metric: str = "fisher", box: Iterable[str] = (), ball: str = "",
          budget: int = 256, samples: int = 200, confidence: str = "0.99", map: bool = False, form: str = "taylor2",
          time_limit: float = 0, progress: bool | None = None) -> Verdict:
    """A certified verdict on one instance, as `iclcert check --claim CLAIM` gives.

    claim: "A1", "A2", "E1", "E2", "C1" or "R1" (theory/claims.md).
    prompt, model: a Prompt or Model (or a file's path, JSON text or dict); default:
        the embedded examples. Or sample="d,C,N" (or (d, C, N)) draws the prompt with
        seed, balanced and margin, as `--sample` does (not with prompt).
    arith: "interval" (Arb), "interval-mpfi" or "rational" ("interval:BITS" sets
        prec); prec: the starting precision in bits (default 128), doubled up to
        max_prec (at most 65536) while undecided.
    layers: "T0:T1", check those transitions only; metric: "fisher" or "gap" (A2).
    box: R1's coefficient ranges, each "NAME=LO:HI" (beta, gamma, alpha,
        alpha_label); ball: R1, every prompt within this l_inf distance; budget: R1's
        sub-boxes (1 to 2^20).
    map=True (R1 with a box): pave the box and keep every region: the Verdict's
        .map is a RegionMap (.regions a DataFrame, .fractions); form: the R1
        enclosure where plain evaluation is undecided, "taylor2" (second-order Taylor
        models over the box), "taylor3" (third order), "affine", "centred" or "plain"; time_limit: stop paving after this many seconds (0: none).
    samples: C1's prompts (1 to 10^7); confidence: C1's joint level 1 - delta.
    progress: a bar on standard error for C1 and R1 (None: when it is a terminal
        or a notebook). Ctrl-C stops the work within a unit (a prompt, a sub-box)
        and raises KeyboardInterrupt.
    Returns a Verdict: .status "proved", "refuted" or "undecided", .evidence,
    .counterexample, .exit_status (0, 1, 3), .log, .replay(), .map (R1 map) and
    .to_frame(). Bad input raises InputError (a ValueError) naming the field."""
    options = {"arith": str(arith),
               "max_prec": _whole(max_prec, "check: max_prec", 1, 2**31 - 1), "layers": str(layers),
               "metric": str(metric), "box": [str(b) for b in ([box] if isinstance(box, str) else box)],
               "ball": str(ball), "budget": _whole(budget, "check: budget", 1, 2**20),
               "samples": _whole(samples, "check: samples", 1, 10**7), "confidence": str(confidence),
               "seed": _whole(seed, "check: seed", 0, _SEED_MAX), "balanced": bool(balanced), "margin": str(margin),
               "map": bool(map), "form": str(form), "time_limit": _real(time_limit, "check: time_limit")}
    if prec is not None:  # given: it must agree with arith's BITS, as on the command line
        options["prec"] = _whole(prec, "check: prec", 1, 2**31 - 1)
    if sample is not None:
        options["sample"] = _sample_spec(sample, "check: sample")
        if prompt is not None:
            raise ValueError("check: give prompt or sample, not both")
    p = None if prompt is None else _prompt(prompt).to_json()
    m = None if model is None else _model(model).to_json()
    status, verdict, log, regions = call(_core.check, str(claim), p, m, options, progress=progress)
    return Verdict(status, json.loads(verdict), log, None if regions is None else RegionMap(json.loads(regions[0]),
                                                                                            regions[1]))


# --- batch ----------------------------------------------------------------------------

class BatchResult:
    """`iclcert batch` (docs/formats.md, "Batch results"). predictions: array [B]
    (-1: the float state overflowed); accuracy; layers: a DataFrame per depth (t,
    accuracy, and for each metric mean_METRIC, min_METRIC, max_METRIC and the counts
    finite_METRIC, pos_inf_METRIC, undefined_METRIC; `mean_fisher` is the CSV's
    column too); validation: a DataFrame per depth (validate > 0) or None;
    certification: a DataFrame per prompt (certify) or None, with margin_lo,
    margin_hi (outward); exit_status, log; raw: the file's dict."""

    def __init__(self, exit_status: int, out: dict, log: str) -> None:
        """exit_status, the batch results file's dict, and the account."""
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
                        row[f"{stat}_{name}"] = nearest(s[stat])
                    for count in ("finite", "pos_inf", "undefined"):
                        row[f"{count}_{name}"] = s[count]
                rows.append(row)
            self.layers = _Table(rows)
            if out["validation"] is not None:
                vrows = []
                for layer in out["validation"]["layers"]:
                    row = {k: (nearest(v) if isinstance(v, str) else v) for k, v in layer.items() if k != "outside_ulps"}
                    row.update({f"outside_ulps_{k}": v for k, v in layer["outside_ulps"].items()})
                    vrows.append(row)
                self.validation = pandas.DataFrame(vrows)
        if "certification" in out:
            per = out["certification"]["per_prompt"]
            self.certification = pandas.DataFrame(
                [{"status": c["status"], "prediction": c["prediction"],
                  "float_prediction": -1 if c["float_prediction"] is None else c["float_prediction"],
                  "flipped": c["flipped"], "margin_lo": down(c["margin"][0]), "margin_hi": up(c["margin"][1]),
                  "bits": c["bits"]} for c in per])
            self.predictions = self.certification["prediction"].to_numpy()

    def to_frame(self) -> pandas.DataFrame:
        """certify: the DataFrame per prompt (`certification`); otherwise the one per
        depth (`layers`)."""
        return self.certification if self.certification is not None else self.layers

    def __repr__(self):
        B = None if self.predictions is None else len(self.predictions)
        return f"BatchResult({B} prompts, exit status {self.exit_status})"


def batch(prompts: Samples | Any = None, model: Model | dict | str | PathLike | None = None, arith: str = "float32",
          device: str = "auto", validate: int | str = 0, certify: bool = False, *, labels: Any = None,
          probe_labels: Any = None, C: int | None = None, sample: str | Sequence[int] | None = None, count: int = 1,
          seed: int = 1, balanced: bool = False, margin: str = "0", threads: int = 0, escalate: bool = True,
          max_prec: int = 1024, final_only: bool = False, progress: bool | None = None) -> BatchResult:
    """The batched float path over many prompts, as `iclcert batch` runs it.

    prompts: a Samples (from `sample`), or an array X[B, N+1, d] (the probe last) with
        labels[B, N] (and probe_labels[B], C); or sample="d,C,N" with count and seed,
        drawn as `batch --sample`. Each float of X enters exactly.
    model: a Model (or a file's path, JSON text or dict); default: the embedded one.
    arith: "float32" or "float64"; device: "auto", "cpu" or "cuda".
    validate=K: the first K prompts also in Arb balls, each float value checked
        against its enclosure; certify=True: every prediction certified (float64
        intervals, then Arb up to max_prec bits unless escalate=False); not both.
    threads: CPU threads (0: every core, up to 1024); final_only: statistics of the
        last layer only.
    progress: a bar on standard error (None: when it is a terminal or a notebook);
        Ctrl-C stops the work after the chunk under way.
    Returns a BatchResult (`.predictions`, `.layers`, `.validation`, `.certification`)."""
    if validate and certify:
        raise ValueError("batch: validate and certify: choose one (certify certifies every prompt's prediction)")
    if not isinstance(validate, str):
        validate = _whole(validate, "batch: validate", 0)
    options = {"arith": str(arith), "device": str(device), "validate": str(validate), "certify": bool(certify),
               "escalate": bool(escalate), "max_prec": _whole(max_prec, "batch: max_prec", 64, 65536),
               "threads": _whole(threads, "batch: threads", 0, 1024), "final_only": bool(final_only),
               "seed": _whole(seed, "batch: seed", 0, _SEED_MAX), "balanced": bool(balanced), "margin": str(margin)}
    X = pl = None
    if sample is not None:
        options["sample"] = _sample_spec(sample, "batch: sample")
        options["prompts"] = _whole(count, "batch: count", 1, 10**9)
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
    status, text, log = call(_core.batch, X, labels, pl, C, _model(model).to_json(), options, progress=progress)
    return BatchResult(status, json.loads(text), log)


# --- sweep ----------------------------------------------------------------------------

class SweepResult:
    """`sweep` (docs/formats.md, "Sweep files"): a map of certified verdicts over a
    grid of reduced-model coefficients. cells: a DataFrame, one row per cell, with
    the columns of `iclcert sweep --csv` (the coordinates, then the counts proved,
    refuted and undecided, ...); exit_status; log; raw: the `--json` dict (each
    refuted cell's counterexample there is a verdict file `check --replay` runs)."""

    def __init__(self, exit_status: int, raw: dict, csv_text: str, log: str) -> None:
        """exit_status, the sweep file's dict, its CSV text and the account."""
        import io

        self.exit_status, self.raw, self.log = exit_status, raw, log
        self.cells = pandas.read_csv(io.StringIO(csv_text))

    def to_frame(self) -> pandas.DataFrame:
        """The DataFrame per cell (`cells`)."""
        return self.cells

    def __repr__(self):
        return f"SweepResult({len(self.cells)} cells, exit status {self.exit_status})"


def sweep(claim: str, grid: str | Iterable[str], model: Model | dict | str | PathLike | None = None, *,
          prompts: Samples | Prompt | Iterable[Prompt] | PathLike | None = None,
          sample: str | Sequence[int] | None = None, count: int = 1, seed: int = 1, metric: str = "fisher",
          prec: int = 128, max_prec: int = 1024, threads: int = 0, counterexamples: PathLike | None = None,
          progress: bool | None = None) -> SweepResult:
    """A map of certified verdicts over a grid of reduced-model coefficients, as
    `iclcert sweep` computes it: every cell's model is `model` (default: the
    embedded one; reduced layers) with the gridded coefficients set at every layer,
    and every (cell, prompt) is checked by the code of `check`.

    claim: "A2", "A1", "E1" or "margin" (the sign of the final probe margin).
    grid: 1 to 4 axes, each "NAME=LO:HI:COUNT" (beta, gamma, alpha, alpha_label).
    prompts: a Samples, a Prompt, a list of Prompt or a batch file's path; or
        sample="d,C,N" with count prompts drawn from seed (prompt k with seed + k).
    metric: "fisher" or "gap"; prec, max_prec: the precision escalation of check;
    threads: 0 (every core) or more; counterexamples: a folder for each refuted
    cell's verdict file; progress: a bar (None: on a terminal or in a notebook).
    Ctrl-C stops the work after the check under way.
    Returns a SweepResult (`.cells` a DataFrame with the CSV's columns)."""
    grid = [grid] if isinstance(grid, str) else [str(g) for g in grid]
    options = {"metric": str(metric), "prec": _whole(prec, "sweep: prec", 1, 2**31 - 1),
               "max_prec": _whole(max_prec, "sweep: max_prec", 1, 65536),
               "threads": _whole(threads, "sweep: threads", 0, 1024), "seed": _whole(seed, "sweep: seed", 0, _SEED_MAX),
               "prompts": _whole(count, "sweep: count", 1, 10**9)}
    if counterexamples is not None:
        options["counterexamples"] = os.fspath(counterexamples)
    if sample is not None:
        if prompts is not None:
            raise ValueError("sweep: give prompts or sample, not both")
        options["sample"] = _sample_spec(sample, "sweep: sample")
    m = None if model is None else _model(model).to_json()
    path = os.fspath(prompts) if isinstance(prompts, (str, os.PathLike)) else None
    given = None if prompts is None or path is not None else _prompts_text(prompts)  # in memory, no file
    status, text, csv_text, log = call(_core.sweep, str(claim), grid, m, given, path, options, progress=progress)
    return SweepResult(status, json.loads(text), csv_text, log)


# --- validate: a user's own float run against certified predictions ------------------

def _numpy(value: Any, name: str) -> np.ndarray:
    """A NumPy array of an array, a list or a torch tensor (detached, on the CPU)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.dtype.kind not in "iufb":
        raise TypeError(f"{name}: expected an array of numbers, got dtype {a.dtype}")
    return a


class ValidationResult:
    """`validate`: a float run's predictions against the certified ones.

    rows: a DataFrame, one row per prompt: prompt, label (the probe's true class,
    -1 when the prompt has none), certified (the certified class, -1 when undecided
    at max_prec), float_class (yours), flip (certified and different from yours),
    margin_lo, margin_hi (an enclosure of the final margin of the certified class,
    or of the leading one when undecided: y[class] minus the largest other); with
    logits, float_margin (your logit of that class minus the largest other).
    summary: a dict: prompts, certified, undecided, flips, labelled (prompts with a
    label and a certified class), correct (of those, certified class = label),
    certified_accuracy (correct / labelled; None without labels).
    exit_status: 1 when a float class flips against a certified one, else 0; log:
    the account."""

    def __init__(self, rows: pandas.DataFrame, summary: dict, log: str, exit_status: int) -> None:
        """rows: the per-prompt DataFrame; summary; the account; the exit status."""
        self.rows, self.summary, self.log, self.exit_status = rows, summary, log, exit_status

    @property
    def flips(self) -> np.ndarray:
        """The prompts whose float class flips against a certified one (indices)."""
        return np.flatnonzero(self.rows["flip"].to_numpy())

    def to_frame(self) -> pandas.DataFrame:
        """The per-prompt DataFrame (`rows`)."""
        return self.rows

    def __repr__(self):
        s = self.summary
        accuracy = "n/a" if s["certified_accuracy"] is None else f"{s['certified_accuracy']:.4f}"
        return (f"ValidationResult({s['prompts']} prompts: certified {s['certified']}, flips {s['flips']}, "
                f"certified accuracy {accuracy})")


def validate(model: Model | dict | str | PathLike, prompts: Samples | Prompt | Iterable[Prompt] | PathLike,
             predictions: Any, logits: Any = None, *, escalate: bool = True, max_prec: int = 1024,
             threads: int = 0, progress: bool | None = None) -> ValidationResult:
    """Your own float run (PyTorch, NumPy, ...) checked against certified predictions.

    model: the Model your run used (iclcert.torch.from_module builds one from your
        layers; or a file's path, JSON text or dict); prompts: the prompts it ran on
        (a Samples, a Prompt, a list of Prompt, or a batch file's path);
        predictions: your class per prompt, [B] (a NumPy array, list or torch
        tensor); logits: optionally your final probe logits [B, C].
    Every prediction is certified as `iclcert batch --certify` and `compare
    --certify` certify it (float64 intervals, then Arb up to max_prec bits unless
    escalate=False); a flip is a prompt whose certified class differs from yours.
    threads: 0 (every core) to 1024; progress: a bar (None: on a terminal or in a
    notebook).
    Returns a ValidationResult: .rows (a DataFrame per prompt: certified,
    float_class, flip, margin_lo, margin_hi, label) and .summary (certified
    accuracy, flips)."""
    pred = _numpy(predictions, "validate: predictions")
    if pred.dtype.kind == "b" or (pred.dtype.kind == "f" and not np.all(pred == np.trunc(pred))):
        raise TypeError("validate: predictions: expected whole numbers (classes)")
    if pred.ndim != 1:
        raise ValueError(f"validate: predictions: expected one class per prompt, shape (B,), got {pred.shape}")
    if np.any(np.abs(pred) > 2**31 - 1):
        raise ValueError("validate: predictions: a class beyond any C")
    flat = []
    if logits is not None:
        lg = _numpy(logits, "validate: logits")
        if lg.ndim != 2 or lg.shape[0] != pred.shape[0]:
            raise ValueError(f"validate: logits: expected shape (B, C) with B = {pred.shape[0]}, got {lg.shape}")
        flat = lg.astype(np.float64).ravel().tolist()
    options = {"escalate": bool(escalate), "max_prec": _whole(max_prec, "validate: max_prec", 64, 65536),
               "threads": _whole(threads, "validate: threads", 0, 1024)}
    rows, summary, log, status = call(_core.validate, _model(model).to_json(), _prompts_text(prompts),
                                      pred.astype(np.int64).tolist(), flat, options, progress=progress)
    return ValidationResult(pandas.DataFrame(rows), summary, log, status)


# --- compare, extract, fuzz: the commands' own code, in this process -------------------

def _prompts_text(prompts) -> str:
    """A batch file's JSON text (docs/formats.md) of prompts: a Samples, a Prompt, a
    list of Prompt (or their dicts), or a batch file's path."""
    if isinstance(prompts, (str, os.PathLike)) and not str(prompts).lstrip().startswith("{"):
        with open(prompts) as f:
            return f.read()
    if isinstance(prompts, Samples):
        return prompts.to_json()
    if isinstance(prompts, (Prompt, dict, str)):
        prompts = [prompts]
    return json.dumps({"format": 1, "prompts": [_prompt(p).to_dict() for p in prompts]})


def _write_model(model, path):
    if isinstance(model, (str, os.PathLike)) and not str(model).lstrip().startswith("{"):
        return str(model)
    _model(model).to_json(path)
    return path


class CompareResult:
    """`iclcert compare` (docs/formats.md, "Comparison files"). layers: a DataFrame
    per depth (accuracy_a, accuracy_b, agreement, deviations; with validate, the
    certified counts and certified_deviation_lo/_hi); agreement; baselines: a
    DataFrame; certify: the certification of both models (dict) or None;
    exit_status, log, raw."""

    def __init__(self, exit_status: int, out: dict, log: str) -> None:
        """exit_status, the comparison file's dict, and the account."""
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
        self.layers = pandas.DataFrame(rows)
        self.agreement = nearest(out["agreement"]) if isinstance(out.get("agreement"), str) else out.get("agreement")
        self.baselines = pandas.DataFrame([{k: (nearest(v) if isinstance(v, str) and k != "name" else v)
                                            for k, v in b.items()} for b in (out.get("baselines") or [])])
        self.certify = out.get("certify")

    def to_frame(self) -> pandas.DataFrame:
        """The DataFrame per depth (`layers`)."""
        return self.layers

    def __repr__(self):
        return f"CompareResult(agreement {self.agreement}, exit status {self.exit_status})"


def compare(model: Model | dict | str | PathLike, against: Model | dict | str | PathLike,
            prompts: Samples | Prompt | Iterable[Prompt] | PathLike, *, predictions: dict | PathLike | None = None,
            validate: int = 0, certify: bool = False, arith: str = "float32", device: str = "auto",
            baselines: bool = True, escalate: bool = True, max_prec: int = 1024, threads: int = 0,
            min_agreement: float | None = None, min_prediction_agreement: float | None = None,
            progress: bool | None = None) -> CompareResult:
    """Model A against model B on a batch of prompts, with the classical baselines,
    as `iclcert compare` runs it.

    model, against: Models (or files' paths, JSON texts or dicts).
    prompts: a Samples, a Prompt, a list of Prompt, or a batch file's path.
    predictions: a trainer's exported predictions (a dict or a file, docs/formats.md),
        compared with model A's.
    validate=K: the first K prompts also in Arb balls (0 to 10^6); certify=True:
        both models' final predictions certified on every prompt (escalating up to
        max_prec bits unless escalate=False).
    arith: "float32" or "float64"; device: "auto", "cpu" or "cuda"; threads: 0 (every
        core) to 1024; baselines=False skips the classical classifiers.
    min_agreement, min_prediction_agreement: exit status 1 below these.
    progress: a bar on standard error (None: when it is a terminal or a notebook).
    Returns a CompareResult (`.layers`, `.baselines`, `.certify`)."""
    validate = _whole(validate, "compare: validate", 0, 10**6)
    max_prec = _whole(max_prec, "compare: max_prec", 64, 65536)
    threads = _whole(threads, "compare: threads", 0, 1024)
    options = {"arith": str(arith), "device": str(device), "validate": validate, "certify": bool(certify),
               "escalate": bool(escalate), "baselines": bool(baselines), "max_prec": max_prec, "threads": threads}
    if min_agreement is not None:
        options["min_agreement"] = _real(min_agreement, "compare: min_agreement")
    if min_prediction_agreement is not None:
        options["min_prediction_agreement"] = _real(min_prediction_agreement, "compare: min_prediction_agreement")
    predictions_text = None
    if isinstance(predictions, dict):
        predictions_text = json.dumps(predictions)
    elif predictions is not None:
        options["predictions_file"] = os.fspath(predictions)
    status, text, log = call(_core.compare, _model(model).to_json(), _model(against).to_json(),
                             _prompts_text(prompts), predictions_text, options, progress=progress)
    return CompareResult(status, json.loads(text), log)


class ExtractResult:
    """`iclcert extract` (docs/formats.md, "Extraction files"): claim E3 and the
    reduced recursion. reduced_model, full_model: Models; layers: a DataFrame, one
    row per layer, with the CSV's columns: layer, source, residual_score and
    residual_value (the largest over the heads), beta, gamma, alpha, alpha_label,
    fit_error_score, fit_error_value; max_residual; exit_status, log, raw."""

    def __init__(self, exit_status: int, out: dict, reduced: dict | PathLike, full: dict | PathLike,
                 log: str) -> None:
        """exit_status, the extraction file's dict, the reduced and full models, the account."""
        self.exit_status, self.raw, self.log = exit_status, out, log
        self.reduced_model, self.full_model = Model(reduced), Model(full)
        self.max_residual = nearest(out["max_residual"]) if isinstance(out["max_residual"], str) else out["max_residual"]
        rows = []
        for layer in out["layers"]:
            row = {"layer": layer["layer"], "source": layer["source"]}
            for part in ("score", "value"):
                row[f"residual_{part}"] = max(nearest(h[part]["residual"]) if isinstance(h[part]["residual"], str)
                                              else h[part]["residual"] for h in layer["heads"]) if layer["heads"] else 0.0
            for k, v in layer["reduced"].items():
                row[k] = nearest(v)
            for part in ("score", "value"):
                fe = layer["fit_error"][part]
                row[f"fit_error_{part}"] = nearest(fe) if isinstance(fe, str) else fe
            rows.append(row)
        self.layers = _Table(rows)

    def to_frame(self) -> pandas.DataFrame:
        """The DataFrame per layer (`layers`)."""
        return self.layers

    def __repr__(self):
        return f"ExtractResult({len(self.layers)} layers, max_residual {self.max_residual:.3g})"


def extract(model: Model | dict | str | PathLike, d: int | None = None, C: int | None = None,
            max_residual: float | None = None, *, progress: bool | None = None) -> ExtractResult:
    """Claim E3 and the reduced recursion, as `iclcert extract` computes them: the
    residual of every matrix's projection onto the equivariant span, and the reduced
    recursion's coefficients fitted per layer (theory/extraction.md).

    model: a Model (or a file's path, JSON text or dict). d (1 to 1024) and C (2 to
    256) default to those the model records. max_residual: exit status 1 above it.
    Returns an ExtractResult (its .reduced_model runs anywhere a Model does)."""
    d = 0 if d is None else _whole(d, "extract: d", 1, _MAX_D)
    C = 0 if C is None else _whole(C, "extract: C", 2, _MAX_C)
    limit = None if max_residual is None else _real(max_residual, "extract: max_residual")
    status, text, reduced, full, log = call(_core.extract, _model(model).to_json(), d, C, limit, progress=progress)
    return ExtractResult(status, json.loads(text), json.loads(reduced), json.loads(full), log)


class FuzzResult:
    """`iclcert fuzz`: status "held" (every case held), "counterexample" (then
    .counterexample is the saved case, docs/formats.md) or "gave up"; exit_status;
    log (the seed is printed there). True (bool) exactly when every case held."""

    def __init__(self, exit_status: int, log: str, counterexample: dict | None) -> None:
        """exit_status, the account, and the saved counterexample's dict or None."""
        self.exit_status, self.log, self.counterexample = exit_status, log, counterexample
        self.status = {0: "held", 1: "counterexample", 3: "gave up"}.get(exit_status, f"exit {exit_status}")

    def __bool__(self):
        return self.exit_status == 0

    def __repr__(self):
        return f"FuzzResult({self.status})"


def _fuzz_command() -> str:
    """The iclcert executable that runs fuzz: the one built with this package (in
    the wheel, iclcert/bin/iclcert; in a build folder, a link to BUILD/iclcert), else
    the first on PATH. Fuzz runs in that process, not in this one: RapidCheck
    (properties/) cannot be linked into a Python module, since Debian's
    librapidcheck.a is not position-independent code."""
    import shutil

    shipped = os.path.join(os.path.dirname(_core.__file__), "bin", "iclcert")
    if os.access(shipped, os.X_OK):
        return shipped
    on_path = shutil.which("iclcert")
    if on_path:
        return on_path
    raise FileNotFoundError(f"fuzz runs the iclcert executable built with this package, which is missing: "
                            f"{shipped} (build the `iclcert` target, or reinstall with `pip install .`)")


def fuzz(property: str, model: Model | dict | str | PathLike | None = None, *,
         prompt: Prompt | dict | str | PathLike | None = None, sample: str | Sequence[int] | None = None,
         cases: int | None = None, seed: int | None = None, arith: str | None = None, weights: str | None = None,
         tolerance: str | float | None = None, shrink: bool = True) -> FuzzResult:
    """Property-based fuzzing of the recursion, as `iclcert fuzz --property NAME`
    runs it (`iclcert fuzz --list` names the properties), or "equivariance" of a
    model's weights with model and sample="d,C,N" or prompt.

    cases: how many cases; seed: the first case's seed (printed in .log); arith,
    weights, tolerance: the command's --arith, --weights, --tolerance; shrink=False
    keeps the first failing case as found. Returns a FuzzResult (.status "held",
    "counterexample" or "gave up").

    It runs in the iclcert executable installed with the package (iclcert/bin/),
    since RapidCheck cannot be linked into the Python module; nothing needs to be
    on PATH."""
    cases = None if cases is None else _whole(cases, "fuzz: cases", 1)
    seed = None if seed is None else _whole(seed, "fuzz: seed", 0, _SEED_MAX)
    exe = _fuzz_command()

    def run_command(args):
        import subprocess

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
            path = os.path.join(tmp, "p.json")
            _prompt(prompt).to_json(path)
            args += ["--prompt", path]
        if sample is not None:
            args += ["--sample", _sample_spec(sample, "fuzz: sample")]
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
