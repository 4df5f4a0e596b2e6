"""Convolution: conv2d 64 -> 64 channels, 3x3 kernel, padding 1, 32x32 images, batch 16, forward + backward.

Large enough that the arithmetic (about 3.6 GFLOP per step) dominates: this measures how close im2col through
strided views plus one NumPy matrix multiply per product (forward, gradient of the input, gradient of the
weight) gets to PyTorch's native convolution kernels. chainrule and PyTorch (CPU, 2 threads) run in the same
process, alternating in blocks, after checking that both compute the same output and gradients; the medians of >= 10
repetitions are compared.

    python benchmarks/conv.py [--repeat 20] [--write BENCHMARKS.md]
"""
import os
import platform
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
import chainrule  # noqa: E402
from common import Result, Section, command_line, quartiles, repeats, time_once, with_notes  # noqa: E402

BATCH, CHANNELS, SIZE, KERNEL, PADDING = 16, 64, 32, 3, 1
TARGET = 2.0
DEFAULT_REPEAT, MIN_REPEAT = 20, 10
FULL = {"batch": BATCH, "channels": CHANNELS, "size": SIZE, "kernel": KERNEL}
QUICK = {"batch": 2, "channels": 8, "size": 8, "kernel": KERNEL}  # the suite's --quick smoke run


def make_inputs(batch=BATCH, channels=CHANNELS, size=SIZE, kernel=KERNEL, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    w = (rng.standard_normal((channels, channels, kernel, kernel)) / np.sqrt(channels * kernel * kernel)).astype(np.float32)
    b = rng.standard_normal(channels).astype(np.float32)
    u = rng.standard_normal((batch, channels, size, size)).astype(np.float32)  # the upstream gradient
    return x, w, b, u


def framework_step(lib, x_np, w_np, b_np, u_np, padding=PADDING):
    """forward (+ backward with upstream gradient u) of conv2d in a library with PyTorch's API; returns the output
    and the gradients of input, weight and bias as arrays."""
    u = lib.tensor(u_np)

    def step(backward=True):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        b = lib.tensor(b_np, requires_grad=True)
        y = lib.nn.functional.conv2d(x, w, b, padding=padding)
        if not backward:
            return (y.detach().numpy(),)
        y.backward(u)
        return y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()

    return step


def check(steps):
    """Every library computes the same output and gradients as PyTorch (float32 sums of 576 terms: rtol 1e-3)."""
    reference = steps["torch"]()
    for name, step in steps.items():
        for what, got, expected in zip(("output", "input grad", "weight grad", "bias grad"), step(), reference):
            scale = float(np.abs(expected).max())
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4 * scale, err_msg=f"{name}: {what}")


def samples(repeat, sizes=FULL):
    """{(library, backward): [seconds, ...]}, after checking both libraries against each other."""
    import torch
    torch.set_num_threads(2)
    inputs = make_inputs(**sizes)
    steps = {"chainrule": framework_step(chainrule, *inputs), "torch": framework_step(torch, *inputs)}
    check(steps)
    times = {(name, backward): [] for name in steps for backward in (False, True)}
    # Alternate between libraries in blocks, each block starting with an untimed call: BLAS and OpenMP worker
    # threads of one library keep spinning for a while after it returns, which would slow down whichever library
    # is timed right after it (alternating call by call made PyTorch look twice as slow).
    block = min(5, repeat)
    for _ in range(-(-repeat // block)):
        for (name, backward), s in times.items():
            steps[name](backward)
            for _ in range(block):
                s.append(time_once(lambda: steps[name](backward)))
    return times


def run(repeat, sizes=FULL):
    import torch
    return {key: statistics.median(s) for key, s in samples(repeat, sizes).items()}, torch.__version__


def title(sizes=FULL):
    c, k, n = sizes["channels"], sizes["kernel"], sizes["size"]
    return (f"conv2d {c}->{c} channels, {k}x{k}, padding {PADDING}, {n}x{n}, batch {sizes['batch']}, "
            "forward + backward")


def report(medians, torch_version, repeat, sizes=FULL):
    names = list(dict.fromkeys(name for name, _ in medians))
    lines = []
    for name in names:
        forward, total = medians[(name, False)], medians[(name, True)]
        lines.append(f"| {name} | {forward * 1e3:.1f} ms | {(total - forward) * 1e3:.1f} ms | {total * 1e3:.1f} ms |")
    ratio = medians[("chainrule", True)] / medians[("torch", True)]
    forward_ratio = medians[("chainrule", False)] / medians[("torch", False)]
    text = [
        f"## Convolution: {title(sizes)}",
        "",
        "Command: `python benchmarks/conv.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version} (2 threads). Median of {repeat} runs or more, alternating "
        "between libraries in blocks of 5 (each after an untimed call) in one process, float32; output and all three gradients are checked against PyTorch first. "
        "chainrule: im2col through a strided view plus one matrix multiply per product, col2im by one strided add "
        "per kernel offset (or, at stride 1, a convolution with the flipped kernel); the forward keeps x's im2col "
        "for the weight's gradient.",
        "",
        "| library | forward | backward | forward + backward |",
        "| --- | --- | --- | --- |",
        *lines,
        "",
        f"**chainrule / torch time ratio: {ratio:.2f}** (target <= {TARGET}; lower is faster); forward alone: "
        f"{forward_ratio:.2f}.",
    ]
    return with_notes("conv", "\n".join(text) + "\n"), ratio


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and its result (forward + backward, chainrule / torch)."""
    import torch
    sizes = QUICK if quick else FULL
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    times = samples(repeat, sizes)
    medians = {key: statistics.median(s) for key, s in times.items()}
    text, ratio = report(medians, torch.__version__, repeat, sizes)
    names = ("chainrule", "torch")
    result = Result("conv", f"Convolution: {title(sizes)}", {name: medians[(name, True)] for name in names}, ratio,
                    TARGET, spread={name: quartiles(times[(name, True)]) for name in names})
    return Section("conv", text, [result])


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(*run(repeat), repeat)[0], argv)


if __name__ == "__main__":
    sys.exit(main())
