#!/usr/bin/python3
"""The torchvision reference for maskdet's face-mask detector: fine-tunes torchvision's own
RetinaNet, built as maskdet builds its detector, on the same images and for the same wall-clock
time, then scores it on the same validation images by maskdet's definitions of AP (issue 11,
deliverable 4). scripts/compare-torchvision.sh runs it beside a maskdet run and prints both.

Run with Debian's interpreter (python3-torch 1.13 and python3-torchvision 0.14, CPU); the first
python3 on PATH may have neither.

The model (torchvision 0.14's modules; maskdet's `--backbone mobilenet_v2 --weights imagenet
--fpn-channels 64 --head-group-norm`):
  - backbone: torchvision.models.mobilenet_v2 with FrozenBatchNorm2d, loaded from --weights
    (every features.* key must be used; classifier.* and num_batches_tracked are dropped). Its
    stages are those of torchvision's _mobilenet_extractor (a stage starts at features.0 and at
    every stride-2 block: features.0, 2, 4, 7, 14, 18); the last --trainable-backbone-layers (3,
    torchvision's default with pretrained weights) train, features.0-6 stay frozen.
  - FPN: C3, C4, C5 = features.6, .13, .18 (32, 96, 1280 channels; strides 8, 16, 32) into
    torchvision.ops.FeaturePyramidNetwork(64 channels) with LastLevelP6P7(64, 64): P6 from P5,
    as torchvision's RetinaNet v2. (_mobilenet_extractor itself taps the first block of a stage,
    two levels only, at 256 channels, so the BackboneWithFPN is assembled here.)
  - head: RetinaNetHead(64, 9, 2, norm_layer=partial(nn.GroupNorm, 32)): four conv + GroupNorm
    + ReLU layers per subnet; focal loss (0.25, 2), L1 box loss, matcher 0.5 / 0.4, box coder
    weights 1: torchvision's RetinaNet defaults, as maskdet's.
  - anchors: torchvision's _default_anchorgen (32 ... 512, scales 2^0, 2^(1/3), 2^(2/3) truncated
    to whole pixels, ratios 0.5, 1, 2).
  - classes: sorted names from every annotation of --data (mask, noMask), labels 0..K-1, sigmoid,
    no background class, as maskdet.
  - input: GeneralizedRCNNTransform, shorter side --image-min-side (256; the full run 320),
    longer side at most --image-max-side (384; full 480), ImageNet mean / std, padded to x32.
  - post-processing: score 0.05, 1000 candidates per level, NMS 0.5 per class, 300 detections
    per image: torchvision's defaults and maskdet's (retinanet/postprocess.h).

Training (maskdet's train_settings defaults as scripts/run-main.sh sets them):
  AdamW, --lr 1e-3, weight decay 1e-4 on every parameter, the backbone in a second group at
  --backbone-lr-factor 0.1 x lr; linear warm-up from 0.001 x lr over --warmup-steps (60; the
  full run 100) multiplying a cosine decay to 0; --batch-size 8, the last incomplete batch of an
  epoch dropped; gradients clipped to a global norm of --clip-grad-norm 10; the sum of the
  classification and box losses. --threads N calls torch.set_num_threads(N) (default: every
  core, as maskdet's OpenMP).
  With --epochs E alone the cosine runs over E epochs of steps, as maskdet's. With
  --budget-seconds S the cosine is a function of elapsed training time instead: a step that
  starts after t seconds takes the lr at t / S, and training stops before a step that would
  end past S (predicted from the recent steps), so the run spends its budget, never more, and
  its last step's lr is within one step of 0. With both, whichever ends first. The seconds
  count what maskdet's epoch times count: preparing batches (augmentation) and the optimiser
  steps; decoding the images (done once, before training, as maskdet's prepared cache) and
  validation are not counted. Batches are augmented on the training thread, between steps
  (maskdet prepares them on two background threads while it computes).
  --ema DECAY keeps maskdet's moving average of the weights (layers/optim/weight_average.h):
  after each step every floating state_dict entry moves average = d * average + (1 - d) * value
  with d = min(DECAY, (1 + n) / (10 + n)), n the updates before; the average is scored (the
  trained weights too, as "trained_weights").

Augmentation (on by default; --no-augment turns it off), following maskdet's --random-transform
(apps/data/random_transform.h), per image, in this order:
  - horizontal flip, probability 0.5;
  - a crop, probability 0.5: each side a fraction in [--crop-min-fraction (0.6), 1] of the image's, enlarged and placed
    so that every box centre stays inside; boxes are clipped and kept when both sides are at
    least 2 px and at least 20 % of the area remains (maskdet's BoxKeepRule);
  - zoom out, probability --zoom-out (0; the full run 0.2): the image on a canvas up to
    --zoom-out-max (3) times its sides, filled with the ImageNet mean colour;
  - brightness, contrast and saturation factors each in [0.8, 1.2]
    (torchvision.transforms.functional.adjust_*);
  - scale jitter: the resize's min and max sides times a factor in --scale-jitter (0.8,1.2).
  Not done, though maskdet does it: the small rotation with translation (probability 0.5, up to
  5 degrees and 5 % of each side). The random numbers are Python's, seeded by --seed; they are
  not maskdet's streams.

Data: --data is a Pascal VOC folder (images/ + annotations/; every annotations/*.xml is read, its
image found under <filename>, else under the XML's own name with an image extension, as
maskdet's reader). Boxes are kept whatever their <difficult> (maskdet trains on all of them);
evaluation ignores difficult ones as the VOC devkit does. Boxes outside the image are clipped.
The split comes from a maskdet snapshot folder (--split DIR: DIR/train_images.txt and
DIR/val_images.txt, one image path a line, written by `maskdet train`) or from --train-list and
--val-list; a line names an image by its path or, failing that, by its file name in --data.

Evaluation on the validation images, one image at a time (batch 1), detections mapped back to
the image file's pixels, with maskdet's definitions (apps/eval/):
  - AP@0.5 per class by the PASCAL VOC2010+ devkit: all-point interpolation, the devkit's
    inclusive pixels (width x2 - x1 + 1), difficult ground truth ignored; mAP@0.5 = their mean;
  - AP@[.5:.95] (and AP@0.75) per class by pycocotools' COCOeval for boxes, area "all", 100
    detections per image and class, difficult ground truth as COCOeval's "ignore"; the mean;
  - class-agnostic AP@0.5 and AP@[.5:.95]: every box is a "face"; the detections of all classes
    first go through one NMS at 0.5 (what maskdet's --class-agnostic-nms would keep), so a face
    found as both mask and noMask counts once;
  - inference ms/image: the median over the validation images of model(image) at batch 1
    (resize, network, post-processing), and the mean at --timing-batch-size (default
    --batch-size), the figure maskdet's results.json calls seconds_per_image.
--flip-test also scores the test-time flip of maskdet's --flip-test (each image also mirrored,
the mirrored pass's boxes mirrored back, both passes through batched_nms at 0.5 and the best 300
kept), as "flip_test".
--evaluate-detections FILE scores a maskdet `detect` list (detections.jsonl) the same way,
without training.

Examples:
  # the quick configuration on a maskdet run's split, for the wall time maskdet trained
  /usr/bin/python3 tools/train_torchvision_retinanet.py --data ../shared/data/facemask \\
      --split runs/main/snapshots --budget-seconds 600 --out runs/main/torchvision/results.json
  # the full run's sizes and schedule
  /usr/bin/python3 tools/train_torchvision_retinanet.py --data ../shared/data/facemask \\
      --split runs/full/snapshots --image-min-side 320 --image-max-side 480 --warmup-steps 100 \\
      --zoom-out 0.2 --epochs 10
  # score maskdet's detections (maskdet detect --threshold 0.05 ...) by this script's evaluator
  /usr/bin/python3 tools/train_torchvision_retinanet.py --data ../shared/data/facemask \\
      --split runs/main/snapshots --evaluate-detections out/detections.jsonl --out maskdet.json

Weights: --weights takes torchvision's mobilenet_v2-b0353104.pth or maskdet's converted
safetensors (tools/fetch_weights.py); by default the file scripts/fetch-weights.sh writes.
"""
import argparse
import functools
import json
import math
import os
import random
import statistics
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform, _resize_image_and_masks, resize_boxes
from torchvision.ops import FrozenBatchNorm2d, boxes as box_ops
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
import torchvision.transforms.functional as TF

TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TOOLS)
from fetch_weights import default_out as default_weights_path  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG", ".BMP")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# maskdet's C3, C4, C5 (retinanet/mobilenet_v2.cpp kTaps) and their channels.
MOBILENET_V2_TAPS = {"6": "0", "13": "1", "18": "2"}
MOBILENET_V2_TAP_CHANNELS = [32, 96, 1280]
WARMUP_START_FACTOR = 1e-3  # maskdet's kWarmupStartFactor, torchvision's detection reference
# maskdet's BoxKeepRule: a clipped box still counts when both sides and this share of its area remain.
KEEP_MIN_SIDE = 2.0
KEEP_MIN_VISIBLE_FRACTION = 0.2


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

class DataError(Exception):
    pass


def parse_voc_annotation(xml_path):
    """(filename, width, height, [(name, x1, y1, x2, y2, difficult)]) of one VOC XML file."""
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as error:
        raise DataError(f"{xml_path}: malformed XML: {error}") from None
    if root.tag != "annotation":
        raise DataError(f"{xml_path}: the root element is <{root.tag}>, expected <annotation>")
    filename = (root.findtext("filename") or "").strip()
    size = root.find("size")
    width = int(float(size.findtext("width") or 0)) if size is not None else 0
    height = int(float(size.findtext("height") or 0)) if size is not None else 0
    objects = []
    for number, obj in enumerate(root.findall("object"), start=1):
        where = f"{xml_path}: <object>[{number}]"
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise DataError(f"{where} has no <name>")
        difficult = int((obj.findtext("difficult") or "0").strip() or 0) != 0
        bndbox = obj.find("bndbox")
        if bndbox is None:
            raise DataError(f"{where} has no <bndbox>")
        try:
            x1, y1, x2, y2 = (float(bndbox.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError):
            raise DataError(f"{where}/<bndbox> lacks a number in xmin, ymin, xmax or ymax") from None
        if not (x2 > x1 and y2 > y1):
            raise DataError(f"{where}: box ({x1}, {y1}, {x2}, {y2}) has x2 <= x1 or y2 <= y1")
        objects.append((name, x1, y1, x2, y2, difficult))
    return filename, width, height, objects


def find_image(images_dir, filename, xml_path):
    """The image of an annotation, found as maskdet's reader finds it (voc_folders.h)."""
    candidates = [os.path.join(images_dir, filename)] if filename else []
    stem = os.path.splitext(os.path.basename(xml_path))[0]
    candidates += [os.path.join(images_dir, stem + ext) for ext in IMAGE_EXTENSIONS]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise DataError(f"{xml_path}: no image file for it in {images_dir} (tried {', '.join(candidates[:3])}...)")


def read_voc_folder(data_dir):
    """(records, classes): one record per annotation {path, objects, xml}, classes sorted as maskdet
    sorts them (every class name in the folder, byte order)."""
    annotations_dir, images_dir = os.path.join(data_dir, "annotations"), os.path.join(data_dir, "images")
    for folder in (annotations_dir, images_dir):
        if not os.path.isdir(folder):
            raise DataError(f"{data_dir}: expected a VOC folder with images/ and annotations/; {folder} is missing")
    records = []
    for name in sorted(os.listdir(annotations_dir)):
        if not name.endswith(".xml"):
            continue
        xml_path = os.path.join(annotations_dir, name)
        filename, width, height, objects = parse_voc_annotation(xml_path)
        records.append({"path": find_image(images_dir, filename, xml_path), "xml": xml_path,
                        "width": width, "height": height, "objects": objects})
    if not records:
        raise DataError(f"{annotations_dir}: no .xml annotations")
    classes = sorted({obj[0] for record in records for obj in record["objects"]})
    return records, classes


def read_image_list(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def select_records(records, lines, list_path, data_dir):
    """The records a split list names: by path (as written, or relative to the list's folder or
    --data), else by file name when exactly one image of --data has it."""
    by_real_path = {os.path.realpath(r["path"]): r for r in records}
    by_name = {}
    for r in records:
        by_name.setdefault(os.path.basename(r["path"]), []).append(r)
    chosen = []
    for line in lines:
        found = None
        for base in ("", os.path.dirname(os.path.abspath(list_path)), data_dir):
            candidate = os.path.realpath(os.path.join(base, line))
            if candidate in by_real_path:
                found = by_real_path[candidate]
                break
        if found is None:
            matches = by_name.get(os.path.basename(line), [])
            if len(matches) != 1:
                raise DataError(f"{list_path}: {line} is not an image of {data_dir}"
                                + (f" ({len(matches)} images have its name)" if matches else ""))
            found = matches[0]
        chosen.append(found)
    return chosen


def decode_image(record, cache_side):
    """The image as uint8 (3, H, W), shrunk so no side exceeds cache_side (maskdet's prepared
    cache does the same once before training); the file's size; the shrink factors x, y."""
    try:
        with Image.open(record["path"]) as image:
            image = image.convert("RGB")
    except OSError as error:
        raise DataError(f"{record['path']}: cannot decode it: {error}") from None
    width, height = image.size
    scale = min(1.0, cache_side / max(width, height))
    if scale < 1.0:
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    pixels = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()
    return pixels, (width, height), (pixels.shape[2] / width, pixels.shape[1] / height)


def ground_truth(record, classes, width, height):
    """The record's boxes as (x1, y1, x2, y2, class id, difficult), clipped to the image, as
    maskdet clips boxes that extend outside it (ones left empty are dropped)."""
    class_ids = {name: k for k, name in enumerate(classes)}
    truth = []
    for name, x1, y1, x2, y2, difficult in record["objects"]:
        if name not in class_ids:
            raise DataError(f"{record['xml']}: unknown class '{name}' (classes: {', '.join(classes)})")
        x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
        y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
        if x2 > x1 and y2 > y1:
            truth.append((x1, y1, x2, y2, class_ids[name], difficult))
    return truth


def prepare_samples(records, classes, cache_side):
    """Decoded samples: pixels (shrunk), boxes in the shrunk pixels and labels for training, and
    the ground truth in the file's pixels for evaluation."""
    samples = []
    for record in records:
        pixels, (width, height), (sx, sy) = decode_image(record, cache_side)
        truth = ground_truth(record, classes, width, height)
        boxes = torch.tensor([[t[0] * sx, t[1] * sy, t[2] * sx, t[3] * sy] for t in truth],
                             dtype=torch.float32).reshape(-1, 4)
        samples.append({"path": record["path"], "pixels": pixels, "boxes": boxes,
                        "labels": torch.tensor([t[4] for t in truth], dtype=torch.int64),
                        "truth": truth, "file_size": (width, height), "shrink": (sx, sy)})
    return samples


# ------------------------------------------------------------------------------------------------
# Augmentation (maskdet's --random-transform less its rotation; see the docstring)
# ------------------------------------------------------------------------------------------------

def keep_boxes(boxes, labels, clipped):
    """maskdet's BoxKeepRule on boxes clipped to a new frame."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    keep = (w >= KEEP_MIN_SIDE) & (h >= KEEP_MIN_SIDE) & (w * h >= KEEP_MIN_VISIBLE_FRACTION * area)
    return clipped[keep], labels[keep]


def random_crop_rect(width, height, boxes, min_fraction, rng):
    """(x, y, w, h): each side a random fraction of the image's, widened and placed so that every
    box centre lies inside (apps/data/geometric_transforms.cpp random_crop_rect)."""
    fw = min_fraction + (1 - min_fraction) * rng.random()
    fh = min_fraction + (1 - min_fraction) * rng.random()

    def place(side, fraction, centres):
        length = min(max(round(side * fraction), 1), side)
        if len(centres) == 0:
            return rng.randint(0, side - length), length
        lo = min(max(math.floor(min(centres)), 0), side)
        hi = min(max(math.ceil(max(centres)), 0), side)
        length = max(length, hi - lo)
        return rng.randint(max(0, hi - length), min(lo, side - length)), length

    cx = [0.5 * (b[0] + b[2]) for b in boxes.tolist()]
    cy = [0.5 * (b[1] + b[3]) for b in boxes.tolist()]
    x, w = place(width, fw, cx)
    y, h = place(height, fh, cy)
    return x, y, w, h


def augment(pixels, boxes, labels, options, rng):
    """A training sample as float (3, H, W) in [0, 1] with its boxes and labels."""
    _, height, width = pixels.shape
    if rng.random() < 0.5:
        pixels = pixels.flip(-1)
        boxes = torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], dim=1)
    if rng.random() < 0.5:
        x, y, w, h = random_crop_rect(width, height, boxes, options.crop_min_fraction, rng)
        pixels = pixels[:, y:y + h, x:x + w]
        shifted = boxes - torch.tensor([x, y, x, y], dtype=torch.float32)
        clipped = torch.stack([shifted[:, 0].clamp(0, w), shifted[:, 1].clamp(0, h),
                               shifted[:, 2].clamp(0, w), shifted[:, 3].clamp(0, h)], dim=1)
        boxes, labels = keep_boxes(shifted, labels, clipped)
        height, width = h, w
    if options.zoom_out > 0 and rng.random() < options.zoom_out:
        ratio = rng.uniform(1.0, max(1.0, options.zoom_out_max))
        canvas_w, canvas_h = round(width * ratio), round(height * ratio)
        x, y = int(rng.random() * (canvas_w - width)), int(rng.random() * (canvas_h - height))
        mean = torch.tensor([round(255 * m) for m in IMAGENET_MEAN], dtype=torch.uint8)
        canvas = mean.view(3, 1, 1).expand(3, canvas_h, canvas_w).clone()
        canvas[:, y:y + height, x:x + width] = pixels
        pixels = canvas
        boxes = boxes + torch.tensor([x, y, x, y], dtype=torch.float32)
    image = pixels.float().div_(255)
    image = TF.adjust_brightness(image, rng.uniform(0.8, 1.2))
    image = TF.adjust_contrast(image, rng.uniform(0.8, 1.2))
    image = TF.adjust_saturation(image, rng.uniform(0.8, 1.2))
    return image, boxes, labels


class ScaleJitterTransform(GeneralizedRCNNTransform):
    """torchvision's detection transform whose training resize multiplies both its sides by a
    factor drawn per image from `jitter` (maskdet's --scale-jitter); inference is unchanged."""

    def __init__(self, min_size, max_size, jitter, rng):
        super().__init__(min_size, max_size, list(IMAGENET_MEAN), list(IMAGENET_STD))
        self.jitter = jitter
        self.rng = rng

    def resize(self, image, target=None):
        if not self.training or self.jitter[0] == self.jitter[1] == 1.0:
            return super().resize(image, target)
        factor = self.rng.uniform(*self.jitter)
        h, w = image.shape[-2:]
        image, target = _resize_image_and_masks(image, float(self.min_size[-1]) * factor,
                                                float(self.max_size) * factor, target, self.fixed_size)
        if target is not None:
            target["boxes"] = resize_boxes(target["boxes"], (h, w), image.shape[-2:])
        return image, target


# ------------------------------------------------------------------------------------------------
# Model
# ------------------------------------------------------------------------------------------------

class WeightsError(Exception):
    pass


def read_backbone_state(path):
    """The features.* tensors of an ImageNet MobileNetV2 file (.pth or .safetensors), and a note
    of what was left out (the classifier, BatchNorm's num_batches_tracked)."""
    if path.endswith(".safetensors"):
        state, _ = read_safetensors(path)
    else:
        state = torch.load(path, map_location="cpu")
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise WeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
    features, dropped, unexpected = {}, [], []
    for key, tensor in state.items():
        if key.startswith("features."):
            if key.endswith(".num_batches_tracked"):
                dropped.append(key)
            else:
                features[key[len("features."):]] = tensor
        elif key.startswith("classifier."):
            dropped.append(key)
        else:
            unexpected.append(key)
    if unexpected:
        raise WeightsError(f"{path}: {len(unexpected)} keys that are not MobileNetV2's, e.g. {unexpected[:3]}")
    return features, dropped


def load_backbone_weights(features_module, path):
    """Loads path into mobilenet_v2().features; every key of both sides must match. Returns a
    summary for the results."""
    state, dropped = read_backbone_state(path)
    expected = set(features_module.state_dict())
    missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or extra:
        raise WeightsError(f"{path}: {len(missing)} backbone keys missing (e.g. {missing[:3]}), "
                           f"{len(extra)} unexpected (e.g. {extra[:3]})")
    for key, tensor in state.items():
        want = features_module.state_dict()[key].shape
        if tuple(tensor.shape) != tuple(want):
            raise WeightsError(f"{path}: features.{key} has shape {tuple(tensor.shape)}, expected {tuple(want)}")
    result = features_module.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return {"path": os.path.abspath(path), "backbone_tensors": len(state), "dropped": len(dropped)}


def mobilenet_v2_stage_starts(features):
    """torchvision's _mobilenet_extractor stages: features.0, every block with _is_cn (stride 2),
    and the last block."""
    return [0] + [i for i, block in enumerate(features) if getattr(block, "_is_cn", False)] + [len(features) - 1]


def freeze_backbone_stages(features, trainable_layers):
    """_mobilenet_extractor's rule: the last `trainable_layers` stages train, the rest do not."""
    starts = mobilenet_v2_stage_starts(features)
    if not 0 <= trainable_layers <= len(starts):
        raise ValueError(f"--trainable-backbone-layers must be in [0, {len(starts)}], got {trainable_layers}")
    freeze_before = len(features) if trainable_layers == 0 else starts[len(starts) - trainable_layers]
    for block in list(features)[:freeze_before]:
        for parameter in block.parameters():
            parameter.requires_grad_(False)
    return freeze_before


def build_model(num_classes, options, weights_path, rng):
    """The detector of the module docstring; returns (model, weights summary)."""
    mobilenet = torchvision.models.mobilenet_v2(weights=None, norm_layer=FrozenBatchNorm2d)
    features = mobilenet.features
    weights = load_backbone_weights(features, weights_path) if weights_path else None
    frozen_blocks = freeze_backbone_stages(features, options.trainable_backbone_layers)
    backbone = BackboneWithFPN(features, MOBILENET_V2_TAPS, MOBILENET_V2_TAP_CHANNELS, options.fpn_channels,
                               extra_blocks=LastLevelP6P7(options.fpn_channels, options.fpn_channels))
    anchor_generator = torchvision.models.detection.retinanet._default_anchorgen()
    head = RetinaNetHead(options.fpn_channels, anchor_generator.num_anchors_per_location()[0], num_classes,
                         norm_layer=functools.partial(nn.GroupNorm, 32))
    model = RetinaNet(backbone, num_classes, min_size=options.image_min_side, max_size=options.image_max_side,
                      image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
                      anchor_generator=anchor_generator, head=head, score_thresh=0.05, nms_thresh=0.5,
                      detections_per_img=300, topk_candidates=1000)
    model.transform = ScaleJitterTransform(options.image_min_side, options.image_max_side, options.scale_jitter, rng)
    if weights is not None:
        weights["frozen_blocks"] = f"features.0-{frozen_blocks - 1}" if frozen_blocks else "none"
    return model, weights


# ------------------------------------------------------------------------------------------------
# Evaluation: maskdet's definitions (apps/eval/voc_ap.h, coco_ap.h, detection_eval.h)
# ------------------------------------------------------------------------------------------------
# An image for evaluation: {"ground_truth": [(x1, y1, x2, y2, class, difficult)],
#                           "detections": [(x1, y1, x2, y2, class, score)]}.

def voc_iou(a, b, one_pixel):
    """The devkit's overlap, or None where the boxes do not intersect (the devkit skips those)."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + one_pixel
    ih = min(a[3], b[3]) - max(a[1], b[1]) + one_pixel
    if not (iw > 0 and ih > 0):
        return None
    inter = iw * ih
    area_a = (a[2] - a[0] + one_pixel) * (a[3] - a[1] + one_pixel)
    area_b = (b[2] - b[0] + one_pixel) * (b[3] - b[1] + one_pixel)
    return inter / (area_a + area_b - inter)


def voc_ap(images, class_id, iou_threshold=0.5, inclusive=True):
    """PASCAL VOC2010+ all-point AP of one class, or None when it has no (non-difficult) ground
    truth. Returns (ap, num_gt, num_det)."""
    one_pixel = 1.0 if inclusive else 0.0
    truths = [[g for g in image["ground_truth"] if g[4] == class_id] for image in images]
    num_positives = sum(1 for t in truths for g in t if not g[5])
    candidates = [(d[5], i, d) for i, image in enumerate(images) for d in image["detections"] if d[4] == class_id]
    candidates.sort(key=lambda c: -c[0])  # stable, as MATLAB's sort: ties keep image order
    if num_positives == 0:
        return None, 0, len(candidates)
    taken = [[False] * len(t) for t in truths]
    true_positives = false_positives = 0
    recall, precision = [], []
    for _, i, d in candidates:
        best, best_j = -math.inf, None
        for j, g in enumerate(truths[i]):
            overlap = voc_iou(d, g, one_pixel)
            if overlap is not None and overlap > best:  # strict: the first of equal overlaps wins
                best, best_j = overlap, j
        if best >= iou_threshold:
            if truths[i][best_j][5]:
                continue  # a difficult ground truth: the detection is ignored
            if not taken[i][best_j]:
                taken[i][best_j] = True
                true_positives += 1
            else:
                false_positives += 1
        else:
            false_positives += 1
        recall.append(true_positives / num_positives)
        precision.append(true_positives / (true_positives + false_positives))
    envelope, best = [0.0] * len(precision), 0.0
    for k in range(len(precision) - 1, -1, -1):
        best = max(best, precision[k])
        envelope[k] = best
    ap, previous_recall = 0.0, 0.0
    for r, p in zip(recall, envelope):
        if r != previous_recall:
            ap += (r - previous_recall) * p
        previous_recall = r
    return ap, num_positives, len(candidates)


COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
COCO_RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def coco_iou(d, g):
    """COCO's overlap with its (x, y, w, h) round trip, so sums round as in pycocotools."""
    dw, dh, gw, gh = d[2] - d[0], d[3] - d[1], g[2] - g[0], g[3] - g[1]
    w = min(dw + d[0], gw + g[0]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(dh + d[1], gh + g[1]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    inter = w * h
    return inter / (dw * dh + gw * gh - inter)


def coco_precision(images, class_id, max_detections=100):
    """COCOeval's precision table [IoU threshold, recall threshold] for one class (bbox, area
    "all"), difficult ground truth ignored; None without regular ground truth."""
    scores, matched, ignored = [], [[] for _ in COCO_IOU_THRESHOLDS], [[] for _ in COCO_IOU_THRESHOLDS]
    regular = 0
    for image in images:
        truths = [g for g in image["ground_truth"] if g[4] == class_id]
        truths = sorted(truths, key=lambda g: 1 if g[5] else 0)  # regular first (stable)
        dets = sorted((d for d in image["detections"] if d[4] == class_id), key=lambda d: -d[5])[:max_detections]
        regular += sum(1 for g in truths if not g[5])
        ious = [[coco_iou(d, g) for g in truths] for d in dets]
        for t, threshold in enumerate(COCO_IOU_THRESHOLDS):
            taken = [False] * len(truths)
            for di in range(len(dets)):
                best_iou, best = min(threshold, 1 - 1e-10), -1
                for gi, g in enumerate(truths):
                    if taken[gi]:
                        continue
                    if best > -1 and not truths[best][5] and g[5]:
                        break
                    if ious[di][gi] < best_iou:
                        continue
                    best_iou, best = ious[di][gi], gi
                matched[t].append(best != -1)
                ignored[t].append(best != -1 and bool(truths[best][5]))
                if best != -1:
                    taken[best] = True
        scores += [d[5] for d in dets]
    if regular == 0:
        return None
    order = np.argsort(-np.array(scores, dtype=np.float64), kind="mergesort")
    table = np.zeros((len(COCO_IOU_THRESHOLDS), len(COCO_RECALL_THRESHOLDS)))
    for t in range(len(COCO_IOU_THRESHOLDS)):
        m = np.array(matched[t], dtype=bool)[order]
        ig = np.array(ignored[t], dtype=bool)[order]
        tp = np.cumsum(m & ~ig).astype(np.float64)
        fp = np.cumsum(~m & ~ig).astype(np.float64)
        recall = tp / regular
        precision = (tp / (fp + tp + np.spacing(1))).tolist()
        for k in range(len(precision) - 1, 0, -1):
            if precision[k] > precision[k - 1]:
                precision[k - 1] = precision[k]
        reached = np.searchsorted(recall, COCO_RECALL_THRESHOLDS, side="left")
        for r, index in enumerate(reached):
            if index >= len(precision):
                break
            table[t, r] = precision[index]
    return table


def mean_defined(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def class_agnostic(images, nms_iou=0.5):
    """Every box a "face" (class 0); each image's detections through one NMS over all classes."""
    merged = []
    for image in images:
        dets = image["detections"]
        if dets:
            boxes = torch.tensor([d[:4] for d in dets], dtype=torch.float64)
            scores = torch.tensor([d[5] for d in dets], dtype=torch.float64)
            dets = [(*dets[k][:4], 0, dets[k][5]) for k in box_ops.nms(boxes, scores, nms_iou).tolist()]
        merged.append({"ground_truth": [(*g[:4], 0, g[5]) for g in image["ground_truth"]], "detections": dets})
    return merged


def evaluate(images, classes):
    """maskdet's figures (results.json's names where it has them) plus the class-agnostic ones."""
    per_class = {}
    for k, name in enumerate(classes):
        ap50, num_gt, num_det = voc_ap(images, k)
        table = coco_precision(images, k)
        per_class[name] = {"ap50": ap50, "ap": None if table is None else float(table.mean()),
                           "ap50_coco": None if table is None else float(table[0].mean()),
                           "ap75": None if table is None else float(table[5].mean()),
                           "num_gt": num_gt, "num_det": num_det}
    agnostic = class_agnostic(images)
    agnostic_table = coco_precision(agnostic, 0)
    return {"per_class": per_class,
            "map50": mean_defined([c["ap50"] for c in per_class.values()]),
            "map": mean_defined([c["ap"] for c in per_class.values()]),
            "map75": mean_defined([c["ap75"] for c in per_class.values()]),
            "agnostic_ap50": voc_ap(agnostic, 0)[0],
            "agnostic_ap": None if agnostic_table is None else float(agnostic_table.mean()),
            "num_images": len(images)}


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------

def warmup_factor(step, warmup_steps):
    if step >= warmup_steps:
        return 1.0
    return WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * step / warmup_steps


def cosine_factor(fraction):
    return (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0))) / 2


def make_optimizer(model, options):
    backbone, rest = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (backbone if name.startswith("backbone.body.") else rest).append(parameter)
    groups = [{"params": rest, "lr": options.lr}]
    if backbone:
        groups.append({"params": backbone, "lr": options.lr * options.backbone_lr_factor})
    for group in groups:
        group["base_lr"] = group["lr"]
    return torch.optim.AdamW(groups, lr=options.lr, weight_decay=options.weight_decay)


class WeightAverage:
    """maskdet's --ema: a moving average of every floating state_dict entry, integer ones copied."""

    def __init__(self, model, decay):
        self.decay, self.updates = decay, 0
        self.averages = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in model.state_dict().items():
            average = self.averages[k]
            if average.is_floating_point():
                average.mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                average.copy_(v)
        self.updates += 1


def train(model, samples, options, rng):
    """Trains in place; returns the training record and the weight average (None without --ema)."""
    model.train()
    optimizer = make_optimizer(model, options)
    average = WeightAverage(model, options.ema) if options.ema > 0 else None
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    batch = options.batch_size
    steps_per_epoch = len(samples) // batch if len(samples) >= batch else 1
    max_steps = options.epochs * steps_per_epoch if options.epochs else None
    budget = options.budget_seconds
    log, recent, images_seen, step = [], [], 0, 0
    loss_sum = classification_sum = regression_sum = 0.0
    order = []
    start = time.perf_counter()
    last_print = start
    while True:
        elapsed = time.perf_counter() - start
        if max_steps is not None and step >= max_steps:
            break
        if budget is not None and step > 0 and elapsed + statistics.mean(recent) > budget:
            break
        decay = cosine_factor(elapsed / budget if budget is not None else step / max_steps)
        lr_factor = warmup_factor(step, options.warmup_steps) * decay
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * lr_factor
        step_start = time.perf_counter()
        if len(order) < min(batch, len(samples)):  # a new epoch; the incomplete rest is dropped
            order = list(range(len(samples)))
            rng.shuffle(order)
        chosen, order = order[:batch], order[batch:]
        images, targets = [], []
        for index in chosen:
            s = samples[index]
            if options.augment:
                image, boxes, labels = augment(s["pixels"], s["boxes"], s["labels"], options, rng)
            else:
                image, boxes, labels = s["pixels"].float() / 255, s["boxes"], s["labels"]
            images.append(image)
            targets.append({"boxes": boxes, "labels": labels})
        losses = model(images, targets)
        loss = losses["classification"] + losses["bbox_regression"]
        if not torch.isfinite(loss):
            raise SystemExit(f"training diverged: the loss is {loss.item()} at step {step + 1} "
                             f"(classification {losses['classification'].item()}, "
                             f"regression {losses['bbox_regression'].item()}); try a lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if options.clip_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(parameters, options.clip_grad_norm)
        optimizer.step()
        if average is not None:
            average.update(model)
        step += 1
        images_seen += len(chosen)
        now = time.perf_counter()
        recent = (recent + [now - step_start])[-5:]
        loss_sum += loss.item()
        classification_sum += losses["classification"].item()
        regression_sum += losses["bbox_regression"].item()
        if step % options.log_every == 0 or (max_steps is not None and step == max_steps):
            n = options.log_every if step % options.log_every == 0 else step % options.log_every
            entry = {"step": step, "seconds": round(now - start, 3), "lr": optimizer.param_groups[0]["lr"],
                     "loss": loss_sum / n, "classification": classification_sum / n, "regression": regression_sum / n}
            log.append(entry)
            loss_sum = classification_sum = regression_sum = 0.0
            if now - last_print >= options.print_seconds or (max_steps is not None and step == max_steps):
                print(f"step {step}  {now - start:.0f} s  epoch {images_seen / len(samples):.2f}  "
                      f"loss {entry['loss']:.4f} (classification {entry['classification']:.4f}, "
                      f"regression {entry['regression']:.4f})  lr {entry['lr']:.3g}  "
                      f"{images_seen / (now - start):.2f} img/s", flush=True)
                last_print = now
    seconds = time.perf_counter() - start
    return {"train_seconds": seconds, "steps": step, "epochs": images_seen / len(samples),
            "train_images": images_seen, "train_images_per_second": images_seen / seconds,
            "steps_per_epoch": steps_per_epoch, "final_lr": optimizer.param_groups[0]["lr"], "loss_log": log}, average


def flip_merged(model, image, plain):
    """maskdet's --flip-test: the mirrored image's detections mirrored back, merged with `plain`."""
    mirrored = model([image.flip(-1)])[0]
    width = image.shape[-1]
    boxes = mirrored["boxes"].clone()
    boxes[:, 0], boxes[:, 2] = width - mirrored["boxes"][:, 2], width - mirrored["boxes"][:, 0]
    boxes = torch.cat([plain["boxes"], boxes])
    scores = torch.cat([plain["scores"], mirrored["scores"]])
    labels = torch.cat([plain["labels"], mirrored["labels"]])
    keep = box_ops.batched_nms(boxes, scores, labels, model.nms_thresh)[:model.detections_per_img]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


@torch.inference_mode()
def detect(model, samples, timing_batch_size, flip_test=False):
    """Evaluation images (detections in the file's pixels) at batch 1, its per-image times, and the
    mean time per image at timing_batch_size (0: not measured)."""
    model.eval()
    images, times = [], []
    for s in samples:
        image = s["pixels"].float() / 255
        start = time.perf_counter()
        output = model([image])[0]
        if flip_test:
            output = flip_merged(model, image, output)
        times.append(time.perf_counter() - start)
        sx, sy = s["shrink"]
        width, height = s["file_size"]
        detections = []
        for box, label, score in zip(output["boxes"].tolist(), output["labels"].tolist(), output["scores"].tolist()):
            detections.append((min(max(box[0] / sx, 0.0), width), min(max(box[1] / sy, 0.0), height),
                               min(max(box[2] / sx, 0.0), width), min(max(box[3] / sy, 0.0), height),
                               label, score))
        images.append({"ground_truth": s["truth"], "detections": detections})
    batched_seconds = None
    if timing_batch_size > 0 and samples:
        total = 0.0
        for begin in range(0, len(samples), timing_batch_size):
            chunk = [s["pixels"].float() / 255 for s in samples[begin:begin + timing_batch_size]]
            start = time.perf_counter()
            model(chunk)
            total += time.perf_counter() - start
        batched_seconds = total / len(samples)
    return images, times, batched_seconds


# ------------------------------------------------------------------------------------------------
# maskdet's detections.jsonl
# ------------------------------------------------------------------------------------------------

def read_detection_lines(path, samples, classes):
    """Evaluation images from a `maskdet detect` list, for the samples' images (ones the list does
    not mention have no detections)."""
    by_path = {os.path.realpath(s["path"]): k for k, s in enumerate(samples)}
    by_name = {}
    for k, s in enumerate(samples):
        by_name.setdefault(os.path.basename(s["path"]), []).append(k)
    class_ids = {name: k for k, name in enumerate(classes)}
    detections = [[] for _ in samples]
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            entry = json.loads(line)
            if "frame" in entry:
                continue
            k = by_path.get(os.path.realpath(entry["image"]))
            if k is None:
                names = by_name.get(os.path.basename(entry["image"]), [])
                if len(names) != 1:
                    continue  # not an evaluation image
                k = names[0]
            if entry["class"] not in class_ids:
                raise DataError(f"{path}:{number}: class '{entry['class']}' is not one of {classes}")
            x1, y1, x2, y2 = entry["box"]
            detections[k].append((x1, y1, x2, y2, class_ids[entry["class"]], entry["score"]))
    return [{"ground_truth": s["truth"], "detections": d} for s, d in zip(samples, detections)]


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------

def parse_jitter(text):
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not MIN,MAX") from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"'{text}' needs 0 < MIN <= MAX")
    return lo, hi


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--data", required=True, help="Pascal VOC folder with images/ and annotations/")
    data.add_argument("--split", help="a maskdet snapshot folder holding train_images.txt and val_images.txt")
    data.add_argument("--train-list", help="training images, one path a line (instead of --split)")
    data.add_argument("--val-list", help="validation images, one path a line (instead of --split)")
    model = parser.add_argument_group("model")
    model.add_argument("--weights", default=default_weights_path(),
                       help="ImageNet MobileNetV2: torchvision's .pth or maskdet's .safetensors; 'none': random "
                            "(default: %(default)s)")
    model.add_argument("--trainable-backbone-layers", type=int,
                       help="MobileNetV2 stages trained, from the output (0-6; default: 3 with --weights, all 6 "
                            "without, torchvision's defaults)")
    model.add_argument("--fpn-channels", type=int, default=64, help="pyramid and head width (default %(default)s)")
    model.add_argument("--image-min-side", type=int, default=256,
                       help="shorter side after resizing (default %(default)s)")
    model.add_argument("--image-max-side", type=int, default=384, help="longest side allowed (default %(default)s)")
    train_group = parser.add_argument_group("training")
    train_group.add_argument("--epochs", type=int, help="epochs to train")
    train_group.add_argument("--budget-seconds", type=float, help="training wall-clock budget (validation excluded)")
    train_group.add_argument("--batch-size", type=int, default=8)
    train_group.add_argument("--lr", type=float, default=1e-3)
    train_group.add_argument("--backbone-lr-factor", type=float, default=0.1)
    train_group.add_argument("--weight-decay", type=float, default=1e-4)
    train_group.add_argument("--warmup-steps", type=int, default=60)
    train_group.add_argument("--clip-grad-norm", type=float, default=10.0, help="0: no clipping")
    train_group.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                             help="score a moving average of the weights with this decay, as maskdet's --ema (0: off)")
    train_group.add_argument("--no-augment", dest="augment", action="store_false", help="no random transform")
    train_group.add_argument("--scale-jitter", type=parse_jitter, default=(0.8, 1.2), metavar="MIN,MAX")
    train_group.add_argument("--crop-min-fraction", type=float, default=0.6,
                             help="the crops keep at least this fraction of each side, as maskdet's")
    train_group.add_argument("--zoom-out", type=float, default=0.0, help="zoom-out probability")
    train_group.add_argument("--zoom-out-max", type=float, default=3.0)
    train_group.add_argument("--seed", type=int, default=1)
    train_group.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: %(default)s)")
    train_group.add_argument("--log-every", type=int, default=10, help="steps per loss-log entry")
    train_group.add_argument("--print-seconds", type=float, default=30.0, help="seconds between progress lines")
    out = parser.add_argument_group("output")
    out.add_argument("--timing-batch-size", type=int,
                     help="batch of the second, timing-only inference pass (default: --batch-size; 0: skip)")
    out.add_argument("--flip-test", action="store_true",
                     help="also score maskdet's --flip-test (each image also mirrored, detections merged by NMS)")
    out.add_argument("--evaluate-detections", metavar="JSONL",
                     help="score a `maskdet detect` detections.jsonl on the validation images instead of training")
    out.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.split:
        if args.train_list or args.val_list:
            parser.error("give --split or --train-list/--val-list, not both")
        args.train_list = os.path.join(args.split, "train_images.txt")
        args.val_list = os.path.join(args.split, "val_images.txt")
    if not args.val_list or (not args.train_list and not args.evaluate_detections):
        parser.error("give --split DIR, or --train-list FILE and --val-list FILE")
    if not args.evaluate_detections and args.epochs is None and args.budget_seconds is None:
        parser.error("give --epochs N and/or --budget-seconds S")
    if args.epochs is not None and args.epochs <= 0:
        parser.error("--epochs must be > 0")
    if args.budget_seconds is not None and args.budget_seconds <= 0:
        parser.error("--budget-seconds must be > 0")
    if args.batch_size <= 0 or args.threads <= 0 or args.warmup_steps < 0 or args.log_every <= 0:
        parser.error("--batch-size, --threads and --log-every must be > 0, --warmup-steps >= 0")
    if not 0 <= args.ema < 1:
        parser.error("--ema must be in [0, 1)")
    if not 0 < args.crop_min_fraction <= 1:
        parser.error("--crop-min-fraction must be in (0, 1]")
    if not 32 <= args.image_min_side <= args.image_max_side:
        parser.error("need 32 <= --image-min-side <= --image-max-side")
    if args.trainable_backbone_layers is None:
        args.trainable_backbone_layers = 6 if args.weights == "none" else 3
    if args.timing_batch_size is None:
        args.timing_batch_size = args.batch_size
    return args


def print_table(result, classes):
    def cell(v):
        return "-" if v is None else f"{v:.4f}"

    def row(label, boxes, found, ap50, ap, ap75):
        print(f"{label:<12} {boxes:>6} {found:>6} {ap50:>8} {ap:>9} {ap75:>8}")

    row("class", "boxes", "found", "AP@0.5", "AP@.5:.95", "AP@0.75")
    for name in classes:
        c = result["per_class"][name]
        row(name, c["num_gt"], c["num_det"], cell(c["ap50"]), cell(c["ap"]), cell(c["ap75"]))
    row("mean", "", "", cell(result["map50"]), cell(result["map"]), cell(result["map75"]))
    row("face (any)", "", "", cell(result["agnostic_ap50"]), cell(result["agnostic_ap"]), "")
    print("(AP@0.5: PASCAL VOC all-point; AP@.5:.95 and AP@0.75: COCO; face: classes merged after one NMS)")


def write_json(path, result):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temp = f"{path}.tmp.{os.getpid()}"
    with open(temp, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(temp, path)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    try:
        records, classes = read_voc_folder(args.data)
        val_records = select_records(records, read_image_list(args.val_list), args.val_list, args.data)
        train_records = ([] if args.evaluate_detections else
                         select_records(records, read_image_list(args.train_list), args.train_list, args.data))
        if not val_records or not (train_records or args.evaluate_detections):
            raise DataError(f"{args.val_list if not val_records else args.train_list} names no images")
    except (DataError, OSError) as error:
        raise SystemExit(f"train_torchvision_retinanet: {error}") from None

    if args.evaluate_detections:
        try:
            # Only the ground truth is needed; images are opened for their sizes.
            val_samples = []
            for record in val_records:
                with Image.open(record["path"]) as image:
                    width, height = image.size
                val_samples.append({"path": record["path"], "truth": ground_truth(record, classes, width, height)})
            images = read_detection_lines(args.evaluate_detections, val_samples, classes)
        except (DataError, OSError, ValueError, KeyError) as error:
            raise SystemExit(f"train_torchvision_retinanet: {error}") from None
        result = evaluate(images, classes)
        result.update({"detections": os.path.abspath(args.evaluate_detections), "classes": classes})
        print_table(result, classes)
        if args.out:
            write_json(args.out, result)
            print(f"wrote {args.out}")
        return 0

    jitter_max = args.scale_jitter[1] if args.augment else 1.0
    cache_side = math.ceil(args.image_max_side * max(jitter_max, 1.0))
    start = time.perf_counter()
    try:
        train_samples = prepare_samples(train_records, classes, cache_side)
        val_samples = prepare_samples(val_records, classes, args.image_max_side)
    except DataError as error:
        raise SystemExit(f"train_torchvision_retinanet: {error}") from None
    print(f"decoded {len(train_samples)} training and {len(val_samples)} validation images "
          f"(at most {cache_side} px) in {time.perf_counter() - start:.1f} s; classes: {', '.join(classes)}")

    weights_path = None if args.weights == "none" else args.weights
    if weights_path and not os.path.isfile(weights_path):
        raise SystemExit(f"train_torchvision_retinanet: --weights {weights_path} does not exist "
                         "(scripts/fetch-weights.sh writes the default one)")
    try:
        model, weights = build_model(len(classes), args, weights_path, rng)
    except WeightsError as error:
        raise SystemExit(f"train_torchvision_retinanet: {error}") from None
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loaded = (f"{weights['path']} ({weights['backbone_tensors']} backbone tensors, {weights['frozen_blocks']} frozen)"
              if weights else "none (random)")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {args.threads} threads; "
          f"{trainable} trainable parameters; weights: {loaded}")
    limits = " and ".join(x for x in (f"{args.epochs} epochs" if args.epochs else "",
                                      f"{args.budget_seconds:.0f} s" if args.budget_seconds else "") if x)
    print(f"training on {len(train_samples)} images for {limits}, batch {args.batch_size}", flush=True)

    record, average = train(model, train_samples, args, rng)
    print(f"trained {record['steps']} steps ({record['epochs']:.2f} epochs) in {record['train_seconds']:.1f} s, "
          f"{record['train_images_per_second']:.2f} img/s; final lr {record['final_lr']:.3g}", flush=True)

    variants = {}
    if average is not None:
        # The trained weights first, then the average, which the main figures are of (as maskdet's).
        images, _, _ = detect(model, val_samples, 0)
        variants["trained_weights"] = evaluate(images, classes)
        model.load_state_dict(average.averages)
        print(f"scoring the weights' moving average (--ema {args.ema}, {average.updates} updates)")
    images, times, batched_seconds = detect(model, val_samples, args.timing_batch_size)
    result = evaluate(images, classes)
    if args.flip_test:
        flip_images, flip_times, _ = detect(model, val_samples, 0, flip_test=True)
        variants["flip_test"] = evaluate(flip_images, classes)
        variants["flip_test"]["inference_ms_per_image"] = 1000 * statistics.median(flip_times)
    for name, variant in variants.items():
        result[name] = {key: variant[key] for key in ("map50", "map", "agnostic_ap50", "per_class",
                                                      "inference_ms_per_image") if key in variant}
    result.update(record)
    result.update({
        "inference_ms_per_image": 1000 * statistics.median(times) if times else None,
        "inference_ms_per_image_batched": None if batched_seconds is None else 1000 * batched_seconds,
        "timing_batch_size": args.timing_batch_size,
        "threads": args.threads,
        "classes": classes,
        "num_train_images": len(train_samples),
        "num_val_images": len(val_samples),
        "weights": weights,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "config": {key: (list(value) if isinstance(value, tuple) else value) for key, value in vars(args).items()},
    })
    print_table(result, classes)
    for name in variants:
        per_class = ", ".join(f"{c} {result[name]['per_class'][c]['ap50']:.4f}" for c in classes)
        print(f"{name}: mAP@0.5 {result[name]['map50']:.4f} ({per_class}), mAP@[.5:.95] {result[name]['map']:.4f}")
    print(f"inference: {result['inference_ms_per_image']:.1f} ms/image at batch 1 (median)"
          + (f", {result['inference_ms_per_image_batched']:.1f} ms/image at batch {args.timing_batch_size} (mean)"
             if batched_seconds is not None else ""))
    if args.out:
        write_json(args.out, result)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
