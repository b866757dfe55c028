"""check("R1", map=True): the paving's regions, the same as `iclcert check --claim R1
--map --map-csv --map-json` writes on the same box (column names included)."""
import io
import os
import subprocess
import tempfile
import unittest

import pandas

import iclcert
from _common import CLI


class Map(unittest.TestCase):
    def test_regions_are_the_commands(self):
        v = iclcert.check("R1", map=True, box=["alpha=-0.5:1"], budget=8, progress=False)
        self.assertIsInstance(v.map, iclcert.RegionMap)
        self.assertIs(v.to_frame(), v.map.regions)
        self.assertEqual(v.map.coefficients, ["alpha"])
        self.assertAlmostEqual(sum(v.map.fractions.values()), 1.0, places=12)
        if not CLI:
            self.skipTest("ICLCERT_CLI is not set (run these tests through ctest)")
        with tempfile.TemporaryDirectory() as tmp:
            csv, js = os.path.join(tmp, "m.csv"), os.path.join(tmp, "m.json")
            r = subprocess.run([CLI, "check", "--claim", "R1", "--map", "--box", "alpha=-0.5:1", "--budget", "8",
                                "--map-csv", csv, "--map-json", js], capture_output=True, text=True)
            self.assertEqual(r.returncode, v.exit_status, r.stderr)
            with open(csv) as f:
                csv_text = f.read()
            with open(js) as f:
                self.assertEqual(v.map.to_json(), f.read())
        self.assertEqual(list(v.map.regions.columns), csv_text.splitlines()[0].split(","))
        expected = pandas.read_csv(io.StringIO(csv_text), dtype={c: str for c in
                                                                 ("volume_exact", "alpha_lo", "alpha_hi")})
        pandas.testing.assert_frame_equal(v.map.regions, expected)

    def test_map_needs_r1_and_a_box(self):
        with self.assertRaises(ValueError):
            iclcert.check("A2", map=True)
        with self.assertRaises(ValueError):
            iclcert.check("R1", map=True)
        with self.assertRaises(TypeError):
            iclcert.check("R1", map=True, box=["alpha=0:1"], time_limit="1")


if __name__ == "__main__":
    unittest.main()
