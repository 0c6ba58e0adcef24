#!/usr/bin/python3
"""The PyTorch side of `maskdet bench`: torchvision's RetinaNet timed the way maskdet times its own.

Same configuration (ResNet-18/34/50/101 with batch norm trained from scratch, an FPN P3-P7 of
--fpn-channels with P6 from P5, torchvision's default anchors, --classes sigmoid outputs, the
input exactly --size, padded to a multiple of 32), same synthetic input (random images, --boxes
random ground-truth boxes per training image), same measurements:

  training:  full steps (forward, focal and L1 box losses with anchor matching, backward,
             gradient clipping to norm 10, AdamW or SGD with maskdet train's defaults: lr 0.001,
             weight decay 0.0001, momentum 0.9), the losses read on the host as maskdet does;
             step time p50 / p95 and images/s from the median step;
  inference: model.eval() on a list of images under no_grad, post-processing included and the
             detections copied to the host (maskdet's detect() returns host vectors); latency
             p50 / p95 at batch 1 and throughput at --infer-batch-size;
  memory:    torch.cuda.max_memory_allocated per phase, torch.cuda.memory_reserved at the end.

Each repeat is timed with time.perf_counter() after torch.cuda.synchronize(), after --warmup
untimed ones; quantiles interpolate linearly (numpy's default), as maskdet's do. The FLOPs line
counts the convolutions of one forward with forward hooks (2 per multiply-add), as maskdet's
bench_flops.cpp counts them from the layer shapes: the two should agree.

torchvision's model also runs its GeneralizedRCNNTransform (normalisation, a resize at scale 1,
batching), which maskdet's data pipeline does before the timed step; at the sizes benchmarked
it is a small fraction of a step.

    maskdet bench --backbone resnet18 --size 256x256 --batch-size 2 --json maskdet.json
    /usr/bin/python3 tools/bench_torchvision.py --maskdet-json maskdet.json

With --maskdet-json, every setting not given here is taken from maskdet's JSON, and the table
gets a maskdet column and the ratio maskdet / torch of each figure (times: below 1 means maskdet
is faster; images/s: above 1 means maskdet is faster). Runs with Debian's python3-torch 1.13
(CPU) and torchvision 0.14, and with newer PyTorch on a GPU machine.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

# (key, label); the keys and labels of apps/maskdet/bench_command.cpp: keep the two in step.
# {b}: training batch, {n}: inference batch.
FIGURES = [
    ("train_step_ms_p50", "train step, batch {b} (ms, p50)"),
    ("train_step_ms_p95", "train step, batch {b} (ms, p95)"),
    ("train_images_per_s", "train throughput (images/s)"),
    ("infer_b1_ms_p50", "inference, batch 1 (ms, p50)"),
    ("infer_b1_ms_p95", "inference, batch 1 (ms, p95)"),
    ("infer_batch_ms_p50", "inference, batch {n} (ms, p50)"),
    ("infer_images_per_s", "inference throughput, batch {n} (images/s)"),
    ("train_peak_mib", "peak device memory, training (MiB)"),
    ("infer_peak_mib", "peak device memory, inference (MiB)"),
    ("reserved_mib", "device memory reserved at the end (MiB)"),
]
MEMORY_KEYS = {"train_peak_mib", "infer_peak_mib", "reserved_mib"}

# The settings' defaults, maskdet bench's: a setting not given is taken from --maskdet-json, else from here.
DEFAULTS = {
    "backbone": "resnet50", "fpn_channels": 256, "size": "512x512", "classes": 2, "batch_size": 8,
    "infer_batch_size": 8, "boxes": 4, "warmup": 3, "iters": 10, "device": "cpu", "mode": "both",
    "optimizer": "adamw", "score_threshold": 0.05, "seed": 1,
}
# maskdet train's optimiser defaults (apps/maskdet/train_settings.h).
LR, MOMENTUM, WEIGHT_DECAY, CLIP_GRAD_NORM = 1e-3, 0.9, 1e-4, 10.0


def parse_size(text):
    parts = text.split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"wants HEIGHTxWIDTH in pixels, e.g. 512x512 or 800x1333, got '{text}'")
    height, width = int(parts[0]), int(parts[1])
    if not (32 <= height <= 16384 and 32 <= width <= 16384):
        raise argparse.ArgumentTypeError(f"wants sides from 32 to 16384 pixels, got '{text}'")
    return height, width


def quantile(values, q):
    """Linear interpolation between order statistics (numpy's default), as maskdet computes it."""
    v = sorted(values)
    position = q * (len(v) - 1)
    below = math.floor(position)
    above = min(below + 1, len(v) - 1)
    return v[below] + (position - below) * (v[above] - v[below])


def round_up_32(v):
    return (v + 31) // 32 * 32


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="defaults: " + ", ".join(f"--{k.replace('_', '-')} {v}"
                                                                     for k, v in DEFAULTS.items()))
    parser.add_argument("--backbone", choices=["resnet18", "resnet34", "resnet50", "resnet101"])
    parser.add_argument("--fpn-channels", type=int, metavar="N")
    parser.add_argument("--size", type=str, metavar="HxW", help="HxW, e.g. 512x512 or 800x1333")
    parser.add_argument("--classes", type=int, metavar="N")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per training step")
    parser.add_argument("--infer-batch-size", type=int, metavar="N", help="images per inference call for the throughput figure")
    parser.add_argument("--boxes", type=int, metavar="N", help="random ground-truth boxes per training image")
    parser.add_argument("--warmup", type=int, metavar="N")
    parser.add_argument("--iters", type=int, metavar="N")
    parser.add_argument("--device", metavar="cpu|cuda", help="cpu, cuda or cuda:N")
    parser.add_argument("--mode", choices=["train", "infer", "both"])
    parser.add_argument("--optimizer", choices=["adamw", "sgd"])
    parser.add_argument("--score-threshold", type=float, metavar="X")
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"],
                        help="fp32 / tf32: float32 with TF32 tensor cores off / on (CUDA); bf16 / fp16: autocast "
                             "(fp16 with a GradScaler). Default: maskdet's (tf32 on CUDA, fp32 on the CPU)")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: maskdet's, else every core)")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    parser.add_argument("--maskdet-json", metavar="FILE", help="maskdet bench's JSON: its settings fill the ones not given, "
                                               "and the table shows the ratio maskdet / torch")
    args = parser.parse_args()

    maskdet = None
    if args.maskdet_json:
        try:
            with open(args.maskdet_json) as f:
                maskdet = json.load(f)
        except (OSError, ValueError) as error:
            parser.error(f"--maskdet-json {args.maskdet_json}: {error}")
        config = maskdet.get("config", {})
        for name in DEFAULTS:
            if name == "size":
                if args.size is None and "height" in config:
                    args.size = f"{config['height']}x{config['width']}"
            elif getattr(args, name) is None and name in config:
                setattr(args, name, config[name])
        if args.precision is None and "precision" in config:
            args.precision = config["precision"]
        if args.threads is None and "threads" in config:
            args.threads = config["threads"]
    for name, default in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    try:
        args.height, args.width = parse_size(args.size)
    except argparse.ArgumentTypeError as error:
        parser.error(f"--size {error}")
    for name, low in [("fpn_channels", 1), ("classes", 1), ("batch_size", 1), ("infer_batch_size", 1),
                      ("boxes", 0), ("warmup", 0), ("iters", 1)]:
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(args, name)}")
    if not 0 <= args.score_threshold <= 1:
        parser.error(f"--score-threshold must be in [0, 1], got {args.score_threshold}")
    if not (args.device == "cpu" or args.device == "cuda" or args.device.startswith("cuda:")):
        parser.error(f"--device wants cpu, cuda or cuda:N, got '{args.device}'")
    if args.precision is None:
        args.precision = "fp32" if args.device == "cpu" else "tf32"
    if args.device == "cpu" and args.precision == "fp16":
        parser.error("--precision fp16 needs CUDA (CPU autocast is bfloat16 only): use bf16 or fp32")
    if args.device == "cpu" and args.precision == "tf32":
        args.precision = "fp32"  # no TF32 on a CPU, as maskdet records it
    return args, maskdet


def build_model(torch, args):
    """torchvision's RetinaNet in maskdet bench's configuration, in training mode."""
    from torchvision.models import resnet
    from torchvision.models.detection import RetinaNet, retinanet_resnet50_fpn
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7

    # min_size = max_size = the sides: GeneralizedRCNNTransform's scale is then exactly 1.
    options = dict(min_size=min(args.height, args.width), max_size=max(args.height, args.width),
                   score_thresh=args.score_threshold)
    if args.backbone == "resnet50" and args.fpn_channels == 256:
        # Without weights this is BatchNorm2d with every layer trainable, as the general case below.
        return retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=args.classes, **options), \
            "retinanet_resnet50_fpn(weights=None, weights_backbone=None)"
    body = getattr(resnet, args.backbone)(weights=None, norm_layer=torch.nn.BatchNorm2d)
    c2 = body.inplanes // 8  # layer1's output width: 64 (BasicBlock) or 256 (Bottleneck)
    c = args.fpn_channels
    backbone = BackboneWithFPN(body, {"layer2": "0", "layer3": "1", "layer4": "2"}, [c2 * 2, c2 * 4, c2 * 8], c,
                               extra_blocks=LastLevelP6P7(c, c))
    return RetinaNet(backbone, args.classes, **options), \
        f"RetinaNet(BackboneWithFPN({args.backbone}(weights=None), FPN {c}, LastLevelP6P7({c}, {c})))"


def forward_gflops(torch, model, height, width, device):
    """Convolution FLOPs of one forward of one image (backbone, FPN, head), counted with hooks."""
    total = [0]

    def hook(module, inputs, output):
        per_output = 2 * (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        total[0] += per_output * output.numel()  # output: (1, out_channels, OH, OW)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        features = model.backbone(torch.zeros(1, 3, height, width, device=device))
        model.head(list(features.values()))
    model.train(was_training)
    for h in handles:
        h.remove()
    return total[0] / 1e9


def random_target(torch, args, gen, device):
    """--boxes boxes with sides 1/10 to 1/2 of the image's, anywhere inside it (maskdet's
    distribution; not its numbers), labels uniform."""
    n = args.boxes
    w = args.width * (0.1 + 0.4 * torch.rand(n, generator=gen))
    h = args.height * (0.1 + 0.4 * torch.rand(n, generator=gen))
    x1 = (args.width - w) * torch.rand(n, generator=gen)
    y1 = (args.height - h) * torch.rand(n, generator=gen)
    boxes = torch.stack([x1, y1, x1 + w, y1 + h], dim=1)
    labels = torch.randint(0, args.classes, (n,), generator=gen)
    return {"boxes": boxes.to(device), "labels": labels.to(device)}


def main():
    args, maskdet = parse_args()
    try:
        import torch
        import torchvision
    except ImportError as error:
        print(f"bench_torchvision.py: torch or torchvision unavailable: {error}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        print("bench_torchvision.py: --device cuda, but torch has no usable CUDA device", file=sys.stderr)
        return 2
    if not cuda:
        torch.set_num_threads(args.threads or os.cpu_count())
    if cuda:
        tf32 = args.precision != "fp32"
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)

    def autocast():
        return torch.autocast(device_type=device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None)

    def synchronize():
        if cuda:
            torch.cuda.synchronize(device)

    def time_ms(step):
        for _ in range(args.warmup):
            step()
            synchronize()
        times = []
        for _ in range(args.iters):
            start = time.perf_counter()
            step()
            synchronize()
            times.append((time.perf_counter() - start) * 1000.0)
        return times

    def peak_mib():
        return torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None

    def reset_peak():
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)

    torch.manual_seed(args.seed)
    model, built_as = build_model(torch, args)
    model.to(device)
    gen = torch.Generator().manual_seed(args.seed + 1)
    height, width = round_up_32(args.height), round_up_32(args.width)
    gflops = forward_gflops(torch, model, height, width, device)
    params = [p for p in model.parameters() if p.requires_grad]
    parameters = sum(p.numel() for p in params)

    def images(n):
        # In [0, 1], as torchvision expects before its normalisation; exactly the given size.
        return [torch.rand(3, args.height, args.width, generator=gen).to(device) for _ in range(n)]

    samples = {"train_step": [], "infer_b1": [], "infer_batch": []}
    train_peak = infer_peak = None
    if args.mode != "infer":
        batch = images(args.batch_size)
        targets = [random_target(torch, args, gen, device) for _ in range(args.batch_size)]
        if args.optimizer == "sgd":
            optimizer = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        else:
            optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)
        scaler = None
        if args.precision == "fp16":
            scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()
        model.train()
        step_count = [0]

        def train_step():
            step_count[0] += 1
            with autocast():
                losses = model(batch, targets)
                total = losses["classification"] + losses["bbox_regression"]
            # maskdet reads all three on the host before the backward (its log needs them).
            values = [total.item(), losses["classification"].item(), losses["bbox_regression"].item()]
            if not math.isfinite(values[0]):
                raise SystemExit(f"bench_torchvision.py: the loss is {values[0]} at step {step_count[0]}")
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(total).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, CLIP_GRAD_NORM)
                scaler.step(optimizer)
                scaler.update()
                return
            total.backward()
            norm = float(torch.nn.utils.clip_grad_norm_(params, CLIP_GRAD_NORM))
            if not math.isfinite(norm):
                raise SystemExit(f"bench_torchvision.py: the gradient norm is {norm} at step {step_count[0]}")
            optimizer.step()

        reset_peak()
        samples["train_step"] = time_ms(train_step)
        train_peak = peak_mib()
        # Inference is not charged for the optimiser's state and the gradients.
        del optimizer, scaler
        model.zero_grad(set_to_none=True)

    if args.mode != "train":
        model.eval()
        single, many = images(1), images(args.infer_batch_size)

        def detect(batch):
            with torch.no_grad(), autocast():
                found = model(batch)
            return [{k: v.cpu() for k, v in d.items()} for d in found]

        reset_peak()
        samples["infer_b1"] = time_ms(lambda: detect(single))
        samples["infer_batch"] = time_ms(lambda: detect(many))
        infer_peak = peak_mib()

    def q(name, p):
        return quantile(samples[name], p) if samples[name] else None

    def rate(name, n):
        return 1000.0 * n / quantile(samples[name], 0.5) if samples[name] else None

    figures = {
        "train_step_ms_p50": q("train_step", 0.5), "train_step_ms_p95": q("train_step", 0.95),
        "train_images_per_s": rate("train_step", args.batch_size),
        "infer_b1_ms_p50": q("infer_b1", 0.5), "infer_b1_ms_p95": q("infer_b1", 0.95),
        "infer_batch_ms_p50": q("infer_batch", 0.5),
        "infer_images_per_s": rate("infer_batch", args.infer_batch_size),
        "train_peak_mib": train_peak, "infer_peak_mib": infer_peak,
        "reserved_mib": torch.cuda.memory_reserved(device) / 2**20 if cuda else None,
    }
    threads = None if cuda else torch.get_num_threads()
    where = torch.cuda.get_device_name(device) if cuda else f"cpu ({threads} threads)"
    config = {
        "backbone": args.backbone, "fpn_channels": args.fpn_channels, "height": args.height, "width": args.width,
        "input_height": height, "input_width": width, "classes": args.classes, "batch_size": args.batch_size,
        "infer_batch_size": args.infer_batch_size, "boxes": args.boxes, "warmup": args.warmup, "iters": args.iters,
        "device": str(device), "threads": threads, "precision": args.precision, "optimizer": args.optimizer,
        "score_threshold": args.score_threshold, "mode": args.mode, "seed": args.seed,
    }

    print(f"torchvision bench: {built_as}")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}"
          + (f", cuDNN {torch.backends.cudnn.version()}" if cuda else "") + f"; {where}, {args.precision}")
    print(f"{args.backbone} + FPN {args.fpn_channels}, {args.classes} classes, {args.height}x{args.width} "
          f"(network input {height}x{width}), train batch {args.batch_size} with {args.boxes} boxes per image, "
          f"{args.optimizer}; {args.warmup} warm-up + {args.iters} timed repeats")
    line = f"forward: {gflops:.2f} GFLOPs per image (convolutions, 2 per multiply-add); {parameters / 1e6:.2f} M parameters"
    if maskdet and maskdet.get("forward_gflops_per_image") is not None:
        line += f" (maskdet: {maskdet['forward_gflops_per_image']:.2f} GFLOPs, {maskdet.get('parameters', 0) / 1e6:.2f} M)"
    print(line)
    if maskdet:
        theirs = maskdet.get("config", {})
        for key in ["backbone", "fpn_channels", "input_height", "input_width", "classes", "batch_size",
                    "infer_batch_size", "boxes", "optimizer", "precision", "score_threshold", "mode", "threads"]:
            if key in theirs and theirs[key] != config[key] and not (key == "threads" and cuda):
                print(f"note: {key} differs: maskdet {theirs[key]}, torch {config[key]}")
        if theirs.get("device", "cpu").split(":")[0] != device.type:
            print(f"note: device differs: maskdet {theirs.get('device')}, torch {device}")
    print()

    def text(value, key):
        if value is None:
            return "n/a" if key in MEMORY_KEYS and not cuda else "-"
        return f"{value:.2f}"

    theirs = (maskdet or {}).get("figures", {})
    if maskdet:
        print(f"{'figure':<44} {'maskdet':>12} {'torch':>12} {'maskdet/torch':>14}")
    else:
        print(f"{'figure':<44} {'torch':>12}")
    for key, label in FIGURES:
        label = label.format(b=args.batch_size, n=args.infer_batch_size)
        ours = figures[key]
        if maskdet:
            other = theirs.get(key)
            ratio = f"{other / ours:.2f}" if other is not None and ours else "-"
            print(f"{label:<44} {text(other, key):>12} {text(ours, key):>12} {ratio:>14}")
        else:
            print(f"{label:<44} {text(ours, key):>12}")
    if maskdet:
        print("(ratio: times and memory below 1, images/s above 1, mean maskdet is faster or smaller)")

    if args.json:
        document = {"program": "tools/bench_torchvision.py", "torch": torch.__version__,
                    "torchvision": torchvision.__version__, "device_name": where, "model": built_as,
                    "config": config, "parameters": parameters, "forward_gflops_per_image": gflops,
                    "figures": figures, "samples_ms": samples}
        # Written beside the target and renamed over it, so a reader never sees half a file.
        folder = os.path.dirname(os.path.abspath(args.json))
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
            temp = f.name
        os.replace(temp, args.json)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
