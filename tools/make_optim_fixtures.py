#!/usr/bin/python3
"""Reference values for maskdet's optimisers, lr schedules and gradient clipping, computed by
PyTorch (torch.optim.SGD / AdamW, torch.optim.lr_scheduler, torch.nn.utils.clip_grad_norm_),
written to tests/optim/data/optim.safetensors for tests/optim/.

Run with an interpreter that has torch (Debian's /usr/bin/python3 here):
    /usr/bin/python3 tools/make_optim_fixtures.py
Seeded, single-threaded and written with sorted keys, so two runs give identical bytes.

Contents, all float64 (scalars have shape (1)):
  param.<i>                       initial parameters: param.0 (3, 4) in group 0, param.1 (5) in group 1
  grad.<k>.<i>                    the gradient of parameter i at step k (k = 0..4); grad.2.1 is absent:
                                  parameter 1 has no gradient at step 2 and must be skipped
  <run>.step<k>.param.<i>         parameter i after step k, for every run in OPTIMIZER_RUNS
  <run>.state.<i>.<buffer>        the optimiser's state after the last step (momentum_buffer, exp_avg, ...)
  schedule.<name>                 (steps, 2): the lr of both groups at steps 0, 1, ... for SCHEDULES
  clip.<name>.total               the norm clip_grad_norm_ returned for grad.0.*
  clip.<name>.grad.<i>            grad.0.i after clipping
"""
import math
import os
import sys

import torch

from safetensors_io import write_safetensors

STEPS = 5
SKIPPED_GRAD = (2, 1)  # (step, parameter) without a gradient

# Per-group lr and weight decay, then the optimiser-wide options. tests/optim/ repeats these.
OPTIMIZER_RUNS = {
    "sgd_plain": (torch.optim.SGD, [(0.1, 1e-4), (0.05, 0.0)], dict(momentum=0.0)),
    "sgd_momentum": (torch.optim.SGD, [(0.1, 1e-4), (0.05, 0.0)], dict(momentum=0.9)),
    "sgd_nesterov": (torch.optim.SGD, [(0.1, 1e-4), (0.05, 0.0)], dict(momentum=0.9, nesterov=True)),
    "sgd_dampening": (torch.optim.SGD, [(0.1, 1e-4), (0.05, 0.0)], dict(momentum=0.9, dampening=0.1)),
    "adamw": (torch.optim.AdamW, [(1e-3, 0.05), (2e-3, 0.0)], dict(betas=(0.9, 0.999), eps=1e-8)),
}

SCHEDULE_BASE_LRS = [0.01, 0.02]


def warmup_multistep(opt):
    return torch.optim.lr_scheduler.ChainedScheduler([
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.001, total_iters=5),
        torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[12, 20], gamma=0.1)])


def warmup_cosine(opt):
    # eta_min 0: only then is PyTorch's chained (recursive) form the product warm-up * cosine.
    return torch.optim.lr_scheduler.ChainedScheduler([
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.001, total_iters=5),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=0.0)])


def cosine(opt):
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=1e-4)


SCHEDULES = {"warmup_multistep": (warmup_multistep, 30), "warmup_cosine": (warmup_cosine, 31),
             "cosine": (cosine, 31)}

# name: (max_norm, norm_type)
CLIPS = {"l2": (1.0, 2.0), "inf": (0.5, math.inf), "l3": (1.0, 3.0)}


def make_inputs():
    torch.manual_seed(0)
    params = [torch.randn(3, 4, dtype=torch.float64), torch.randn(5, dtype=torch.float64)]
    grads = [[torch.randn_like(p) for p in params] for _ in range(STEPS)]
    return params, grads


def run_optimizer(name, params, grads, out):
    cls, groups, options = OPTIMIZER_RUNS[name]
    live = [p.clone().requires_grad_(True) for p in params]
    opt = cls([{"params": [p], "lr": lr, "weight_decay": wd} for p, (lr, wd) in zip(live, groups)], **options)
    for k in range(STEPS):
        for i, p in enumerate(live):
            p.grad = None if (k, i) == SKIPPED_GRAD else grads[k][i].clone()
        opt.step()
        for i, p in enumerate(live):
            out[f"{name}.step{k}.param.{i}"] = p.detach().clone()
    for i, p in enumerate(live):
        for buffer, value in opt.state[p].items():
            if torch.is_tensor(value) and value.dim() > 0:
                out[f"{name}.state.{i}.{buffer}"] = value.clone()


def run_schedule(name, out):
    make, steps = SCHEDULES[name]
    dummies = [torch.zeros(1, requires_grad=True) for _ in SCHEDULE_BASE_LRS]
    opt = torch.optim.SGD([{"params": [d], "lr": lr} for d, lr in zip(dummies, SCHEDULE_BASE_LRS)], lr=0.0)
    scheduler = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append([group["lr"] for group in opt.param_groups])
        opt.step()  # no gradients: nothing moves, but PyTorch expects this order
        scheduler.step()
    out[f"schedule.{name}"] = torch.tensor(lrs, dtype=torch.float64)


def run_clip(name, grads, out):
    max_norm, norm_type = CLIPS[name]
    live = [torch.zeros_like(g, requires_grad=True) for g in grads[0]]
    for p, g in zip(live, grads[0]):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(live, max_norm, norm_type)
    out[f"clip.{name}.total"] = total.reshape(1).to(torch.float64)
    for i, p in enumerate(live):
        out[f"clip.{name}.grad.{i}"] = p.grad.clone()


def main():
    torch.set_num_threads(1)
    params, grads = make_inputs()
    out = {}
    for i, p in enumerate(params):
        out[f"param.{i}"] = p
    for k in range(STEPS):
        for i in range(len(params)):
            if (k, i) != SKIPPED_GRAD:
                out[f"grad.{k}.{i}"] = grads[k][i]
    for name in OPTIMIZER_RUNS:
        run_optimizer(name, params, grads, out)
    for name in SCHEDULES:
        run_schedule(name, out)
    for name in CLIPS:
        run_clip(name, grads, out)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "optim", "data", "optim.safetensors")
    if "--out" in sys.argv:  # write there instead (scripts/check_fixtures.sh compares the two)
        path = os.path.join(sys.argv[sys.argv.index("--out") + 1], os.path.basename(path))
    write_safetensors(path, {name: t.to(torch.float64) for name, t in out.items()})
    print(f"wrote {len(out)} tensors to {path}")


if __name__ == "__main__":
    main()
