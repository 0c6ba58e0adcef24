#!/usr/bin/env python3
"""Reference numbers for maskdet's detection evaluator (apps/eval/), written to
tests/eval/data/eval_case.json for tests/eval/reference_fixture_test.cpp.

The case is random but fixed by a seed: 30 images of two classes (mask, noMask) with integer
ground-truth boxes, some of them difficult, some overlapping; noisy detections of most of them,
a few with the wrong class, duplicates, stray boxes, and boxes shifted so that their IoU passes
0.5 under one pixel convention and not the other; scores rounded to two decimals so that
ties occur; one image with more than 100 detections of a class (COCO keeps the best 100).

  - COCO AP@[.5:.95], AP50, AP75 and AR@100, overall and per class, and AP and AR@100 of the
    small, medium and large boxes, come from pycocotools' COCOeval (iouType "bbox"), with one
    addition: a difficult ground truth is given COCOeval's "ignore"
    flag (the treatment it gives a box outside the area range), since COCO has no such flag.
  - PASCAL VOC AP at IoU 0.5 (all-point, VOC2010+) comes from voc_ap() below, a plain Python
    port of the devkit's rules (VOCevaldet.m and VOCap.m), for both pixel conventions: the
    devkit's inclusive one (width x2 - x1 + 1) and the continuous one (x2 - x1). With it, the
    counts of true and false positives among the detections scoring at least 0.5.

Run with a python3 that has pycocotools and numpy:
    python3 -m pip install pycocotools numpy
    python3 tools/make_eval_fixtures.py
Seeded and written in a fixed order, so two runs give identical bytes.

Floats are written as Python's json writes them (repr, which reads back to the same double).
Layout:
  classes:  the class names, indexed by the class ids below
  images:   per image {"ground_truth": [[x1, y1, x2, y2, class, difficult], ...],
                       "detections": [[x1, y1, x2, y2, class, score], ...]}
  expected: {"coco": {map, map50, map75, mar, by_size: {small|medium|large: {ap, ar}},
                      per_class: {name: {ap, ap50, ap75, ar,
                                         by_size: {small|medium|large: {num_gt, ap, ar}}}}},
             (a figure COCOeval leaves at -1, without ground truth, is null)
             "voc": {"inclusive" | "continuous": {map50, per_class: {name: {ap50, num_gt,
                     num_difficult, num_det, true_positives, false_positives}}}},
             "score_threshold"}
"""
import contextlib
import io
import json
import os
import random

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SEED = 20240611
CLASSES = ["mask", "noMask"]
NUM_IMAGES = 30
IMAGE_W, IMAGE_H = 640, 480
CROWDED_IMAGE = 7  # gets 110 extra low-scoring detections of class 0
SCORE_THRESHOLD = 0.5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "eval", "data", "eval_case.json")


def jittered(box, rng, sigma):
    """The box with each corner moved by Gaussian noise proportional to its size."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    nx1 = round(x1 + rng.gauss(0, sigma * w), 2)
    ny1 = round(y1 + rng.gauss(0, sigma * h), 2)
    nx2 = round(max(nx1 + 2, x2 + rng.gauss(0, sigma * w)), 2)
    ny2 = round(max(ny1 + 2, y2 + rng.gauss(0, sigma * h)), 2)
    return [nx1, ny1, nx2, ny2]


def make_case():
    rng = random.Random(SEED)
    images = []
    for index in range(NUM_IMAGES):
        gts = []
        for _ in range(rng.randint(0, 5)):
            w, h = rng.randint(4, 120), rng.randint(4, 140)
            x1, y1 = rng.randint(0, IMAGE_W - w - 1), rng.randint(0, IMAGE_H - h - 1)
            cls = 0 if rng.random() < 0.65 else 1
            gts.append([x1, y1, x1 + w, y1 + h, cls, 1 if rng.random() < 0.1 else 0])
            if rng.random() < 0.15:  # a neighbour overlapping it, to contest matches
                dx, dy = int(0.3 * w), int(0.2 * h)
                gts.append([x1 + dx, y1 + dy, x1 + dx + w, y1 + dy + h, cls, 0])
        dets = []
        for g in gts:
            if rng.random() < 0.85:
                cls = g[4] if rng.random() > 0.08 else 1 - g[4]
                sigma = rng.choice([0.02, 0.05, 0.1, 0.2])
                dets.append(jittered(g[:4], rng, sigma) + [cls, round(rng.uniform(0.3, 1.0), 2)])
            if rng.random() < 0.1:  # shifted to IoU 0.5 under the inclusive convention, below it otherwise
                x1, y1, x2, y2 = g[:4]
                shift = round((x2 - x1 + 0.5) / 3, 2)
                dets.append([x1 + shift, y1, x2 + shift, y2, g[4], round(rng.uniform(0.3, 1.0), 2)])
            if rng.random() < 0.15:  # a duplicate
                dets.append(jittered(g[:4], rng, 0.05) + [g[4], round(rng.uniform(0.1, 0.9), 2)])
        for _ in range(rng.randint(0, 3)):  # stray boxes
            w, h = rng.randint(10, 100), rng.randint(10, 100)
            x1, y1 = rng.uniform(0, IMAGE_W - w), rng.uniform(0, IMAGE_H - h)
            box = [round(x1, 2), round(y1, 2), round(x1 + w, 2), round(y1 + h, 2)]
            dets.append(box + [rng.randint(0, 1), round(rng.uniform(0.0, 0.8), 2)])
        if index == CROWDED_IMAGE:
            for _ in range(110):
                x1, y1 = rng.uniform(0, IMAGE_W - 40), rng.uniform(0, IMAGE_H - 40)
                box = [round(x1, 2), round(y1, 2), round(x1 + rng.uniform(8, 40), 2), round(y1 + rng.uniform(8, 40), 2)]
                dets.append(box + [0, round(rng.uniform(0.0, 0.3), 2)])
        images.append({"ground_truth": gts, "detections": dets})
    return images


def coco_metrics(images):
    """pycocotools' COCOeval on the case, difficult ground truth flagged "ignore"."""
    gt_anns, dt_anns = [], []
    for image_id, image in enumerate(images, start=1):
        for x1, y1, x2, y2, cls, difficult in image["ground_truth"]:
            w, h = x2 - x1, y2 - y1
            gt_anns.append({"id": len(gt_anns) + 1, "image_id": image_id, "category_id": cls + 1,
                            "bbox": [x1, y1, w, h], "area": w * h, "iscrowd": 0, "difficult": difficult})
        for x1, y1, x2, y2, cls, score in image["detections"]:
            dt_anns.append({"image_id": image_id, "category_id": cls + 1, "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": score})
    dataset = {"images": [{"id": i, "width": IMAGE_W, "height": IMAGE_H} for i in range(1, len(images) + 1)],
               "categories": [{"id": k + 1, "name": name} for k, name in enumerate(CLASSES)],
               "annotations": gt_anns}

    class COCOevalWithDifficult(COCOeval):
        def _prepare(self):
            super()._prepare()
            for gts in self._gts.values():
                for g in gts:
                    g["ignore"] = bool(g["ignore"]) or bool(g["difficult"])

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools reports progress on stdout
        coco_gt = COCO()
        coco_gt.dataset = dataset
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(dt_anns)
        evaluator = COCOevalWithDifficult(coco_gt, coco_dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats
    precision = evaluator.eval["precision"]  # [IoU, recall, class, area, maxDets]
    recall = evaluator.eval["recall"]  # [IoU, class, area, maxDets]
    iou_thresholds = evaluator.params.iouThrs
    area_labels = evaluator.params.areaRngLbl
    area_all = area_labels.index("all")
    max_dets_100 = evaluator.params.maxDets.index(100)

    def defined(table):
        """COCOeval's mean of a table, -1 (no ground truth) as None."""
        return None if np.all(table == -1) else float(np.mean(table[table > -1]))

    per_class = {}
    for k, name in enumerate(CLASSES):
        table = precision[:, :, k, area_all, max_dets_100]
        at = lambda t: table[np.where(iou_thresholds == t)[0][0]]
        by_size = {}
        for size in ("small", "medium", "large"):
            a = area_labels.index(size)
            low, high = evaluator.params.areaRng[a]
            num_gt = sum(1 for g in gt_anns if g["category_id"] == k + 1 and not g["difficult"]
                         and low <= g["area"] <= high)
            by_size[size] = {"num_gt": num_gt, "ap": defined(precision[:, :, k, a, max_dets_100]),
                             "ar": defined(recall[:, k, a, max_dets_100])}
        per_class[name] = {"ap": float(np.mean(table)), "ap50": float(np.mean(at(0.5))),
                           "ap75": float(np.mean(at(0.75))), "ar": defined(recall[:, k, area_all, max_dets_100]),
                           "by_size": by_size}
    # stats: AP, AP50, AP75, AP small/medium/large, AR@1, AR@10, AR@100, AR@100 small/medium/large
    by_size = {size: {"ap": None if stats[3 + i] == -1 else float(stats[3 + i]),
                      "ar": None if stats[9 + i] == -1 else float(stats[9 + i])}
               for i, size in enumerate(("small", "medium", "large"))}
    return {"map": float(stats[0]), "map50": float(stats[1]), "map75": float(stats[2]), "mar": float(stats[8]),
            "by_size": by_size, "per_class": per_class}


def voc_iou(a, b, one_pixel):
    """The devkit's overlap, or None where the boxes do not intersect."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + one_pixel
    ih = min(a[3], b[3]) - max(a[1], b[1]) + one_pixel
    if iw <= 0 or ih <= 0:
        return None
    area_a = (a[2] - a[0] + one_pixel) * (a[3] - a[1] + one_pixel)
    area_b = (b[2] - b[0] + one_pixel) * (b[3] - b[1] + one_pixel)
    return iw * ih / (area_a + area_b - iw * ih)


def voc_ap(images, cls, one_pixel, threshold=0.5):
    """The devkit's rules for one class: rank every detection by score (stable), give it the
    ground truth it overlaps most, judge it, then take the area under the precision envelope."""
    truths = [[g for g in image["ground_truth"] if g[4] == cls] for image in images]
    taken = [[False] * len(t) for t in truths]
    num_positives = sum(1 for t in truths for g in t if not g[5])
    num_difficult = sum(1 for t in truths for g in t if g[5])
    candidates = [(d[5], i, d) for i, image in enumerate(images) for d in image["detections"] if d[4] == cls]
    candidates.sort(key=lambda c: -c[0])  # Python's sort is stable, as MATLAB's
    tp, fp = [], []
    counts_at_threshold = [0, 0]
    for score, i, d in candidates:
        best, best_j = float("-inf"), None
        for j, g in enumerate(truths[i]):
            overlap = voc_iou(d, g, one_pixel)
            if overlap is not None and overlap > best:
                best, best_j = overlap, j
        is_tp = is_fp = 0
        if best >= threshold:
            if not truths[i][best_j][5]:
                if not taken[i][best_j]:
                    is_tp = 1
                    taken[i][best_j] = True
                else:
                    is_fp = 1
        else:
            is_fp = 1
        tp.append(is_tp)
        fp.append(is_fp)
        if score >= SCORE_THRESHOLD:
            counts_at_threshold[0] += is_tp
            counts_at_threshold[1] += is_fp
    tp_sum, fp_sum, recall, precision = 0, 0, [], []
    for t, f in zip(tp, fp):
        tp_sum += t
        fp_sum += f
        recall.append(tp_sum / num_positives)
        precision.append(tp_sum / (tp_sum + fp_sum) if tp_sum + fp_sum else float("nan"))
    mrec = [0.0] + recall + [1.0]
    mpre = [0.0] + precision + [0.0]
    for k in range(len(mpre) - 2, -1, -1):  # MATLAB's max skips NaN
        mpre[k] = mpre[k + 1] if mpre[k] != mpre[k] else max(mpre[k], mpre[k + 1])
    ap = sum((mrec[k] - mrec[k - 1]) * mpre[k] for k in range(1, len(mrec)) if mrec[k] != mrec[k - 1])
    return {"ap50": ap, "num_gt": num_positives, "num_difficult": num_difficult, "num_det": len(candidates),
            "true_positives": counts_at_threshold[0], "false_positives": counts_at_threshold[1]}


def voc_metrics(images, one_pixel):
    per_class = {name: voc_ap(images, k, one_pixel) for k, name in enumerate(CLASSES)}
    return {"map50": sum(c["ap50"] for c in per_class.values()) / len(per_class), "per_class": per_class}


def dumps(value, depth=0):
    """JSON with one box per line: containers indented, lists of plain values kept on a line."""
    pad = " " * depth
    if isinstance(value, dict) and value:
        items = [f'{pad} {json.dumps(k)}: {dumps(v, depth + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{pad} {dumps(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value)


def main():
    images = make_case()
    # Coordinates as floats throughout, so that each reads back as a double.
    for image in images:
        for key in ("ground_truth", "detections"):
            image[key] = [[float(v) for v in row[:4]] + row[4:] for row in image[key]]
    expected = {"coco": coco_metrics(images),
                "voc": {"inclusive": voc_metrics(images, 1.0), "continuous": voc_metrics(images, 0.0)},
                "score_threshold": SCORE_THRESHOLD}
    case = {"classes": CLASSES, "images": images, "expected": expected}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(dumps(case) + "\n")
    coco, voc = expected["coco"], expected["voc"]["inclusive"]
    print(f"wrote {os.path.normpath(OUT)}: COCO AP {coco['map']:.4f} AP50 {coco['map50']:.4f} "
          f"AP75 {coco['map75']:.4f}, VOC mAP@0.5 {voc['map50']:.4f}")


if __name__ == "__main__":
    main()
