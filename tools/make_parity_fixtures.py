#!/usr/bin/python3
"""Makes the fixtures of maskdet's RetinaNet parity test (tests/parity/) with torchvision.

Run with Debian's interpreter, which has torch and torchvision (1.13 / 0.14 when written):

    /usr/bin/python3 tools/make_parity_fixtures.py            # writes tests/parity/data/
    /usr/bin/python3 tools/make_parity_fixtures.py --out DIR

Two files come out, byte-identical on every run on the same torch build. The model runs in
float64 and its results are stored rounded to float32, so that they do not depend on the CPU's
float32 kernels: on one machine (an AMD EPYC) torch 1.13's float32 backward differed from float64
by up to 5e-3 of a gradient's largest element, where float64 runs agree to 1e-6 with float32 runs
made elsewhere, and with maskdet's float32 results.

retinanet_r18.safetensors
    torchvision's RetinaNet with a ResNet-18 FPN backbone as its detection builders make it
    (resnet18 with FrozenBatchNorm2d, _resnet_fpn_extractor with layers 2-4 returned and
    LastLevelP6P7(256, 256), so P6 comes from P5; the default anchor generator; num_classes = 2
    sigmoid outputs, labels 0 and 1), run on one fixed already-transformed 1x3x128x160 input
    and two boxes. The model's pieces are called directly (backbone, head, anchor_generator,
    compute_loss, postprocess_detections), so GeneralizedRCNNTransform never resizes or
    normalises anything.

    The weights are NOT stored: the full model has 19 million of them (77 MB in float32, 38 MB
    in float16), far over the fixture budget, and shrinking the widths would no longer be
    torchvision's ResNet-18 (its BasicBlock refuses other widths). Instead every tensor of the
    state dict is filled from a counter-based generator that C++ reproduces exactly
    (tests/parity/fixture_weights.h), uniform in a per-tensor range [lo, hi] stored as
    "init.<name>" (float64, 2 values). Element i of the tensor named `name`:
        x = fnv1a64(name) + (i + 1) * 0x9E3779B97F4A7C15        (mod 2^64)
        z = splitmix64 finaliser of x
        u = (z >> 40) / 2^24                                     (exact in float32)
        value = float32(lo + (hi - lo) * u)                      (computed in float64)
    The ranges follow torchvision's initialisers in scale (kaiming for the convs) but are
    wider where its defaults would hide bugs: norm buffers and biases are random, not 1 / 0,
    and the head's convs keep the signal alive so that scores differ across anchors.

    Stored (float32 unless said): input (1, 3, 128, 160); targets.boxes (2, 4),
    targets.labels (2) int64; features.p3 .. features.p7; head.cls_logits (1, A, 2),
    head.bbox_regression (1, A, 4); anchors (A, 4); loss.classification, loss.bbox_regression;
    grad.<name> for a few parameters (the leading output channels only where the tensor is
    large: the stored tensor's first dim says how many) and grad.input, all of the loss sum
    classification + bbox_regression; detections.boxes / .scores / .labels (int64) with the
    model's thresholds (score 0.05, 1000 candidates per level, NMS 0.5, 300 detections), and
    detections_capped.* with 40 candidates per level and 15 detections, so that both caps cut;
    <run>.caps (int64: candidates per level, detections per image) says which.
    The __metadata__ has the torch and torchvision versions and, for the detections, the
    smallest relative score gap and the closest NMS decision to the threshold, so a reader
    can tell how robust the ordering and suppression are to float32 rounding.

mobilenet_v2_keys.txt
    The state-dict entries of torchvision's ImageNet mobilenet_v2 (variant "classifier", the layout
    of mobilenet_v2-b0353104.pth) and of a RetinaNet over its features with FrozenBatchNorm2d
    (variant "retinanet_frozen": BackboneWithFPN(features, return_layers 6, 13, 18 -> C3, C4, C5),
    a 256-channel FPN with P6/P7 from P5, 91 classes), as for the ResNet-50 file below.

retinanet_resnet50_fpn_keys.txt
    The state-dict entries of torchvision's retinanet_resnet50_fpn (91 classes), one per line,
    "<variant> <parameter|buffer> <name> <d0,d1,...>", for two variants: "batchnorm" (as
    retinanet_resnet50_fpn(weights=None, weights_backbone=None) builds it) and "frozen" (with
    FrozenBatchNorm2d, the layout of its pretrained COCO checkpoint). No weights.

The safetensors writer is tools/safetensors_io.py (deterministic bytes, no package beyond torch).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.backbone_utils import BackboneWithFPN, _resnet_fpn_extractor
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import retinanet_resnet50_fpn
from torchvision.models.mobilenetv2 import mobilenet_v2
from torchvision.models.resnet import resnet18, resnet50
from torchvision.ops import boxes as box_ops
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

from safetensors_io import write_safetensors

IMAGE_HEIGHT, IMAGE_WIDTH = 128, 160
NUM_CLASSES = 2
TARGET_BOXES = [[20.0, 30.0, 70.0, 90.0], [90.0, 40.0, 150.0, 120.0]]
TARGET_LABELS = [0, 1]
# (topk_candidates, detections_per_img) of the second post-processing run.
SMALL_CAPS = (40, 15)
# Gradients kept whole, and (name, leading output channels) kept in part.
GRADIENTS = [
    ("head.classification_head.cls_logits.weight", None),
    ("head.regression_head.bbox_reg.bias", None),
    ("backbone.body.conv1.weight", None),
    ("backbone.fpn.layer_blocks.0.0.weight", 8),
    ("backbone.fpn.extra_blocks.p6.weight", 4),
    ("backbone.body.layer4.1.conv2.weight", 4),
]

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def fixture_uniform(name, count, lo, hi):
    """The generator of the module docstring, vectorised: count float32 values in [lo, hi)."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        x = np.uint64(fnv1a64(name)) + i * np.uint64(GOLDEN)
        z = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return (lo + (hi - lo) * u).astype(np.float32)


def init_range(name, tensor):
    """[lo, hi] for one state-dict entry: see the module docstring."""
    leaf = name.rsplit(".", 1)[-1]
    is_norm = ".bn" in name or "downsample.1" in name or name.startswith("backbone.body.bn1")
    if is_norm:
        return {"weight": (0.5, 1.0), "bias": (-0.1, 0.1), "running_mean": (-0.1, 0.1),
                "running_var": (0.5, 1.5)}[leaf]
    if leaf == "bias":
        if "cls_logits" in name:
            return (-5.0, -4.4)  # a few hundred (anchor, class) pairs above the 0.05 threshold
        return (-0.1, 0.1)
    fan_in = tensor[0].numel()
    if name.startswith("backbone.body."):
        bound = (6.0 / fan_in) ** 0.5  # kaiming uniform for the ReLU that follows
    elif "bbox_reg" in name:
        bound = 0.04 * (3.0 / fan_in) ** 0.5  # deltas of a few tenths: boxes stay near their anchors
    elif "cls_logits" in name:
        bound = 0.15 * (3.0 / fan_in) ** 0.5  # logits spread by about 1 around the bias
    elif ".conv." in name:
        bound = (6.0 / fan_in) ** 0.5  # the head's towers: ReLU gain, so the signal reaches the predictors
    else:
        bound = (3.0 / fan_in) ** 0.5  # the FPN: torchvision's kaiming_uniform_(a=1)
    return (-bound, bound)


def build_r18_retinanet():
    backbone = resnet18(weights=None, norm_layer=FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(backbone, 5, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
    return RetinaNet(backbone, num_classes=NUM_CLASSES)


def fill_weights(model):
    ranges = {}
    state = model.state_dict()
    with torch.no_grad():
        for name, tensor in state.items():
            lo, hi = init_range(name, tensor)
            values = fixture_uniform(name, tensor.numel(), lo, hi)
            tensor.copy_(torch.from_numpy(values).reshape(tensor.shape))
            ranges[name] = (lo, hi)
    return ranges


def candidate_scores(split_outputs, score_thresh):
    """Per level, the sorted sigmoid scores above the threshold, and every score's distance to it."""
    per_level, threshold_margin = [], 1.0
    for logits in split_outputs["cls_logits"]:
        scores = torch.sigmoid(logits[0]).flatten()
        threshold_margin = min(threshold_margin, float(((scores - score_thresh).abs() / score_thresh).min()))
        per_level.append(torch.sort(scores[scores > score_thresh], descending=True).values)
    return per_level, threshold_margin


def detection_margins(split_outputs, detections, uncapped_scores, score_thresh, topk, cap):
    """How far each decision of the post-processing is from flipping under float32 rounding:
    the score threshold, the top-k cut per level, the detection cap, the order and NMS."""
    per_level, threshold_margin = candidate_scores(split_outputs, score_thresh)
    topk_gap = min([float((s[topk - 1] - s[topk]) / s[topk - 1]) for s in per_level if s.numel() > topk] or [1.0])
    cap_gap = float((uncapped_scores[cap - 1] - uncapped_scores[cap]) / uncapped_scores[cap - 1]) \
        if uncapped_scores.numel() > cap else 1.0
    scores = detections["scores"]
    order_gap = float(((scores[:-1] - scores[1:]) / scores[:-1]).min()) if scores.numel() > 1 else 1.0
    boxes, labels = detections["boxes"], detections["labels"]
    same_label = labels[:, None] == labels[None, :]
    iou = box_ops.box_iou(boxes, boxes)[same_label & ~torch.eye(len(labels), dtype=torch.bool)]
    return {"threshold_margin": threshold_margin, "topk_gap": topk_gap, "cap_gap": cap_gap, "order_gap": order_gap,
            "kept_max_iou": float(iou.max()) if iou.numel() else 0.0,
            "candidates": sum(int(s.numel()) for s in per_level), "detections": int(scores.numel())}


def postprocess(model, split_outputs, split_anchors, image_sizes, topk, detections_per_img):
    """Detections with these caps, and their margins (see detection_margins)."""
    def run(cap):
        model.topk_candidates, model.detections_per_img = topk, cap
        with torch.no_grad():
            return model.postprocess_detections(split_outputs, split_anchors, image_sizes)[0]
    detections, uncapped = run(detections_per_img), run(1 << 30)
    margins = detection_margins(split_outputs, detections, uncapped["scores"], model.score_thresh, topk,
                                detections_per_img)
    return detections, margins


def run_r18(out_dir):
    torch.manual_seed(0)
    model = build_r18_retinanet()
    ranges = fill_weights(model)
    model.eval()  # no layer here depends on the mode; eval() only says that nothing trains
    model.double()  # the float32 weights, exactly; see the module docstring

    input32 = torch.randn(1, 3, IMAGE_HEIGHT, IMAGE_WIDTH)
    images = input32.double().requires_grad_(True)
    targets = [{"boxes": torch.tensor(TARGET_BOXES, dtype=torch.float64),
                "labels": torch.tensor(TARGET_LABELS, dtype=torch.int64)}]
    image_list = ImageList(images, [(IMAGE_HEIGHT, IMAGE_WIDTH)])

    features = list(model.backbone(images).values())
    head_outputs = model.head(features)
    anchors = model.anchor_generator(image_list, features)
    # The stored anchors are the generator's float32 ones, which the test compares exactly.
    anchors32 = model.anchor_generator(ImageList(input32, image_list.image_sizes), [f.detach().float() for f in features])
    losses = model.compute_loss(targets, head_outputs, anchors)
    (losses["classification"] + losses["bbox_regression"]).backward()

    per_level = [f.size(2) * f.size(3) * model.anchor_generator.num_anchors_per_location()[0] for f in features]
    split_outputs = {k: list(v.detach().split(per_level, dim=1)) for k, v in head_outputs.items()}
    split_anchors = [list(a.split(per_level)) for a in anchors]
    # The model's own settings, then tight ones, so that the top-k and detection caps bind.
    runs = {"detections": (model.topk_candidates, model.detections_per_img), "detections_capped": SMALL_CAPS}
    results = {key: postprocess(model, split_outputs, split_anchors, image_list.image_sizes, *caps)
               for key, caps in runs.items()}

    tensors = {"input": input32, "targets.boxes": targets[0]["boxes"], "targets.labels": targets[0]["labels"],
               "anchors": anchors32[0], "loss.classification": losses["classification"].detach(),
               "loss.bbox_regression": losses["bbox_regression"].detach(),
               "head.cls_logits": head_outputs["cls_logits"].detach(),
               "head.bbox_regression": head_outputs["bbox_regression"].detach(),
               "grad.input": images.grad}
    for level, feature in enumerate(features):
        tensors[f"features.p{level + 3}"] = feature.detach()
    parameters = dict(model.named_parameters())
    for name, channels in GRADIENTS:
        grad = parameters[name].grad
        tensors["grad." + name] = grad if channels is None else grad[:channels]
    metadata = {"torch": torch.__version__, "torchvision": torchvision.__version__,
                "made_by": "tools/make_parity_fixtures.py"}
    for run, (detections, margins) in results.items():
        for key in ("boxes", "scores", "labels"):
            tensors[f"{run}.{key}"] = detections[key]
        tensors[f"{run}.caps"] = torch.tensor(runs[run], dtype=torch.int64)
        metadata.update({f"{run}.{k}": f"{v:.6g}" for k, v in margins.items()})
        print(run, margins)
    tensors = {key: t.detach().float() if t.is_floating_point() else t for key, t in tensors.items()}
    for name, (lo, hi) in ranges.items():
        tensors["init." + name] = torch.tensor([lo, hi], dtype=torch.float64)

    path = os.path.join(out_dir, "retinanet_r18.safetensors")
    write_safetensors(path, tensors, metadata)
    print(f"{path}: {os.path.getsize(path)} bytes, "
          f"losses {float(losses['classification']):.6f} / {float(losses['bbox_regression']):.6f}")
    print("feature rms:", [f"{float(f.pow(2).mean().sqrt()):.3g}" for f in features])


def state_lines(variant, model):
    parameter_names = {name for name, _ in model.named_parameters()}
    lines = []
    for name, tensor in model.state_dict().items():
        kind = "parameter" if name in parameter_names else "buffer"
        lines.append(f"{variant} {kind} {name} {','.join(str(d) for d in tensor.shape)}")
    return lines


def write_keys(out_dir, name, what, lines):
    """Writes the entry lines under a header naming torchvision's version; returns the path."""
    header = (f"# torchvision {torchvision.__version__} {what}: "
              "<variant> <parameter|buffer> <name> <shape>; made by tools/make_parity_fixtures.py")
    path = os.path.join(out_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join([header] + lines) + "\n")
    print(f"{path}: {len(lines)} entries")
    return path


def write_resnet50_keys(out_dir):
    batchnorm = retinanet_resnet50_fpn(weights=None, weights_backbone=None)
    body = resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
    frozen = RetinaNet(_resnet_fpn_extractor(body, 5, returned_layers=[2, 3, 4],
                                             extra_blocks=LastLevelP6P7(256, 256)), num_classes=91)
    path = write_keys(out_dir, "retinanet_resnet50_fpn_keys.txt", "retinanet_resnet50_fpn state dict",
                      state_lines("batchnorm", batchnorm) + state_lines("frozen", frozen))
    count = sum(p.numel() for p in batchnorm.parameters())
    print(f"{path}: {count} parameters in the batchnorm variant")


def write_mobilenet_v2_keys(out_dir):
    classifier = mobilenet_v2(weights=None)
    features = mobilenet_v2(weights=None, norm_layer=FrozenBatchNorm2d).features
    backbone = BackboneWithFPN(features, return_layers={"6": "0", "13": "1", "18": "2"},
                               in_channels_list=[32, 96, 1280], out_channels=256,
                               extra_blocks=LastLevelP6P7(256, 256))
    detector = RetinaNet(backbone, num_classes=91)
    write_keys(out_dir, "mobilenet_v2_keys.txt", "mobilenet_v2 and a RetinaNet over its features",
               state_lines("classifier", classifier) + state_lines("retinanet_frozen", detector))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity", "data")
    parser.add_argument("--out", default=default_out, help="output folder (default: tests/parity/data)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    # One thread and deterministic kernels, so two runs write the same bytes.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    run_r18(args.out)
    write_resnet50_keys(args.out)
    write_mobilenet_v2_keys(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
