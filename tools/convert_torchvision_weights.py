#!/usr/bin/python3
"""Converts torchvision weights to safetensors for maskdet (docs/WEIGHTS.md has the whole story).

Run with Debian's interpreter, which has torch and torchvision:

    # a checkpoint already on disk (a state dict, a {"model": state dict} training checkpoint,
    # or a pickled nn.Module)
    /usr/bin/python3 tools/convert_torchvision_weights.py resnet50-0676ba61.pth resnet50.safetensors

    # or let torchvision build the model with its published weights (downloads them: needs internet)
    /usr/bin/python3 tools/convert_torchvision_weights.py --model resnet50 --weights IMAGENET1K_V1 resnet50.safetensors
    /usr/bin/python3 tools/convert_torchvision_weights.py --model retinanet_resnet50_fpn --weights COCO_V1 \\
        retinanet_resnet50_fpn_coco.safetensors

Keys are written exactly as torchvision names them; maskdet maps them on loading
(retinanet/torchvision_weights.h: "backbone.body." before a classification ResNet's keys, fc.*
dropped, and the pre-0.13 RetinaNet head and FPN names translated). --drop-fc leaves the
classifier out of the file already (8 MB of ResNet-50's 98 MB).

Tensors: every floating dtype (float16, bfloat16, float64) is written as float32 ("F32"),
maskdet's parameter dtype. BatchNorm's num_batches_tracked counters stay int64 ("I64"): a
BatchNorm2d backbone loads them and a FrozenBatchNorm2d one ignores them. Anything else
(quantised weights, other integer dtypes) is refused.

torchvision's COCO RetinaNet weights expect FrozenBatchNorm2d with eps = 0, a module setting that
no state dict carries: build the maskdet model with torchvision_retinanet_resnet50_fpn_config().
The file's __metadata__ records where the weights came from.
"""
import argparse
import os
import sys

import torch
import torchvision

from safetensors_io import write_safetensors


def load_state_dict(path):
    """A state dict from a .pth, whatever common form it was saved in."""
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("model", "state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    raise SystemExit(f"{path}: expected a state dict, a checkpoint dict with 'model', or an nn.Module; "
                     f"got {type(obj).__name__}")


def build_state_dict(model_name, weights):
    """torchvision's model with its published weights (downloaded on first use)."""
    model = torchvision.models.get_model(model_name, weights=weights)
    return model.state_dict()


def to_maskdet_dtypes(state, drop_fc):
    out = {}
    for name, tensor in state.items():
        if drop_fc and name.startswith("fc."):
            continue
        if not isinstance(tensor, torch.Tensor):
            raise SystemExit(f"{name}: not a tensor ({type(tensor).__name__})")
        if tensor.is_floating_point():
            out[name] = tensor.to(torch.float32)
        elif tensor.dtype == torch.int64:
            out[name] = tensor
        else:
            raise SystemExit(f"{name}: dtype {tensor.dtype} has no maskdet equivalent")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", nargs="?", help="a torchvision .pth file (or use --model)")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--model", help="a torchvision model name, e.g. resnet50 or retinanet_resnet50_fpn")
    parser.add_argument("--weights", help="its weights enum entry, e.g. IMAGENET1K_V1, COCO_V1 or DEFAULT")
    parser.add_argument("--drop-fc", action="store_true", help="leave out a classification ResNet's fc.* entries")
    args = parser.parse_args()
    if (args.input is None) == (args.model is None):
        parser.error("give either an input .pth or --model (with --weights)")

    if args.input:
        state, source = load_state_dict(args.input), os.path.basename(args.input)
    else:
        state, source = build_state_dict(args.model, args.weights), f"torchvision {args.model} {args.weights}"
    tensors = to_maskdet_dtypes(state, args.drop_fc)
    metadata = {"source": source, "torch": torch.__version__, "torchvision": torchvision.__version__,
                "converted_by": "tools/convert_torchvision_weights.py"}
    write_safetensors(args.output, tensors, metadata)
    count = sum(t.numel() for t in tensors.values())
    print(f"{args.output}: {len(tensors)} tensors, {count} values, from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
