"""A minimal safetensors reader and deterministic writer for maskdet's Python tools, so they need
nothing beyond torch (format: https://huggingface.co/docs/safetensors; the reader is tensor/safetensors.h).

Tensors are written in sorted name order, the JSON header with sorted keys and no spaces, padded
with spaces so the data starts 8-byte aligned: the same input always gives the same bytes.
"""
import json
import os
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor} in one of DTYPES; metadata: {str: str} for "__metadata__".
    Written to a temporary file that replaces `path` at the end; returns the file's size in bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    blobs, offset = [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().contiguous().cpu()
        if tensor.dtype not in DTYPES:
            raise ValueError(f"{name}: dtype {tensor.dtype} is not one of {sorted(str(d) for d in DTYPES)}")
        array = tensor.numpy()
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temp, path)
    return 8 + len(text) + offset


_TORCH_DTYPES = {code: dtype for dtype, code in DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, {metadata}) from a safetensors file (e.g. one maskdet wrote)."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + header_len:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = _TORCH_DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata
