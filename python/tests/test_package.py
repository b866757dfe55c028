"""The package as Python users expect it: a version, clear import errors, the
command's column names, ValueError or TypeError (never RuntimeError) for bad
arguments, help() that documents every public call."""
import inspect
import os
import subprocess
import sys
import tempfile
import unittest

import numpy
import pandas

import iclcert
import iclcert.plot
import iclcert.torch
from _common import CLI, SOURCE

TRAINED = os.path.join(SOURCE, "examples", "trained", "trained_equivariant_model.json")


def python(code, **env):
    """Runs code in a fresh interpreter (this one, with this sys.path); (status, output)."""
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), **env}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ)
    return r.returncode, r.stdout + r.stderr


def csv_header(*args):
    if not CLI:
        raise unittest.SkipTest("ICLCERT_CLI is not set (run these tests through ctest)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        subprocess.run([CLI, *args, "--csv", out], check=True, capture_output=True)
        with open(out) as f:
            return f.readline().strip().split(",")


class Version(unittest.TestCase):
    def test_version_is_the_commands(self):
        if not CLI:
            self.skipTest("ICLCERT_CLI is not set (run these tests through ctest)")
        out = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(out, f"iclcert {iclcert.__version__}")
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            self.assertIn(f"project(iclcert VERSION {iclcert.__version__} ", f.read())
        self.assertEqual(python("import runpy, sys; sys.argv = ['iclcert', '--version']; "
                                "runpy.run_module('iclcert', run_name='__main__')"),
                         (0, f"iclcert {iclcert.__version__}\n"))


class ImportErrors(unittest.TestCase):
    def test_without_numpy_the_error_says_what_to_install(self):
        status, out = python("import sys; sys.modules['numpy'] = None; import iclcert")
        self.assertNotEqual(status, 0)
        self.assertIn("ImportError: iclcert needs NumPy and pandas", out)
        self.assertIn("pip install numpy pandas", out)

    def test_the_python_files_without_the_compiled_module_do_not_import(self):
        """A package folder with the .py files and no _core (a partial build) fails
        to import, saying how to build it."""
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(os.path.join(tmp, "iclcert"))
            here = os.path.dirname(os.path.realpath(iclcert.__file__))
            for name in os.listdir(here):
                if name.endswith(".py"):
                    os.symlink(os.path.join(here, name), os.path.join(tmp, "iclcert", name))
            # -S: no site-packages .pth, whose editable install (pip install -e) would be found first
            deps = {os.path.dirname(os.path.dirname(m.__file__)) for m in (numpy, pandas)}
            r = subprocess.run([sys.executable, "-S", "-c", "import iclcert"], capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([tmp, *deps])})
            status, out = r.returncode, r.stderr
        self.assertNotEqual(status, 0)
        self.assertIn("iclcert._core is missing", out)
        self.assertIn("pip install .", out)


class ColumnNames(unittest.TestCase):
    def test_batch_layers_have_the_csv_columns(self):
        b = iclcert.batch(sample="3,3,8", count=6, seed=2, threads=1)
        header = csv_header("batch", "--sample", "3,3,8", "--prompts", "6", "--seed", "2", "--threads", "1",
                            "--no-progress")
        self.assertLessEqual(set(header), set(b.layers.columns))
        self.assertIn("mean_fisher", header)
        self.assertNotIn("fisher_mean", b.layers.columns)
        with self.assertWarns(DeprecationWarning):
            old = b.layers["fisher_mean"]
        self.assertTrue(old.equals(b.layers["mean_fisher"]))

    def test_extract_layers_have_the_csv_columns(self):
        e = iclcert.extract(TRAINED, d=4)
        header = csv_header("extract", "--model", TRAINED, "--d", "4")
        self.assertEqual([c for c in header if c in e.layers.columns], [c for c in header if c != "head"])
        self.assertEqual(list(e.layers.columns), [c for c in header if c != "head"])
        with self.assertWarns(DeprecationWarning):
            old = e.layers[["layer", "score_residual"]]
        self.assertEqual(list(old.columns), ["layer", "residual_score"])


class BadArguments(unittest.TestCase):
    def test_integers_out_of_range_raise_value_error(self):
        for code in ['iclcert.check("A2", prec=2**80)', 'iclcert.check("A2", seed=-1)',
                     'iclcert.check("R1", box=["beta=0:1"], budget=0)', "iclcert.sample(2**70, 3, 4)",
                     "iclcert.sample(4, 3, 4, seed=2**64)", 'iclcert.batch(sample="2,2,4", count=2**64)',
                     "iclcert.Model.dense([], d=2**70, C=3)",
                     "iclcert.Prompt.from_arrays([[0.1]], [0], [0.2], C=2**70)",
                     "iclcert.compare(TRAINED, TRAINED, iclcert.sample(4, 3, 4, count=2), validate=-1)",
                     "iclcert.extract(TRAINED, d=0)"]:
            with self.subTest(code):
                with self.assertRaises(ValueError):
                    eval(code)

    def test_integers_of_another_type_raise_type_error(self):
        for code in ['iclcert.check("A2", prec="128")', 'iclcert.check("A2", budget=2.5)',
                     "iclcert.compare(TRAINED, TRAINED, iclcert.sample(4, 3, 4, count=2), validate=2.5)",
                     "iclcert.extract(TRAINED, d=4.0)", 'iclcert.fuzz("equivariance", cases="5")',
                     "iclcert.Model.dense([], d=True, C=3)"]:
            with self.subTest(code):
                with self.assertRaises(TypeError):
                    eval(code)


class Documentation(unittest.TestCase):
    def test_every_public_function_has_a_docstring_and_type_hints(self):
        missing = []
        for module in (iclcert, iclcert.plot, iclcert.torch):
            for name, obj in vars(module).items():
                if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                    continue
                members = [(name, obj)]
                if inspect.isclass(obj):
                    members = [(f"{name}.{k}", v) for k, v in vars(obj).items()
                               if not k.startswith("_") or k == "__init__"]
                for qual, f in members:
                    f = getattr(f, "__func__", getattr(f, "fget", f))
                    if not inspect.isfunction(f):
                        continue
                    hints = f.__annotations__
                    params = [p for p in inspect.signature(f).parameters if p not in ("self", "cls")]
                    if not f.__doc__ or "return" not in hints or any(p not in hints for p in params):
                        missing.append(f"{module.__name__}.{qual}")
        self.assertEqual(missing, [])

    def test_help_of_check_names_its_claims_and_options(self):
        text = inspect.getdoc(iclcert.check)
        for word in ("A1", "C1", "R1", "prec", "max_prec", "box", "samples", "Verdict"):
            self.assertIn(word, text)


if __name__ == "__main__":
    unittest.main()
