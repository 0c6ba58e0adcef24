"""The torch-free checkpoint reader (tools/torch_checkpoint.py) and weight fetcher
(tools/fetch_weights.py) on the fixtures of tools/make_checkpoint_fixtures.py.

    python3 tests/tools/torch_checkpoint_test.py            # standard library only
    python3 tests/tools/torch_checkpoint_test.py --remake   # also checkpoints written now by this
                                                            # machine's torch (/usr/bin/python3)
"""
import hashlib
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_checkpoint  # noqa: E402

DATA = os.path.join(ROOT, "tests", "tools", "data")
FETCH = os.path.join(ROOT, "tools", "fetch_weights.py")


def read_header(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    return json.loads(blob[8:8 + length]), blob[8 + length:]


class ReaderTest(unittest.TestCase):
    folder = DATA

    def check_against_expected(self, name):
        with open(os.path.join(self.folder, "checkpoint_expected.json")) as f:
            expected = json.load(f)
        state = torch_checkpoint.load_state_dict(os.path.join(self.folder, name))
        self.assertEqual(list(state), list(expected), "names and their order")
        for key, want in expected.items():
            tensor = state[key]
            self.assertEqual(tensor.dtype, want["dtype"], key)
            self.assertEqual(list(tensor.shape), want["shape"], key)
            self.assertEqual(tensor.values(), want["values"], key)

    def test_legacy_format(self):
        self.check_against_expected("checkpoint_legacy.pth")

    def test_zip_format(self):
        self.check_against_expected("checkpoint_zip.pth")


class SafetyTest(unittest.TestCase):
    def test_refuses_foreign_globals_without_running_them(self):
        with tempfile.TemporaryDirectory() as folder:
            marker = os.path.join(folder, "ran")
            path = os.path.join(folder, "evil.pth")

            class Evil:
                def __reduce__(self):
                    return (os.system, (f"touch {marker}",))

            with open(path, "wb") as f:
                for header in (torch_checkpoint.LEGACY_MAGIC, 1001, {}):
                    pickle.dump(header, f)
                pickle.dump({"w": Evil()}, f)
                pickle.dump([], f)
            with self.assertRaisesRegex(torch_checkpoint.CheckpointError, r"evil\.pth.*(posix|os)\.system"):
                torch_checkpoint.load(path)
            self.assertFalse(os.path.exists(marker))

    def test_truncated_file_names_the_file(self):
        with open(os.path.join(DATA, "checkpoint_legacy.pth"), "rb") as f:
            blob = f.read()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "cut.pth")
            with open(path, "wb") as f:
                f.write(blob[:-40])
            with self.assertRaisesRegex(torch_checkpoint.CheckpointError, r"cut\.pth: truncated"):
                torch_checkpoint.load(path)

    def test_not_a_checkpoint(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "notes.pth")
            with open(path, "w") as f:
                f.write("hello\n")
            with self.assertRaisesRegex(torch_checkpoint.CheckpointError, r"notes\.pth"):
                torch_checkpoint.load(path)


class FetchTest(unittest.TestCase):
    def run_fetch(self, *args):
        return subprocess.run([sys.executable, FETCH, *args], capture_output=True, text=True)

    def test_converts_a_verified_checkpoint_to_float32_safetensors(self):
        source = os.path.join(DATA, "checkpoint_legacy.pth")
        with open(source, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(DATA, "checkpoint_expected.json")) as f:
            expected = json.load(f)
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "cache", "w.safetensors")
            result = self.run_fetch("--source", source, "--sha256", digest, "--out", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            header, data = read_header(out)
            self.assertEqual(header.pop("__metadata__")["sha256"], digest)
            self.assertEqual(sorted(header), sorted(expected))
            for key, want in expected.items():
                entry = header[key]
                self.assertEqual(entry["shape"], want["shape"], key)
                begin, end = entry["data_offsets"]
                if want["dtype"] == "I64":
                    self.assertEqual(entry["dtype"], "I64", key)
                    values = list(struct.unpack(f"<{(end - begin) // 8}q", data[begin:end]))
                    self.assertEqual(values, want["values"], key)
                else:
                    self.assertEqual(entry["dtype"], "F32", key)
                    values = struct.unpack(f"<{(end - begin) // 4}f", data[begin:end])
                    for got, value in zip(values, want["values"]):
                        self.assertAlmostEqual(got, value, places=6, msg=key)
                    self.assertEqual(len(values), len(want["values"]), key)
            self.assertEqual(os.listdir(os.path.dirname(out)), ["w.safetensors"], "no temporary left behind")

            again = self.run_fetch("--source", source, "--sha256", digest, "--out", out)
            self.assertEqual(again.returncode, 0)
            self.assertIn("already there", again.stdout)

    def test_wrong_sha256_writes_nothing(self):
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "w.safetensors")
            result = self.run_fetch("--source", os.path.join(DATA, "checkpoint_zip.pth"), "--sha256", "0" * 64,
                                    "--out", out)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("is not the expected", result.stderr)
            self.assertFalse(os.path.exists(out))


def remade_suite():
    """ReaderTest on checkpoints that this machine's torch writes now."""
    folder = tempfile.mkdtemp(prefix="maskdet-checkpoints-")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "make_checkpoint_fixtures.py"), "--out", folder],
                   check=True)

    class RemadeReaderTest(ReaderTest):
        pass

    RemadeReaderTest.folder = folder
    return unittest.TestLoader().loadTestsFromTestCase(RemadeReaderTest)


if __name__ == "__main__":
    if "--remake" in sys.argv:
        if subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True).returncode != 0:
            print("skipping: /usr/bin/python3 cannot import torch (scripts/install-deps.sh --torch)")
            sys.exit(77)
        outcome = unittest.TextTestRunner(verbosity=2).run(remade_suite())
        sys.exit(0 if outcome.wasSuccessful() else 1)
    unittest.main(verbosity=2)
