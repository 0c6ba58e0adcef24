#!/usr/bin/python3
"""Writes small PyTorch checkpoints in both formats for tests/tools/torch_checkpoint_test.py.

    /usr/bin/python3 tools/make_checkpoint_fixtures.py --out tests/tools/data

checkpoint_legacy.pth (`_use_new_zipfile_serialization=False`, the format of torchvision's
MobileNetV2 file) and checkpoint_zip.pth (the default) hold the same state dict, chosen to cover
what a reader can get wrong: float32 and float64, float16, an int64 scalar (BatchNorm's
num_batches_tracked), a transposed (non-contiguous) tensor, a slice at a storage offset, two
tensors sharing one storage, an empty tensor. checkpoint_expected.json gives each entry's dtype,
shape and values in row-major order.
"""
import argparse
import collections
import json
import os

import torch


def state_dict():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    shared = torch.linspace(-2, 2, 10, dtype=torch.float32)
    state = collections.OrderedDict()
    state["conv.weight"] = torch.arange(54, dtype=torch.float32).reshape(2, 3, 3, 3) * 0.25 - 3
    state["bn.running_var"] = torch.tensor([0.5, 1.5, 2.25], dtype=torch.float64)
    state["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    state["half.weight"] = torch.tensor([1.0, -0.5, 0.333], dtype=torch.float16)
    state["transposed"] = base.t()
    state["slice"] = base[1:3, 2:5]
    state["shared.head"] = shared[:4]
    state["shared.tail"] = shared[6:]
    state["empty"] = torch.zeros(0, 3)
    return state


def expected(state):
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64"}
    return {name: {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                   "values": t.contiguous().reshape(-1).tolist()} for name, t in state.items()}


def write(out):
    os.makedirs(out, exist_ok=True)
    state = state_dict()
    torch.save(state, os.path.join(out, "checkpoint_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(state, os.path.join(out, "checkpoint_zip.pth"))
    with open(os.path.join(out, "checkpoint_expected.json"), "w") as f:
        json.dump(expected(state), f, indent=1)  # in the state dict's order
        f.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    write(parser.parse_args().out)
