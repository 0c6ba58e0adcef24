#!/usr/bin/python3
"""Checks that PyTorch reads a safetensors file maskdet wrote: a RetinaNet (ResNet-18 FPN) state
dict with maskdet's own random initialisation, plus the input and head outputs maskdet computed.

    /usr/bin/python3 tools/check_safetensors_interop.py FILE

The file comes from the C++ test SafetensorsInterop.WriteRetinaNetForPyTorch (tests/parity/):
entries "model.<torchvision key>", "input", "head.cls_logits", "head.bbox_regression". This
script loads the tensors with a few lines of Python (tools/safetensors_io.py), loads the model
entries into torchvision's RetinaNet with strict=True (every key, shape and dtype must fit),
runs its backbone and head on the same input and compares with maskdet's outputs.
Exit status: 0 when they match, 1 when not, 77 when torch or torchvision is missing (skip).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    from make_parity_fixtures import build_r18_retinanet
except ImportError as error:  # run with an interpreter without torch/torchvision
    print(f"skipping: {error}")
    sys.exit(77)
from safetensors_io import read_safetensors

TOLERANCE = 1e-4  # relative to each output's largest magnitude, as the parity test


def main():
    tensors, metadata = read_safetensors(sys.argv[1])
    print(f"read {len(tensors)} tensors written by {metadata.get('writer', 'an unknown writer')}")
    state = {name[len("model."):]: t for name, t in tensors.items() if name.startswith("model.")}
    model = build_r18_retinanet()
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        features = list(model.backbone(tensors["input"]).values())
        outputs = model.head(features)
    worst = 0.0
    for key in ("cls_logits", "bbox_regression"):
        expected = tensors[f"head.{key}"]
        error = (outputs[key] - expected).abs().max().item() / max(expected.abs().max().item(), 1e-12)
        print(f"head.{key}: shape {tuple(expected.shape)}, worst relative deviation {error:.2e}")
        worst = max(worst, error)
    if worst > TOLERANCE:
        print(f"FAILED: deviation {worst:.2e} above {TOLERANCE}")
        return 1
    print("PyTorch loaded maskdet's state dict strictly and reproduced its outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
