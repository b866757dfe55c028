"""iclcert.sweep: the library's sweep call, the same cells as `iclcert sweep` on the
same grid and prompts (the CSV's column names included); Ctrl-C in a long sweep
is covered by test_interrupt (the same call runner)."""
import os
import subprocess
import tempfile
import unittest

import pandas

import iclcert
from _common import CLI, without


class Sweep(unittest.TestCase):
    def test_cells_are_the_commands(self):
        s = iclcert.sweep("A2", "alpha=0.5:1:3", sample="4,3,8", count=2, threads=1, progress=False)
        self.assertEqual(len(s.cells), 3)
        self.assertEqual(s.cells["proved"].tolist(), [1, 1, 1])
        self.assertEqual(s.cells["refuted"].tolist(), [1, 1, 1])
        self.assertIs(s.to_frame(), s.cells)
        if not CLI:
            self.skipTest("ICLCERT_CLI is not set (run these tests through ctest)")
        with tempfile.TemporaryDirectory() as tmp:
            csv = os.path.join(tmp, "s.csv")
            subprocess.run([CLI, "sweep", "--claim", "A2", "--grid", "alpha=0.5:1:3", "--sample", "4,3,8", "--count",
                            "2", "--threads", "1", "--csv", csv], check=True, capture_output=True)
            expected = pandas.read_csv(csv)
        self.assertEqual(list(s.cells.columns), list(expected.columns))
        pandas.testing.assert_frame_equal(s.cells.drop(columns="seconds"), expected.drop(columns="seconds"))
        self.assertEqual([without(c, "seconds") for c in s.raw["cells"]][0]["proved"], 1)

    def test_prompts_in_memory_need_no_temporary_file(self):
        by_sample = iclcert.sweep("A2", "alpha=0.5:1:3", sample="4,3,8", count=2, threads=1, progress=False)
        saved = tempfile.tempdir
        tempfile.tempdir = "/nonexistent/iclcert-no-temporary-files"  # any temporary file fails
        try:
            s = iclcert.sweep("A2", "alpha=0.5:1:3", prompts=iclcert.sample(4, 3, 8, count=2), threads=1,
                              progress=False)
        finally:
            tempfile.tempdir = saved
        self.assertEqual(s.raw["prompts"], {"prompt_file": "Python prompts"})
        pandas.testing.assert_frame_equal(s.cells.drop(columns="seconds"), by_sample.cells.drop(columns="seconds"))

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            iclcert.sweep("A2", "alpha=1:0", sample="4,3,8")  # no COUNT
        with self.assertRaises(TypeError):
            iclcert.sweep("A2", "alpha=0:1:2", sample="4,3,8", count=1.5)
        with self.assertRaises(ValueError):
            iclcert.sweep("A2", "alpha=0:1:2", sample="4,3,8", prompts=iclcert.sample(4, 3, 8))


if __name__ == "__main__":
    unittest.main()
