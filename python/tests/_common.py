"""Shared by the Python tests: the iclcert command (ICLCERT_CLI, set by ctest) for
comparing the package's results with the command's JSON on the same inputs."""
import json
import os
import subprocess
import tempfile
import unittest

CLI = os.environ.get("ICLCERT_CLI")
SOURCE = os.environ.get("ICLCERT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def cli_json(*args, allowed=(0,)):
    """Runs `iclcert ARGS --json TMP` and returns (exit status, the JSON)."""
    if not CLI:
        raise unittest.SkipTest("ICLCERT_CLI is not set (run these tests through ctest)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        r = subprocess.run([CLI, *args, "--json", out], capture_output=True, text=True)
        if r.returncode not in allowed:
            raise AssertionError(f"iclcert {' '.join(args)} exited {r.returncode}: {r.stderr}")
        with open(out) as f:
            return r.returncode, json.load(f)


def cli_file(*args, out_flag="--out"):
    if not CLI:
        raise unittest.SkipTest("ICLCERT_CLI is not set (run these tests through ctest)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        subprocess.run([CLI, *args, out_flag, out], check=True, capture_output=True)
        with open(out) as f:
            return json.load(f)


def without(d, *keys):
    """A copy of dict d without keys (timings, device names)."""
    return {k: v for k, v in d.items() if k not in keys}
