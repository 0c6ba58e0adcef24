#!/usr/bin/python3
"""Writes torchvision's ImageNet MobileNetV2 logits for fixed inputs, the reference of
tests/torch_fixtures/mobilenet_v2_imagenet_test.cpp:

    /usr/bin/python3 tools/make_mobilenet_v2_fixture.py mobilenet_v2-b0353104.pth \\
        --out tests/torch_fixtures/data/mobilenet_v2_logits.safetensors

The checkpoint is read by torch.load itself (not by maskdet's tools/torch_checkpoint.py, which the
test judges through the converted file). The inputs are not stored: both sides compute them from
mobilenet_v2_inputs() below, whose values are exact in float32 (multiples of 1/64). They are
ImageNet-normalised-looking 224x224 patterns, one smooth and one striped, so the logits have a
clear top 5. The file keeps the logits (2, 1000) and, for information, each image's top 5.
"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402

SIZE = 224


def mobilenet_v2_inputs():
    """(2, 3, 224, 224): x[n, c, h, w] = ((h * a_n + w * b_n + 37 * c) mod 97) / 32 - 1.5 (exact in
    float32); keep in step with the C++ test."""
    h = torch.arange(SIZE, dtype=torch.int64).view(1, SIZE, 1)
    w = torch.arange(SIZE, dtype=torch.int64).view(1, 1, SIZE)
    c = torch.arange(3, dtype=torch.int64).view(3, 1, 1)
    images = []
    for a, b in ((1, 1), (13, 5)):
        images.append((((h * a + w * b + 37 * c) % 97).to(torch.float32) / 32 - 1.5))
    return torch.stack(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="mobilenet_v2-b0353104.pth")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    model.eval()
    torch.set_num_threads(1)
    with torch.no_grad():
        logits = model(mobilenet_v2_inputs())
    top = logits.topk(6, dim=1)
    for n in range(logits.shape[0]):
        gap = (top.values[n, :-1] - top.values[n, 1:]).min().item()
        print(f"image {n}: top-5 {top.indices[n, :5].tolist()}, smallest gap among the top 6: {gap:.4f}")
    write_safetensors(args.out, {"logits": logits, "top5": top.indices[:, :5].contiguous()},
                      {"generator": "tools/make_mobilenet_v2_fixture.py", "torch": torch.__version__,
                       "torchvision": torchvision.__version__, "checkpoint": os.path.basename(args.checkpoint)})


if __name__ == "__main__":
    main()
