"""Runs ONNX models exported by `maskdet export` in ONNX Runtime (CPU) on the images of a
safetensors file and writes every output to another safetensors file, for tests/cli/onnx_export_test.cpp,
which compares them with maskdet's own outputs.

  python3 onnx_runtime_outputs.py INPUTS.safetensors OUTPUTS.safetensors NAME=MODEL.onnx...

Each tensor "images_<i>" of INPUTS (N, 3, H, W) float32 is fed to each model; OUTPUTS gets
"<NAME>/images_<i>/<output name>". Exits with status 77 and a reason when onnxruntime or numpy
cannot be imported (the test then skips), 1 on any other failure.
"""
import json
import struct
import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"onnxruntime is not importable by {sys.executable}: {e}")
    sys.exit(77)

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    header.pop("__metadata__", None)
    data = blob[8 + header_len:]
    out = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(entry["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 1
    inputs = read_safetensors(argv[1])
    outputs = {}
    for spec in argv[3:]:
        name, model = spec.split("=", 1)
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        output_names = [o.name for o in session.get_outputs()]
        for image_name in sorted(k for k in inputs if k.startswith("images_")):
            values = session.run(None, {"images": inputs[image_name]})
            for output, value in zip(output_names, values):
                outputs[f"{name}/{image_name}/{output}"] = value
    write_safetensors(argv[2], outputs)
    print(f"onnxruntime {ort.__version__}: {len(outputs)} outputs of {len(argv) - 3} models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
