"""maskdet against torchvision's RetinaNet, side by side (issue 11, deliverable 4): reads a maskdet
run folder (scripts/run-main.sh's OUT), trains tools/train_torchvision_retinanet.py on the run's
own split, with its threads and for the training wall time maskdet took, and prints one table.
scripts/compare-torchvision.sh runs it from the repository root; the usage is there.

From the run folder:
  - snapshots/train_images.txt, val_images.txt: the split, passed as --split;
  - snapshots/epochs.jsonl: each epoch's training seconds (validation excluded) and images/s;
    their sum is the reference's --budget-seconds (or give --budget-seconds);
  - the newest snapshots/epoch_*.safetensors: the settings maskdet trained with (its "config"
    metadata): sizes, batch, lr, backbone lr factor, weight decay, warm-up, clipping, seed,
    augmentation; anything the reference cannot mirror is reported before it starts;
  - evaluation/results.json (`maskdet evaluate`): maskdet's AP figures and seconds_per_image.
maskdet's class-agnostic AP is not in results.json: when the maskdet binary is there, its
detections on the validation images (`maskdet detect --threshold 0.05`, the evaluation's score
floor) are scored by the reference's evaluator, which also shows that evaluator agreeing with
maskdet's own figures.
"""
import argparse
import glob
import json
import os
import shlex
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "tools", "train_torchvision_retinanet.py")
TORCH_PYTHON = "/usr/bin/python3"
# maskdet settings the reference mirrors flag for flag (maskdet name -> the reference's flag).
MIRRORED = {"image-min-side": "--image-min-side", "image-max-side": "--image-max-side", "batch-size": "--batch-size",
            "lr": "--lr", "backbone-lr-factor": "--backbone-lr-factor", "weight-decay": "--weight-decay",
            "warmup-steps": "--warmup-steps", "clip-grad-norm": "--clip-grad-norm", "seed": "--seed",
            "scale-jitter": "--scale-jitter", "zoom-out": "--zoom-out", "zoom-out-max": "--zoom-out-max",
            "fpn-channels": "--fpn-channels", "ema": "--ema", "crop-min-fraction": "--crop-min-fraction"}
INTEGER_FLAGS = {"image-min-side", "image-max-side", "batch-size", "warmup-steps", "seed", "fpn-channels"}
# What the reference builds, as maskdet's settings would say it; another value is a difference.
REFERENCE_MODEL = {"backbone": "mobilenet_v2", "optimizer": "adamw", "lr-schedule": "cosine", "head-depth": "4",
                   "head-group-norm": "true", "anchor-sizes": "32,64,128,256,512", "inference-min-side": "0",
                   "inference-max-side": "0"}
QUICK_SIZES, FULL_SIZES = (256, 384), (320, 480)


class RunError(Exception):
    pass


def snapshot_config(snapshots):
    """The settings the newest epoch snapshot records ({} when there is none)."""
    paths = sorted(glob.glob(os.path.join(snapshots, "epoch_*.safetensors")))
    if not paths:
        return {}, None
    with open(paths[-1], "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    metadata = header.get("__metadata__", {})
    return json.loads(metadata.get("config", "{}")), paths[-1]


def read_epochs(path):
    """maskdet's epoch log, one record per epoch (the last line of an epoch wins: a resumed run
    rewrites it)."""
    epochs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                epochs[record["epoch"]] = record
    return [epochs[k] for k in sorted(epochs)]


def read_maskdet_run(run):
    snapshots = os.path.join(run, "snapshots")
    for name in ("train_images.txt", "val_images.txt"):
        if not os.path.isfile(os.path.join(snapshots, name)):
            raise RunError(f"{run} is not a maskdet run folder: {snapshots}/{name} is missing "
                           "(scripts/run-main.sh writes one; maskdet train writes the lists)")
    config, snapshot = snapshot_config(snapshots)
    info = {"run": run, "snapshots": snapshots, "config": config, "snapshot": snapshot, "epochs": [],
            "results": None}
    epochs_path = os.path.join(snapshots, "epochs.jsonl")
    if os.path.isfile(epochs_path):
        info["epochs"] = read_epochs(epochs_path)
    results_path = os.path.join(run, "evaluation", "results.json")
    if os.path.isfile(results_path):
        with open(results_path) as f:
            info["results"] = json.load(f)
    timed = [e for e in info["epochs"] if isinstance(e.get("seconds"), (int, float))]
    if timed:
        seconds = sum(e["seconds"] for e in timed)
        images = sum(e["seconds"] * e.get("images_per_second", 0) for e in timed)
        info.update({"train_seconds": seconds, "train_images_per_second": images / seconds if seconds else None,
                     "steps": timed[-1].get("step"), "num_epochs": len(timed)})
    return info


def as_number(text, integer):
    value = float(text)
    return str(int(round(value))) if integer else repr(value)


def reference_flags(config, full):
    """The reference's flags for maskdet's settings, and the differences it cannot remove."""
    flags, differences = [], []
    if not config:
        sizes = FULL_SIZES if full else QUICK_SIZES
        flags += ["--image-min-side", str(sizes[0]), "--image-max-side", str(sizes[1])]
        if full:
            flags += ["--warmup-steps", "100", "--zoom-out", "0.2"]
        differences.append("no snapshot with settings: scripts/run-main.sh's " + ("full" if full else "quick")
                           + " configuration assumed")
        return flags, differences
    for name, flag in MIRRORED.items():
        if name in config:
            value = config[name] if name == "scale-jitter" else as_number(config[name], name in INTEGER_FLAGS)
            flags += [flag, value]
    if config.get("random-transform", "false") != "true":
        flags.append("--no-augment")
    layers = int(config.get("trainable-backbone-layers", "-1"))
    if config.get("freeze-backbone") == "true":
        layers = 0
    flags += ["--trainable-backbone-layers", str(3 if layers < 0 else layers)]
    weights = config.get("weights", "auto")
    if weights not in ("auto", "imagenet"):
        if weights == "none":
            differences.append("maskdet trained from random weights (--weights none); the reference loads ImageNet's")
        else:
            flags += ["--weights", weights]
    for name, want in REFERENCE_MODEL.items():
        if name in config and config[name] != want:
            differences.append(f"maskdet ran with --{name} {config[name]}; the reference has {want}")
    if config.get("norm", "auto") == "batch":
        differences.append("maskdet trained its backbone's batch norm (--norm batch); the reference freezes it")
    if config.get("random-transform") == "true":
        differences.append("the reference's augmentation leaves out maskdet's small rotation and translation")
    return flags, differences


def maskdet_column(info, rescored):
    results = info["results"] or {}
    per_class = results.get("per_class", {})
    seconds_per_image = results.get("seconds_per_image")
    return {"ap50": {name: c.get("ap50") for name, c in per_class.items()},
            "map50": results.get("map50"), "map": results.get("map"),
            "agnostic_ap50": rescored.get("agnostic_ap50") if rescored else None,
            "train_seconds": info.get("train_seconds"), "steps": info.get("steps"),
            "epochs": info.get("num_epochs"), "train_images_per_second": info.get("train_images_per_second"),
            "ms_batched": None if seconds_per_image is None else 1000 * seconds_per_image, "ms_batch1": None}


def torchvision_column(result):
    return {"ap50": {name: c["ap50"] for name, c in result["per_class"].items()},
            "map50": result["map50"], "map": result["map"], "agnostic_ap50": result["agnostic_ap50"],
            "train_seconds": result["train_seconds"], "steps": result["steps"], "epochs": result["epochs"],
            "train_images_per_second": result["train_images_per_second"],
            "ms_batched": result.get("inference_ms_per_image_batched"), "ms_batch1": result["inference_ms_per_image"]}


def table_rows(maskdet, torchvision, classes, batch):
    """(label, maskdet text, torchvision text) rows of the comparison."""
    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    rows = [(f"AP@0.5 {name}", fmt(maskdet["ap50"].get(name), ".4f"), fmt(torchvision["ap50"].get(name), ".4f"))
            for name in classes]
    for label, key, spec in (("mAP@0.5", "map50", ".4f"), ("mAP@[.5:.95]", "map", ".4f"),
                             ("face AP@0.5 (class-agnostic)", "agnostic_ap50", ".4f"),
                             ("training seconds", "train_seconds", ".0f"), ("steps", "steps", "d"),
                             ("epochs", "epochs", ".2f"), ("training images/s", "train_images_per_second", ".2f"),
                             (f"inference ms/image, batch {batch} (mean)", "ms_batched", ".1f"),
                             ("inference ms/image, batch 1 (median)", "ms_batch1", ".1f")):
        rows.append((label, fmt(maskdet[key], spec), fmt(torchvision[key], spec)))
    return rows


VARIANTS = {"trained_weights": "the trained weights, not their average (--ema runs)",
            "flip_test": "with the test-time flip (--flip-test)"}


def variant_rows(maskdet_variants, reference, classes):
    """Rows for the variants both sides scored (or either): mAP@0.5, per class, mAP@[.5:.95]."""
    def fmt(result, key, name=None):
        if not result:
            return "-"
        value = result["per_class"].get(name, {}).get("ap50") if name else result.get(key)
        return "-" if value is None else format(value, ".4f")

    rows = []
    for variant, label in VARIANTS.items():
        left, right = maskdet_variants.get(variant), reference.get(variant)
        if not left and not right:
            continue
        rows.append((f"{label}:", "", ""))
        rows += [(f"  AP@0.5 {name}", fmt(left, None, name), fmt(right, None, name)) for name in classes]
        rows.append(("  mAP@0.5", fmt(left, "map50"), fmt(right, "map50")))
        rows.append(("  mAP@[.5:.95]", fmt(left, "map"), fmt(right, "map")))
    return rows


def print_table(rows):
    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  {'maskdet':>10}  {'torchvision':>11}")
    for label, left, right in rows:
        print(f"{label:<{width}}  {left:>10}  {right:>11}")


def run_command(command):
    print("+ " + " ".join(shlex.quote(c) for c in command), flush=True)
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RunError(f"{command[0]} {os.path.basename(command[1])} failed (exit status {result.returncode})")


def rescore_maskdet(maskdet, info, data, out, python):
    """maskdet's validation detections scored by the reference's evaluator, or None when the binary
    is not there."""
    if not maskdet or not os.path.isfile(maskdet):
        print(f"no maskdet binary at {maskdet}: maskdet's class-agnostic AP is left out")
        return None
    with open(os.path.join(info["snapshots"], "val_images.txt")) as f:
        images = [line.strip() for line in f if line.strip()]
    detect_out = os.path.join(out, "maskdet_detections")
    # The first pass only, as the reference detects: no small-face pass.
    run_command([maskdet, "detect", "--snapshot", info["snapshots"], "--threshold", "0.05", "--min-face", "0",
                 "--out", detect_out] + images)
    rescored_path = os.path.join(out, "maskdet_rescored.json")
    run_command([python, REFERENCE, "--data", data, "--split", info["snapshots"], "--evaluate-detections",
                 os.path.join(detect_out, "detections.jsonl"), "--out", rescored_path])
    with open(rescored_path) as f:
        return json.load(f)


def maskdet_variants(maskdet, info, data, out, flip_test):
    """`maskdet evaluate` of the run's snapshot on its validation split with the trained weights
    (when the run kept an average) and with --flip-test (when asked): {variant: results.json}."""
    config, variants = info["config"], {}
    wanted = []
    if float(config.get("ema", "0") or 0) > 0:
        wanted.append(("trained_weights", "--trained-weights"))
    if flip_test:
        wanted.append(("flip_test", "--flip-test"))
    if not wanted:
        return variants
    if not maskdet or not os.path.isfile(maskdet):
        print(f"no maskdet binary at {maskdet}: maskdet's {', '.join(w[0] for w in wanted)} figures are left out")
        return variants
    for name, flag in wanted:
        folder = os.path.join(out, f"maskdet_{name}")
        command = [maskdet, "evaluate", "--snapshot", info["snapshots"], "--data", data, "--val-fraction",
                   config.get("val-fraction", "0.2"), "--min-face", "0", "--out", folder, flag]
        if config.get("cache"):
            command += ["--cache", config["cache"]]
        run_command(command)
        with open(os.path.join(folder, "results.json")) as f:
            variants[name] = json.load(f)
    return variants


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Flags after -- go to tools/train_torchvision_retinanet.py as they are.")
    parser.add_argument("run", nargs="?", default="runs/main", help="maskdet run folder (default: %(default)s)")
    parser.add_argument("--full", action="store_true",
                        help="320/480 px and the full schedule when the run records no settings")
    parser.add_argument("--budget-seconds", type=float, help="instead of maskdet's training time from epochs.jsonl")
    parser.add_argument("--threads", type=int, help="torch threads (default: $OMP_NUM_THREADS, else every core, "
                                                    "as maskdet's OpenMP)")
    parser.add_argument("--data", help="the VOC folder (default: the one the snapshot records)")
    parser.add_argument("--maskdet", default=os.path.join(ROOT, "build", "apps", "maskdet"),
                        help="maskdet binary, to score its detections class-agnostically (default: %(default)s)")
    parser.add_argument("--no-maskdet-detect", action="store_true",
                        help="do not run maskdet detect or evaluate (maskdet's class-agnostic and variant figures)")
    parser.add_argument("--flip-test", action="store_true",
                        help="also score both with the test-time flip (maskdet evaluate --flip-test, the "
                             "reference's --flip-test)")
    parser.add_argument("--out", help="folder for the results (default: RUN/torchvision)")
    parser.add_argument("--python", default=TORCH_PYTHON, help="interpreter with torch (default: %(default)s)")
    argv = list(sys.argv[1:] if argv is None else argv)
    # After "--": flags for the reference itself, which argparse would take for this script's.
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    try:
        info = read_maskdet_run(args.run)
        budget = args.budget_seconds if args.budget_seconds is not None else info.get("train_seconds")
        if budget is None:
            raise RunError(f"{info['snapshots']}/epochs.jsonl records no training seconds: give --budget-seconds")
        data = args.data or info["config"].get("data")
        if not data:
            raise RunError("the run records no data folder: give --data")
        threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or os.cpu_count()
        flags, differences = reference_flags(info["config"], args.full)
        out = args.out or os.path.join(args.run, "torchvision")
        os.makedirs(out, exist_ok=True)
        print(f"maskdet run {args.run}: {info.get('num_epochs', 0)} epochs, {budget:.1f} s of training"
              + (f" (snapshot {os.path.basename(info['snapshot'])})" if info["snapshot"] else ""))
        for difference in differences:
            print(f"note: {difference}")
        if info["results"] is None:
            print(f"note: {args.run}/evaluation/results.json is missing: maskdet's AP column stays empty")
        reference_out = os.path.join(out, "results.json")
        run_command([args.python, REFERENCE, "--data", data, "--split", info["snapshots"], "--budget-seconds",
                     repr(budget), "--threads", str(threads)] + flags + ["--out", reference_out]
                    + (["--flip-test"] if args.flip_test else []) + extra)
        with open(reference_out) as f:
            reference = json.load(f)
        rescored = None if args.no_maskdet_detect else rescore_maskdet(args.maskdet, info, data, out, args.python)
        variants = ({} if args.no_maskdet_detect else
                    maskdet_variants(args.maskdet, info, data, out, args.flip_test))
    except (RunError, OSError, ValueError) as error:
        print(f"compare-torchvision: {error}", file=sys.stderr)
        return 1

    classes = reference["classes"]
    left, right = maskdet_column(info, rescored), torchvision_column(reference)
    batch = reference.get("timing_batch_size")
    rows = table_rows(left, right, classes, batch) + variant_rows(variants, reference, classes)
    print()
    print(f"maskdet vs torchvision {reference['torchvision']} RetinaNet (MobileNetV2), {threads} threads, "
          f"{reference['num_train_images']} training / {reference['num_val_images']} validation images")
    print_table(rows)
    print("(AP@0.5: PASCAL VOC all-point; mAP@[.5:.95]: COCO; face: both classes as one after one NMS at 0.5; "
          "maskdet's ms/image is results.json's seconds_per_image)")
    if rescored:
        print(f"maskdet's detections scored by the reference's evaluator: mAP@0.5 {rescored['map50']:.4f}, "
              f"mAP@[.5:.95] {rescored['map']:.4f} (results.json: "
              + ", ".join("-" if left[k] is None else f"{left[k]:.4f}" for k in ("map50", "map"))
              + "; detect runs one image at a time, evaluate in batches)")
    comparison = {"maskdet": left, "torchvision": right, "threads": threads, "budget_seconds": budget,
                  "variants": {name: {"maskdet": variants.get(name, {}).get("map50"),
                                      "torchvision": reference.get(name, {}).get("map50")}
                               for name in VARIANTS if name in variants or name in reference},
                  "differences": differences, "run": args.run, "reference_results": reference_out}
    with open(os.path.join(out, "comparison.json"), "w") as f:
        json.dump(comparison, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.join(out, 'comparison.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
