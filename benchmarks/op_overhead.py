"""Per-op overhead: a chain of 300 elementwise ops on 16 floats, forward + backward.

Small tensors make the arithmetic negligible, so this measures what a framework adds per op: graph
recording, node creation, the backward walk. chainrule, PyTorch (CPU, 2 threads) and hand-written
NumPy (forward + hand-derived backward, the floor for any NumPy-based engine) run in the same process,
alternating, and the medians of >= 30 repetitions are compared.

    python benchmarks/op_overhead.py [--repeat 50] [--write BENCHMARKS.md]
"""
import os
import platform
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chainrule  # noqa: E402
from common import command_line, time_once  # noqa: E402

N_OPS = 300
SIZE = 16
# One cycle of the chain: binary ops with a tensor, binary ops with a Python number, unary functions.
CYCLE = ("mul_tensor", "add_tensor", "tanh", "mul_scalar", "sin", "sub_scalar")


STEPS = {  # one forward step of each kind, for any library with NumPy/PyTorch-style functions
    "mul_tensor": lambda lib, y, x, w: y * w,
    "add_tensor": lambda lib, y, x, w: y + x,
    "tanh": lambda lib, y, x, w: lib.tanh(y),
    "mul_scalar": lambda lib, y, x, w: y * 1.5,
    "sin": lambda lib, y, x, w: lib.sin(y),
    "sub_scalar": lambda lib, y, x, w: y - 0.25,
}


def chain(lib, x, w):
    """The benchmark's function, written once for any library with PyTorch's API."""
    y = x
    for i in range(N_OPS):
        y = STEPS[CYCLE[i % len(CYCLE)]](lib, y, x, w)
    return y.sum()


def numpy_chain(x, w, backward=True):
    """The same function and its gradient w.r.t. x and w, by hand: no framework at all."""
    values, y = [], x
    for i in range(N_OPS):
        values.append(y)
        y = STEPS[CYCLE[i % len(CYCLE)]](np, y, x, w)
    if not backward:
        return y.sum()
    g = np.ones_like(y)
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for i in reversed(range(N_OPS)):
        kind, v = CYCLE[i % len(CYCLE)], values[i]
        if kind == "mul_tensor":
            gw += g * v
            g = g * w
        elif kind == "add_tensor":
            gx += g
        elif kind == "tanh":
            t = np.tanh(v)
            g = g * (1 - t * t)
        elif kind == "mul_scalar":
            g = g * 1.5
        elif kind == "sin":
            g = g * np.cos(v)
    gx += g
    return gx, gw


def framework_step(lib, x_np, w_np):
    """forward (+ backward) of the chain in a framework with PyTorch's API; returns the gradients."""
    def step(backward=True):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        y = chain(lib, x, w)
        if backward:
            y.backward()
            return x.grad.numpy(), w.grad.numpy()
    return step


def run(repeat):
    """Median seconds of forward only and of forward + backward, per library, measured alternately."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(SIZE).astype(np.float32)
    w_np = (0.5 + 0.1 * rng.standard_normal(SIZE)).astype(np.float32)
    steps = {"chainrule": framework_step(chainrule, x_np, w_np),
             "numpy (by hand)": lambda backward=True: numpy_chain(x_np, w_np, backward)}
    torch_version = None
    try:
        import torch
        torch.set_num_threads(2)
        steps["torch"] = framework_step(torch, x_np, w_np)
        torch_version = torch.__version__
    except ImportError:
        pass
    reference = steps["numpy (by hand)"]()
    for name, step in steps.items():  # every library computes the same gradients
        for got, expected in zip(step(), reference):
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4, err_msg=name)
        step(), step(False)  # warm up
    times = {(name, backward): [] for name in steps for backward in (False, True)}
    for _ in range(repeat):
        for (name, backward), samples in times.items():
            samples.append(time_once(lambda: steps[name](backward)))
    return {key: statistics.median(samples) for key, samples in times.items()}, torch_version


def report(medians, torch_version, repeat):
    names = list(dict.fromkeys(name for name, _ in medians))
    lines = []
    for name in names:
        forward, total = medians[(name, False)], medians[(name, True)]
        lines.append(f"| {name} | {forward / N_OPS * 1e6:.2f} µs | {(total - forward) / N_OPS * 1e6:.2f} µs | "
                     f"{total * 1e3:.2f} ms | {total / N_OPS * 1e6:.2f} µs |")
    total = {name: medians[(name, True)] for name in names}
    ratio = total["chainrule"] / total["torch"] if "torch" in total else None
    text = [
        "## Per-op overhead: 300 elementwise ops on 16 floats, forward + backward",
        "",
        "Command: `python benchmarks/op_overhead.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version or 'not installed'} (2 threads). "
        f"Median of {repeat} runs, alternating between libraries in one process. The chain cycles through "
        f"{', '.join(CYCLE)}; every library's gradients are checked against the hand-written ones first.",
        "",
        "| library | forward per op | backward per op | forward + backward | per op |",
        "| --- | --- | --- | --- | --- |",
        *lines,
        "",
    ]
    if ratio is not None:
        text.append(f"**chainrule / torch time ratio: {ratio:.2f}** (target <= 0.6; lower is faster).")
    text.append(f"chainrule / hand-written NumPy: {total['chainrule'] / total['numpy (by hand)']:.2f}.")
    return "\n".join(text) + "\n", ratio


def main(argv=None):
    return command_line(__doc__, 50, 30, lambda repeat: report(*run(repeat), repeat)[0], argv)


if __name__ == "__main__":
    sys.exit(main())
