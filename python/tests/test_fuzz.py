"""iclcert.fuzz with no iclcert on PATH and no ICLCERT_CLI: it runs the executable
built with the package (bin/iclcert beside iclcert._core)."""
import os
import subprocess
import sys
import unittest

from _common import SOURCE

TRAINED = os.path.join(SOURCE, "examples", "trained", "trained_equivariant_model.json")

CHILD = r"""
import os, shutil, sys
import iclcert
assert shutil.which("iclcert") is None, shutil.which("iclcert")
print(os.path.relpath(iclcert._fuzz_command(), os.path.dirname(iclcert._core.__file__)))
f = iclcert.fuzz("equivariance", sys.argv[1], sample="4,3,6", cases=5, seed=1)
print(f.status, f.exit_status, f.counterexample)
try:
    iclcert.fuzz("no-such-property", cases=1)
except iclcert.InputError as e:
    print("InputError", isinstance(e, ValueError))
"""


class FuzzWithoutPath(unittest.TestCase):
    def test_equivariance_of_the_trained_weights_without_the_command_on_path(self):
        env = {k: v for k, v in os.environ.items() if k != "ICLCERT_CLI"}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not os.path.exists(os.path.join(p, "iclcert")))
        r = subprocess.run([sys.executable, "-c", CHILD, TRAINED], capture_output=True, text=True, env=env,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [os.path.join("bin", "iclcert"), "held 0 None", "InputError True"])


if __name__ == "__main__":
    unittest.main()
