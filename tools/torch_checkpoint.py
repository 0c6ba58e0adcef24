"""Reads PyTorch checkpoints (.pth / .pt) with the standard library alone: no torch, no numpy.

PyTorch has written two formats (torch/serialization.py documents both):

- legacy (torch < 1.6, and `_use_new_zipfile_serialization=False`): five pickles in a row
  (magic number, protocol version, system info, the object, the sorted storage keys), then each
  storage's bytes as `int64 element count` + raw little-endian data, in key order;
- zip (the default since 1.6): `<archive>/data.pkl` holds the object, `<archive>/data/<key>` each
  storage's raw bytes, `<archive>/byteorder` (absent = little) the byte order.

In both, tensors are pickled as calls to `torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, ...)` whose storage is a persistent id `('storage', <torch.FloatStorage>, key, location,
numel[, view_metadata])`. The unpickler below allows those few globals (and
collections.OrderedDict) and nothing else, so a checkpoint cannot run code while it is read.

    state = load_state_dict("mobilenet_v2-b0353104.pth")   # {name: Tensor}
    state["features.0.0.weight"].shape                       # (32, 3, 3, 3)
"""
import collections
import io
import pickle
import struct
import sys
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch storage class -> (safetensors dtype, bytes per element, struct format)
STORAGE_TYPES = {
    "FloatStorage": ("F32", 4, "f"),
    "DoubleStorage": ("F64", 8, "d"),
    "HalfStorage": ("F16", 2, "e"),
    "BFloat16Storage": ("BF16", 2, None),
    "LongStorage": ("I64", 8, "q"),
    "IntStorage": ("I32", 4, "i"),
    "ShortStorage": ("I16", 2, "h"),
    "CharStorage": ("I8", 1, "b"),
    "ByteStorage": ("U8", 1, "B"),
    "BoolStorage": ("BOOL", 1, "?"),
}


class CheckpointError(ValueError):
    pass


class StorageType:
    """Stands for a torch storage class (torch.FloatStorage...) inside the pickle."""

    def __init__(self, name):
        self.name = name
        self.dtype, self.itemsize, self.format = STORAGE_TYPES[name]


class Storage:
    """One storage's bytes: filled in after the object pickle for the legacy format."""

    def __init__(self, storage_type, key, numel):
        self.type, self.key, self.numel = storage_type, key, numel
        self.data = None  # bytes or memoryview


class StorageView:
    """A legacy view into a larger storage: offset and size in elements."""

    def __init__(self, base, offset, numel):
        self.base, self.offset, self.numel = base, offset, numel
        self.type = base.type

    @property
    def data(self):
        size = self.type.itemsize
        return memoryview(self.base.data)[self.offset * size:(self.offset + self.numel) * size]


class Tensor:
    """A tensor as the checkpoint stores it: a storage, an element offset, a shape and strides."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset = storage, offset
        self.shape, self.stride = tuple(shape), tuple(stride)

    @property
    def dtype(self):
        return self.storage.type.dtype

    @property
    def itemsize(self):
        return self.storage.type.itemsize

    def numel(self):
        count = 1
        for extent in self.shape:
            count *= extent
        return count

    def contiguous_bytes(self):
        """The elements in row-major order, little-endian, as bytes."""
        size, data = self.itemsize, memoryview(self.storage.data)
        if self.numel() == 0:
            return b""
        if self.stride == contiguous_strides(self.shape):
            begin = self.offset * size
            return bytes(data[begin:begin + self.numel() * size])
        out = bytearray()
        for flat in strided_offsets(self.shape, self.stride):
            begin = (self.offset + flat) * size
            out += data[begin:begin + size]
        return bytes(out)

    def values(self):
        """The elements as Python numbers (row-major); for checks and small tensors."""
        fmt = self.storage.type.format
        if fmt is None:  # bfloat16: the high half of a float32
            raw = self.contiguous_bytes()
            return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        return list(struct.unpack(f"<{self.numel()}{fmt}", self.contiguous_bytes()))

    def float32_bytes(self):
        """The elements converted to float32 (maskdet's parameter dtype), little-endian."""
        if self.dtype == "F32":
            return self.contiguous_bytes()
        values = self.values()
        return struct.pack(f"<{len(values)}f", *values)


def contiguous_strides(shape):
    strides, step = [], 1
    for extent in reversed(shape):
        strides.append(step)
        step *= extent
    return tuple(reversed(strides))


def strided_offsets(shape, stride):
    offsets = [0]
    for extent, step in zip(shape, stride):
        offsets = [base + i * step for base in offsets for i in range(extent)]
    return offsets


def _rebuild_tensor(storage, offset, shape, stride, *_ignored):
    return Tensor(storage, offset, shape, stride)


def _rebuild_parameter(data, *_ignored):
    return data


ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, path, storage_for):
        super().__init__(file)
        self.path, self.storage_for = path, storage_for

    def find_class(self, module, name):
        if module == "torch" and name in STORAGE_TYPES:
            return StorageType(name)
        if (module, name) in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[(module, name)]
        raise CheckpointError(f"{self.path}: the checkpoint refers to {module}.{name}, which a plain "
                              "state dict of tensors does not need; refusing to load it")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise CheckpointError(f"{self.path}: unknown persistent id {pid!r}")
        return self.storage_for(pid)


def _load_legacy(path, blob):
    stream = io.BytesIO(blob)
    try:
        magic = pickle.load(stream)
    except Exception as error:
        raise CheckpointError(f"{path}: neither a zip checkpoint nor a legacy one ({error})") from None
    if magic != LEGACY_MAGIC:
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (wrong magic number)")
    protocol = pickle.load(stream)
    if protocol != 1001:
        raise CheckpointError(f"{path}: legacy protocol version {protocol}, expected 1001")
    pickle.load(stream)  # system info: endianness and type sizes, checked below by the data sizes

    storages = {}

    def storage_for(pid):
        _, storage_type, key, _location, numel, view = (tuple(pid) + (None,))[:6]
        if key not in storages:
            storages[key] = Storage(storage_type, key, numel)
        base = storages[key]
        if view is not None:
            _view_key, offset, view_numel = view
            return StorageView(base, offset, view_numel)
        return base

    obj = _Unpickler(stream, path, storage_for).load()
    keys = pickle.load(stream)
    view = memoryview(blob)
    position = stream.tell()
    for key in keys:
        if key not in storages:
            raise CheckpointError(f"{path}: storage {key} is listed but no tensor uses it")
        storage = storages[key]
        if position + 8 > len(blob):
            raise CheckpointError(f"{path}: truncated before storage {key}")
        (numel,) = struct.unpack_from("<q", blob, position)
        end = position + 8 + numel * storage.type.itemsize
        if end > len(blob):
            raise CheckpointError(f"{path}: truncated in storage {key} ({numel} elements)")
        storage.data = view[position + 8:end]
        position = end
    return obj


def _load_zip(path, archive):
    names = archive.namelist()
    pickles = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
    if len(pickles) != 1:
        raise CheckpointError(f"{path}: a zip checkpoint holds one data.pkl; found {len(pickles)}")
    prefix = pickles[0][:-len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in names and archive.read(byteorder).strip() != b"little":
        raise CheckpointError(f"{path}: big-endian checkpoints are not supported")

    storages = {}

    def storage_for(pid):
        _, storage_type, key, _location, numel = pid[:5]
        if key not in storages:
            storage = Storage(storage_type, key, numel)
            name = f"{prefix}data/{key}"
            if name not in names:
                raise CheckpointError(f"{path}: storage {name} is missing")
            storage.data = archive.read(name)
            if len(storage.data) < numel * storage_type.itemsize:
                raise CheckpointError(f"{path}: storage {name} holds {len(storage.data)} bytes, "
                                      f"{numel * storage_type.itemsize} expected")
            storages[key] = storage
        return storages[key]

    with archive.open(pickles[0]) as stream:
        return _Unpickler(io.BytesIO(stream.read()), path, storage_for).load()


def load(path):
    """The object a checkpoint holds, its tensors as `Tensor`s."""
    with open(path, "rb") as f:
        blob = f.read()
    if zipfile.is_zipfile(io.BytesIO(blob)):
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            return _load_zip(path, archive)
    return _load_legacy(path, blob)


def load_state_dict(path):
    """{name: Tensor} from a state dict, or a {"model": ...} / {"state_dict": ...} checkpoint."""
    obj = load(path)
    if isinstance(obj, dict):
        for key in ("model", "state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a state dict, got {type(obj).__name__}")
    for name, value in obj.items():
        if not isinstance(value, Tensor):
            raise CheckpointError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
    return dict(obj)


if __name__ == "__main__":
    for name, tensor in load_state_dict(sys.argv[1]).items():
        print(name, tensor.dtype, list(tensor.shape))
