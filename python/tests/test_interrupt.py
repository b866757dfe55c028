"""Ctrl-C stops the work, not only the wait (python/_call.hpp): a Python process
in a long `check` C1 gets SIGINT; KeyboardInterrupt comes within a second, and a
second call in the same process then runs in its normal time (the worker really
stopped: no abandoned work holds the library)."""
import os
import signal
import subprocess
import sys
import time
import unittest

CHILD = r"""
import sys, time
import iclcert

t = time.monotonic()
iclcert.check("A2", progress=False)
short = time.monotonic() - t
print("short", short, flush=True)
try:
    iclcert.check("C1", sample="4,3,24", samples=10**7, progress=True)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
t = time.monotonic()
v = iclcert.check("A2", progress=False)
print("again", time.monotonic() - t, v.status, flush=True)
"""


class Interrupt(unittest.TestCase):
    def test_sigint_stops_a_long_check_and_the_next_call_runs_at_once(self):
        child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            line = child.stdout.readline().split()
            self.assertEqual(line[0], "short", line)
            short = float(line[1])
            time.sleep(1.5)  # inside C1's ten million prompts (hours of work)
            self.assertIsNone(child.poll(), "the child ended before the signal")
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            self.assertEqual(child.stdout.readline().strip(), "interrupted")
            latency = time.monotonic() - sent
            again = child.stdout.readline().split()
            child.wait(60)
            err = child.stderr.read()
        finally:
            if child.poll() is None:
                child.kill()
        print(f"KeyboardInterrupt {latency:.3f} s after SIGINT; A2 {short:.3f} s before, {again[1]} s after")
        self.assertLess(latency, 1.0)
        self.assertEqual(again[0], "again", again)
        self.assertEqual(again[2], "proved")
        # Not behind an abandoned C1 (hours of work): a loose bound, for a busy machine.
        self.assertLess(float(again[1]), 30 * short + 10)
        self.assertIn("iclcert check C1", err)  # progress=True: the bar got C1's events
        self.assertEqual(child.returncode, 0, err)


class Progress(unittest.TestCase):
    def test_progress_is_a_bool_or_none(self):
        import iclcert

        with self.assertRaises(TypeError):
            iclcert.check("A2", progress="yes")

    def test_off_when_not_a_terminal_or_false(self):
        code = ("import iclcert; iclcert.check('C1', sample='4,3,24', samples=5); "
                "iclcert.check('C1', sample='4,3,24', samples=5, progress=False)")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # stderr is a pipe: no bar


if __name__ == "__main__":
    unittest.main()
