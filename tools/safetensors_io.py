"""A minimal safetensors reader and deterministic writer for maskdet's Python tools, so they need
nothing beyond torch (format: https://huggingface.co/docs/safetensors; the reader is tensor/safetensors.h).
The writer needs not even torch when given RawTensor values (scripts/fetch-weights.sh runs without it).

Tensors are written in sorted name order, the JSON header with sorted keys and no spaces, padded
with spaces so the data starts 8-byte aligned: the same input always gives the same bytes.
"""
import collections
import json
import os
import struct

# A tensor already encoded: dtype as safetensors names it ("F32", "I64"...), shape, little-endian bytes.
RawTensor = collections.namedtuple("RawTensor", "dtype shape data")


def _torch_dtypes():
    import torch  # only when torch tensors are written or read
    return {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def _encode(name, tensor):
    """(dtype code, shape, bytes) of a RawTensor or a torch tensor."""
    if isinstance(tensor, RawTensor):
        return tensor.dtype, list(tensor.shape), bytes(tensor.data)
    dtypes = _torch_dtypes()
    tensor = tensor.detach().contiguous().cpu()
    if tensor.dtype not in dtypes:
        raise ValueError(f"{name}: dtype {tensor.dtype} is not one of {sorted(str(d) for d in dtypes)}")
    array = tensor.numpy()
    return dtypes[tensor.dtype], list(tensor.shape), array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor or RawTensor}; metadata: {str: str} for "__metadata__".
    Written to a temporary file that replaces `path` at the end; returns the file's size in bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    blobs, offset = [], 0
    for name in sorted(tensors):
        dtype, shape, data = _encode(name, tensors[name])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = f"{path}.tmp.{os.getpid()}"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temp, path)
    return 8 + len(text) + offset


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, {metadata}) from a safetensors file (e.g. one maskdet wrote)."""
    import torch
    torch_dtypes = {code: dtype for dtype, code in _torch_dtypes().items()}
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + header_len:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = torch_dtypes[entry["dtype"]]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata
