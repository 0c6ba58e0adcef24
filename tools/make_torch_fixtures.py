#!/usr/bin/python3
"""Writes tests/torch_fixtures/data/forward.safetensors: inputs and PyTorch's outputs for
maskdet's forward checks (tests/torch_fixtures/torch_forward_test.cpp).

Run it with Debian's interpreter, which has torch (1.13, CPU) installed:

    /usr/bin/python3 tools/make_torch_fixtures.py

Everything is float32 except integer indices (int64). Tensors are named
"<case>.<role>"; the C++ test hard-codes each case's options, so keep the two in step.
The output is byte-identical from run to run (fixed seed, one thread, sorted header), so
`git diff` shows only real changes.

The file is written by tools/safetensors_io.py (no package beyond torch).
"""
import os
import sys

import torch

from safetensors_io import write_safetensors
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "tests", "torch_fixtures", "data", "forward.safetensors")

def sigmoid_focal_loss(logits, targets, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss with reduction="none" (Lin et al. 2017)."""
    try:
        from torchvision.ops import sigmoid_focal_loss as tv_focal
    except ImportError:
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
        return loss
    return tv_focal(logits, targets, alpha=alpha, gamma=gamma, reduction="none")


def build():
    torch.manual_seed(20240607)
    torch.set_num_threads(1)
    out = {}

    def randn(*shape):
        return torch.randn(*shape, dtype=torch.float32)

    # ---- conv2d: (name, x shape, weight shape, bias?, stride, padding, dilation, groups) ----
    conv_cases = [
        ("conv_plain", (2, 3, 7, 7), (4, 3, 3, 3), False, 1, 0, 1, 1),
        ("conv_stride2_pad1", (2, 3, 8, 9), (5, 3, 3, 3), True, 2, 1, 1, 1),
        ("conv_dilation2", (1, 2, 9, 8), (3, 2, 3, 3), True, 1, 2, 2, 1),
        ("conv_groups2", (2, 4, 6, 6), (6, 2, 3, 3), True, 1, 1, 1, 2),
    ]
    for name, xs, ws, has_bias, stride, padding, dilation, groups in conv_cases:
        x, w = randn(*xs), randn(*ws)
        b = randn(ws[0]) if has_bias else None
        out[name + ".x"], out[name + ".weight"] = x, w
        if has_bias:
            out[name + ".bias"] = b
        out[name + ".out"] = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    # One backward: gradients of sum(out * grad_out) for the stride-2 case.
    x = out["conv_stride2_pad1.x"].clone().requires_grad_(True)
    w = out["conv_stride2_pad1.weight"].clone().requires_grad_(True)
    b = out["conv_stride2_pad1.bias"].clone().requires_grad_(True)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    grad_out = randn(*y.shape)
    y.backward(grad_out)
    out["conv_stride2_pad1.grad_out"] = grad_out
    out["conv_stride2_pad1.grad_x"] = x.grad
    out["conv_stride2_pad1.grad_weight"] = w.grad
    out["conv_stride2_pad1.grad_bias"] = b.grad

    # ---- batch_norm (momentum 0.1, eps 1e-5) ----
    x = randn(4, 3, 5, 5) * 2 + 0.5
    weight, bias = randn(3), randn(3)
    running_mean, running_var = randn(3) * 0.1, torch.rand(3) + 0.5
    out["bn_train.x"], out["bn_train.weight"], out["bn_train.bias"] = x, weight, bias
    out["bn_train.running_mean"], out["bn_train.running_var"] = running_mean.clone(), running_var.clone()
    out["bn_train.out"] = F.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5)
    out["bn_train.running_mean_after"], out["bn_train.running_var_after"] = running_mean, running_var
    x = randn(2, 3, 4, 4)
    running_mean, running_var = randn(3) * 0.3, torch.rand(3) + 0.5
    out["bn_eval.x"], out["bn_eval.weight"], out["bn_eval.bias"] = x, weight, bias
    out["bn_eval.running_mean"], out["bn_eval.running_var"] = running_mean, running_var
    out["bn_eval.out"] = F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=1e-5)

    # ---- max_pool2d ----
    x = randn(2, 3, 9, 9)
    out["maxpool_k3s2p1.x"] = x
    out["maxpool_k3s2p1.out"] = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    x = randn(1, 2, 8, 8)
    out["maxpool_ceil.x"] = x
    out["maxpool_ceil.out"] = F.max_pool2d(x, kernel_size=3, stride=2, padding=0, ceil_mode=True)

    # ---- nearest upsampling ----
    x = randn(1, 2, 5, 6)
    out["upsample.x"] = x
    out["upsample.out_x2"] = F.interpolate(x, scale_factor=2, mode="nearest")
    out["upsample.out_7x9"] = F.interpolate(x, size=(7, 9), mode="nearest")

    # ---- losses (reduction none, plus one mean) ----
    logits = randn(8, 5) * 3
    logits[0, 0], logits[1, 1], logits[2, 2] = 25.0, -25.0, 0.0
    targets = (torch.rand(8, 5) < 0.3).float()
    out["focal.logits"], out["focal.targets"] = logits, targets
    out["focal.out"] = sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0)
    soft = torch.rand(8, 5)
    weight = torch.rand(5) + 0.5
    out["bce.logits"], out["bce.targets"], out["bce.weight"] = logits, soft, weight
    out["bce.out"] = F.binary_cross_entropy_with_logits(logits, soft, weight=weight, reduction="none")
    out["bce.out_mean"] = F.binary_cross_entropy_with_logits(logits, soft, weight=weight, reduction="mean")
    pred, target = randn(6, 4) * 0.3, randn(6, 4) * 0.3
    out["regression.pred"], out["regression.target"] = pred, target
    out["regression.smooth_l1"] = F.smooth_l1_loss(pred, target, beta=1.0 / 9.0, reduction="none")
    out["regression.l1"] = F.l1_loss(pred, target, reduction="none")

    # ---- matmul: plain, batched, batched @ shared ----
    a, b = randn(5, 7), randn(7, 3)
    out["matmul.a"], out["matmul.b"], out["matmul.out"] = a, b, a @ b
    a, b = randn(2, 4, 6), randn(2, 6, 3)
    out["bmm.a"], out["bmm.b"], out["bmm.out"] = a, b, a @ b
    b = randn(6, 3)
    out["bmm_shared.a"], out["bmm_shared.b"], out["bmm_shared.out"] = a, b, a @ b

    # ---- elementwise ----
    x = randn(3, 4) * 2
    out["unary.x"] = x
    out["unary.sigmoid"], out["unary.exp"] = torch.sigmoid(x), torch.exp(x)
    out["unary.log"] = torch.log(x.abs() + 0.1)

    # ---- joining and indexing ----
    a, b = randn(2, 3, 4), randn(2, 5, 4)
    out["cat.a"], out["cat.b"], out["cat.out"] = a, b, torch.cat([a, b], dim=1)
    x = randn(3, 5)
    index = torch.randint(0, 5, (3, 4), dtype=torch.int64)
    out["gather.x"], out["gather.index"], out["gather.out"] = x, index, torch.gather(x, 1, index)
    x = randn(4, 6)
    index = torch.tensor([3, 0, 3, 1], dtype=torch.int64)
    out["index_select.x"], out["index_select.index"] = x, index
    out["index_select.out"] = torch.index_select(x, 0, index)
    return out


def main():
    tensors = build()
    metadata = {"generator": "tools/make_torch_fixtures.py", "torch": torch.__version__.split("+")[0]}
    # --out DIR writes there instead (scripts/check_fixtures.sh compares the two)
    output = os.path.join(sys.argv[sys.argv.index("--out") + 1], os.path.basename(OUTPUT)) if "--out" in sys.argv else OUTPUT
    size = write_safetensors(output, tensors, metadata)
    print("wrote %s: %d tensors, %d bytes" % (output, len(tensors), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
