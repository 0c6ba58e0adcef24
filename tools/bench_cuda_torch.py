#!/usr/bin/python3
"""PyTorch counterpart of bench/cuda_bench.cpp: times the same CUDA cases (conv forward /
backward data / backward filter at ResNet-50 shapes, batch norm forward + backward, sigmoid
focal loss with its gradient, NMS over 10k boxes) with torch.cuda.Event, the same warm-up,
median of repeats and TF32 setting, and prints `case NAME MS` lines for the C++ side to parse
(plus `nms_kept N`). The case names and shapes must stay those of cuda_bench.cpp.

The focal loss and NMS cases use torchvision.ops and are skipped, with a line saying so, when
torchvision is missing. Exits with status 2 when torch cannot be imported or has no CUDA.
"""
import argparse
import statistics
import sys

BATCH = 16
# (in channels, out channels, kernel, spatial size), stride 1, "same" padding.
CONV_SHAPES = [(64, 64, 3, 56), (128, 128, 3, 28), (256, 256, 3, 14), (512, 512, 3, 7), (256, 64, 1, 56)]
NMS_BOXES = 10000
NMS_THRESHOLD = 0.5


def median_ms(torch, step, warmup, repeats):
    """Median CUDA-event time of step() on the current stream, in ms."""
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def conv_cases(torch):
    """(name, step factory) for the three passes of every convolution shape."""
    conv_backward = torch.ops.aten.convolution_backward

    def passes(c_in, c_out, k, size):
        pad = k // 2
        name = f"conv{k}x{k}_{c_in}_{c_out}_{size}"
        geometry = dict(stride=[1, 1], padding=[pad, pad], dilation=[1, 1], transposed=False,
                        output_padding=[0, 0], groups=1)

        def tensors():
            x = torch.randn(BATCH, c_in, size, size, device="cuda")
            w = torch.randn(c_out, c_in, k, k, device="cuda") * 0.05
            dy = torch.randn(BATCH, c_out, size, size, device="cuda")
            return x, w, dy

        def forward():
            x, w, _ = tensors()
            return lambda: torch.nn.functional.conv2d(x, w, None, padding=pad)

        def backward(mask):
            def make():
                x, w, dy = tensors()
                return lambda: conv_backward(dy, x, w, None, output_mask=mask, **geometry)
            return make

        return [(name + "_fwd", forward), (name + "_bwd_data", backward([True, False, False])),
                (name + "_bwd_filter", backward([False, True, False]))]

    return [case for shape in CONV_SHAPES for case in passes(*shape)]


def batch_norm_case(torch):
    def make():
        shape = (BATCH, 256, 56, 56)
        x = torch.randn(shape, device="cuda", requires_grad=True)
        dy = torch.randn(shape, device="cuda")
        weight = torch.randn(256, device="cuda", requires_grad=True)
        bias = torch.randn(256, device="cuda", requires_grad=True)
        running_mean = torch.randn(256, device="cuda")
        running_var = torch.ones(256, device="cuda")

        def step():
            y = torch.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=True,
                                               momentum=0.1, eps=1e-5)
            torch.autograd.grad(y, (x, weight, bias), dy)
        return step
    return ("batch_norm_256_56", make)


def focal_case(torch, ops):
    def make():
        shape = (100000, 2)
        logits = (torch.randn(shape, device="cuda") * 2).requires_grad_(True)
        targets = (torch.rand(shape, device="cuda") < 0.01).float()  # about 1% positives
        ones = torch.ones(shape, device="cuda")

        def step():
            loss = ops.sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none")
            torch.autograd.grad(loss, logits, ones)
        return step
    return ("focal_100k_x2", make)


def nms_inputs(torch):
    """The boxes and scores of cuda_bench.cpp's nms_boxes() / nms_scores(), formula for formula."""
    boxes, scores = [], []
    for k in range(NMS_BOXES):
        cx, cy = float((k * 7919) % 1000), float((k * 104729) % 1000)
        w, h = 16.0 + (k * 31) % 64, 16.0 + (k * 17) % 64
        boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        scores.append(((k * 2654435761) % 4294967296) / 4294967296.0)
    return (torch.tensor(boxes, dtype=torch.float32, device="cuda"),
            torch.tensor(scores, dtype=torch.float32, device="cuda"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--tf32", dest="tf32", action="store_true", default=True)
    parser.add_argument("--no-tf32", dest="tf32", action="store_false")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="time cuDNN's convolution algorithms (default: its heuristics, as maskdet)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError as error:
        print(f"torch unavailable: {error}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch has no usable CUDA device", file=sys.stderr)
        return 2
    try:
        import torchvision.ops as ops
        vision = f", torchvision {sys.modules['torchvision'].__version__}"
    except ImportError:
        ops, vision = None, ", no torchvision (focal loss and NMS skipped)"

    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(0)
    print(f"torch {torch.__version__}{vision}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name()}, TF32 {'on' if args.tf32 else 'off'}, "
          f"cuDNN algorithms by {'timing' if args.cudnn_benchmark else 'heuristics'}")

    cases = conv_cases(torch) + [batch_norm_case(torch)]
    if ops is not None:
        cases.append(focal_case(torch, ops))
    for name, make in cases:
        step = make()
        print(f"case {name} {median_ms(torch, step, args.warmup, args.repeats):.4f}", flush=True)
        del step
        torch.cuda.empty_cache()

    if ops is not None:
        boxes, scores = nms_inputs(torch)
        kept = [0]

        def nms_step():
            # .numel() needs the size on the host: the sync maskdet's num_kept costs too.
            kept[0] = ops.nms(boxes, scores, NMS_THRESHOLD).numel()
        print(f"case nms_10k {median_ms(torch, nms_step, args.warmup, args.repeats):.4f}")
        print(f"nms_kept {kept[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
