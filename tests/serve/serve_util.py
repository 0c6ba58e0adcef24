"""Helpers for the tests that run `maskdet serve` as a child process (load_test.py,
browser_test.py): a tiny snapshot trained on synthetic faces, and a server started on a free
loopback port that is always stopped, with SIGTERM, when the test ends (also on failure)."""
import os
import re
import signal
import subprocess
import sys
import time

# As tests/cli/cli_test_util.h's kTinyTrainFlags: about a second of training.
TINY_TRAIN_FLAGS = ("--epochs 1 --steps 1 --batch-size 2 --image-min-side 64 --image-max-side 64 --fpn-channels 8 "
                    "--val-fraction 0.25 --warmup-steps 0 --workers 0").split()


def tiny_snapshot(maskdet, make_voc, workdir):
    """Trains the tiny snapshot on 8 synthetic 160x120 pictures; returns (snapshot dir, a photo)."""
    voc, run = os.path.join(workdir, "voc"), os.path.join(workdir, "run")
    subprocess.run([make_voc, "--out", voc, "--count", "8", "--size", "160x120"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([maskdet, "train", "--data", voc, "--snapshot-path", run] + TINY_TRAIN_FLAGS, check=True,
                   stdout=subprocess.DEVNULL)
    return run, os.path.join(voc, "images", "1.jpg")


class Server:
    """`maskdet serve` on 127.0.0.1 with --port 0; `url` once it listens. A context manager:
    leaving it sends SIGTERM and checks the exit status is 0 (SIGKILL after 30 s)."""

    def __init__(self, maskdet, snapshot, *flags):
        self.log_path = None
        self.process = subprocess.Popen([maskdet, "serve", "--snapshot", snapshot, "--host", "127.0.0.1", "--port", "0",
                                         *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = []
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("maskdet serve ended before listening:\n" + "".join(self.output))
            self.output.append(line)
            found = re.match(r"maskdet serve: listening on (http://127\.0\.0\.1:\d+)$", line.strip())
            if found:
                self.url = found.group(1)
                return
        self.process.kill()
        raise RuntimeError("maskdet serve did not listen within 120 s:\n" + "".join(self.output))

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        self.process.send_signal(signal.SIGTERM)
        try:
            rest, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rest, _ = self.process.communicate()
            if kind is None:
                raise RuntimeError("maskdet serve did not stop within 30 s of SIGTERM")
        self.output.append(rest)
        if kind is None and self.process.returncode != 0:
            raise RuntimeError(f"maskdet serve exited with {self.process.returncode} after SIGTERM:\n" + "".join(self.output))
        if kind is not None:
            sys.stderr.write("maskdet serve's output:\n" + "".join(self.output))
        return False
