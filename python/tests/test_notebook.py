"""examples/walkthrough.ipynb runs headless, as CI runs it: with `jupyter nbconvert
--to notebook --execute` when Jupyter is installed (scripts/install-deps.sh
--test), else with nbclient, else its code cells in order with exec (no
Jupyter at all). Each way runs in examples/, as a user opening it there."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from _common import SOURCE

EXAMPLES = os.path.join(SOURCE, "examples")
NOTEBOOK = os.path.join(EXAMPLES, "walkthrough.ipynb")


def has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


class Notebook(unittest.TestCase):
    def test_the_walkthrough_runs_in_under_a_minute(self):
        start = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.ipynb")
            jupyter = shutil.which("jupyter")
            if jupyter and has("nbconvert") and has("ipykernel"):
                how = "jupyter nbconvert"
                r = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", out,
                                    "--ExecutePreprocessor.timeout=120", NOTEBOOK], capture_output=True, text=True,
                                   cwd=EXAMPLES)
                self.assertEqual(r.returncode, 0, r.stderr[-3000:])
                self.assert_no_error(out)
            elif has("nbclient") and has("nbformat") and has("ipykernel"):
                import nbclient
                import nbformat

                how = "nbclient"
                nb = nbformat.read(NOTEBOOK, as_version=4)
                nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": EXAMPLES}}).execute()
                nbformat.write(nb, out)
                self.assert_no_error(out)
            else:
                how = "exec of the code cells"
                with open(NOTEBOOK) as f:
                    cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
                self.assertEqual(len(cells), 5)
                cwd = os.getcwd()
                os.chdir(EXAMPLES)
                try:
                    scope = {"__name__": "__main__"}
                    for c in cells:
                        exec(compile("".join(c["source"]), NOTEBOOK, "exec"), scope)
                finally:
                    os.chdir(cwd)
                self.assertEqual(scope["r"].summary["prompts"], 200)
                self.assertEqual(scope["fz"].status, "held")
                self.assertTrue(scope["v"].map is not None and len(scope["v"].map.regions) > 0)
        seconds = time.monotonic() - start
        print(f"the walkthrough ran by {how} in {seconds:.1f} s", file=sys.stderr)

    def assert_no_error(self, path):
        with open(path) as f:
            nb = json.load(f)
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        self.assertFalse([o for o in outputs if o["output_type"] == "error"])
        text = "".join("".join(o.get("text", "")) for o in outputs)
        self.assertIn("held", text)


if __name__ == "__main__":
    unittest.main()
