#!/usr/bin/python3
"""PyTorch counterpart of bench/conv2d_bench.cpp and bench/depthwise_bench.cpp (--groups): times one float32 conv2d forward plus
backward (gradients for the input, the weight and the bias) on the CPU, with the same shapes,
warm-up and median of repeats, and prints `median_ms <value>` for the C++ side to parse.

Needs a Python with torch (Debian's python3-torch lives under /usr/bin/python3). Exits with
status 2 and a message on stderr when torch cannot be imported.
"""
import argparse
import statistics
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--in-channels", type=int, default=256)
    parser.add_argument("--out-channels", type=int, default=256)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--padding", type=int, default=1)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--groups", type=int, default=1)
    args = parser.parse_args()

    try:
        import torch
    except ImportError as error:
        print(f"torch unavailable: {error}", file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.in_channels, args.size, args.size, requires_grad=True)
    weight = torch.randn(args.out_channels, args.in_channels // args.groups, args.kernel, args.kernel) * 0.02
    weight.requires_grad_(True)
    bias = torch.zeros(args.out_channels, requires_grad=True)
    with torch.no_grad():
        out_shape = torch.nn.functional.conv2d(x, weight, bias, stride=args.stride, padding=args.padding, groups=args.groups).shape
    grad_out = torch.randn(out_shape)

    def step():
        # Fresh gradients each time, as the C++ side does: no accumulation pass.
        x.grad = weight.grad = bias.grad = None
        out = torch.nn.functional.conv2d(x, weight, bias, stride=args.stride, padding=args.padding, groups=args.groups)
        out.backward(grad_out)

    for _ in range(args.warmup):
        step()
    times_ms = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        times_ms.append((time.perf_counter() - start) * 1e3)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"median_ms {statistics.median(times_ms):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
