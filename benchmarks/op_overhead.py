"""Per-op overhead: a chain of 300 elementwise ops on 16 floats, forward + backward.

Small tensors make the arithmetic negligible, so this measures what a framework adds per op: graph
recording, node creation, the backward walk. chainrule, PyTorch (CPU, 2 threads), HIPS autograd (if
installed) and hand-written NumPy (forward + hand-derived backward, the floor for any NumPy-based engine) run
in the same process, alternating, and the medians of >= 30 repetitions are compared.

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
from common import Result, Section, command_line, quartiles, repeats, time_once, with_notes  # noqa: E402

N_OPS = 300
SIZE = 16
TARGET = 0.6
DEFAULT_REPEAT, MIN_REPEAT = 50, 30
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


def chain(lib, x, w, n_ops=N_OPS):
    """The benchmark's function, written once for any library with PyTorch's API (or NumPy's)."""
    y = x
    for i in range(n_ops):
        y = STEPS[CYCLE[i % len(CYCLE)]](lib, y, x, w)
    return y.sum()


def numpy_chain(x, w, backward=True, n_ops=N_OPS):
    """The same function and its gradient w.r.t. x and w, by hand: no framework at all."""
    values, y = [], x
    for i in range(n_ops):
        values.append(y)
        y = STEPS[CYCLE[i % len(CYCLE)]](np, y, x, w)
    if not backward:
        return y.sum()
    g = np.ones_like(y)
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for i in reversed(range(n_ops)):
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


def framework_step(lib, x_np, w_np, n_ops=N_OPS):
    """forward (+ backward) of the chain in a framework with PyTorch's API; returns the gradients."""
    def step(backward=True):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        y = chain(lib, x, w, n_ops)
        if backward:
            y.backward()
            return x.grad.numpy(), w.grad.numpy()
    return step


def autograd_step(x_np, w_np, n_ops=N_OPS):
    """forward + backward of the chain in HIPS autograd (its forward alone is plain NumPy: not timed)."""
    import autograd
    import autograd.numpy as anp
    gradient = autograd.grad(lambda x, w: chain(anp, x, w, n_ops), argnum=(0, 1))
    return lambda backward=True: gradient(x_np, w_np)


def inputs(size=SIZE, seed=0):
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(size).astype(np.float32)
    w_np = (0.5 + 0.1 * rng.standard_normal(size)).astype(np.float32)
    return x_np, w_np


def contenders(x_np, w_np, n_ops=N_OPS):
    """library -> step(backward=True), for every library installed (chainrule and NumPy always)."""
    steps = {"chainrule": framework_step(chainrule, x_np, w_np, n_ops),
             "numpy (by hand)": lambda backward=True: numpy_chain(x_np, w_np, backward, n_ops)}
    try:
        import torch
        torch.set_num_threads(2)
        steps["torch"] = framework_step(torch, x_np, w_np, n_ops)
    except ImportError:
        pass
    try:
        steps["autograd"] = autograd_step(x_np, w_np, n_ops)
    except ImportError:
        pass
    return steps


def samples(repeat, n_ops=N_OPS):
    """{(library, backward): [seconds, ...]} of forward only and of forward + backward, measured alternately
    (autograd: forward + backward only), after checking every library's gradients against the hand-written ones."""
    steps = contenders(*inputs(), n_ops)
    reference = steps["numpy (by hand)"]()
    for name, step in steps.items():  # every library computes the same gradients
        for got, expected in zip(step(), reference):
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4, err_msg=name)
        step(), step(False)  # warm up
    times = {(name, backward): [] for name in steps for backward in (False, True)
             if backward or name != "autograd"}
    for _ in range(repeat):
        for (name, backward), s in times.items():
            s.append(time_once(lambda: steps[name](backward)))
    return times


def torch_version():
    try:
        import torch
        return torch.__version__
    except ImportError:
        return None


def run(repeat, n_ops=N_OPS):
    """Median seconds of forward only and of forward + backward, per library, measured alternately."""
    return {key: statistics.median(s) for key, s in samples(repeat, n_ops).items()}, torch_version()


def report(medians, torch_version, repeat, n_ops=N_OPS):
    names = list(dict.fromkeys(name for name, _ in medians))
    lines = []
    for name in names:
        total = medians[(name, True)]
        forward = medians.get((name, False))
        per_op = (f"{forward / n_ops * 1e6:.2f} µs | {(total - forward) / n_ops * 1e6:.2f} µs" if forward is not None
                  else "— | —")
        lines.append(f"| {name} | {per_op} | {total * 1e3:.2f} ms | {total / n_ops * 1e6:.2f} µs |")
    total = {name: medians[(name, True)] for name in names}
    ratio = total["chainrule"] / total["torch"] if "torch" in total else None
    text = [
        f"## Per-op overhead: {n_ops} elementwise ops on {SIZE} floats, forward + backward",
        "",
        "Command: `python benchmarks/op_overhead.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version or 'not installed'} (2 threads). "
        f"Median of {repeat} runs, alternating between libraries in one process. The chain cycles through "
        f"{', '.join(CYCLE)}; every library's gradients are checked against the hand-written ones first. "
        "HIPS autograd traces and differentiates in one call (its forward alone is plain NumPy), so only its "
        "total is shown.",
        "",
        "| library | forward per op | backward per op | forward + backward | per op |",
        "| --- | --- | --- | --- | --- |",
        *lines,
        "",
    ]
    if ratio is not None:
        text.append(f"**chainrule / torch time ratio: {ratio:.2f}** (target <= {TARGET}; lower is faster).")
    text.append(f"chainrule / hand-written NumPy: {total['chainrule'] / total['numpy (by hand)']:.2f}.")
    if "autograd" in total:
        text.append(f"chainrule / HIPS autograd: {total['chainrule'] / total['autograd']:.2f}.")
    return with_notes("op_overhead", "\n".join(text) + "\n"), ratio


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and its result (forward + backward, chainrule / torch)."""
    import torch  # noqa: F401 - the suite compares with PyTorch: fail early when it is missing
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    n_ops = 30 if quick else N_OPS
    times = samples(repeat, n_ops)
    medians = {key: statistics.median(s) for key, s in times.items()}
    text, ratio = report(medians, torch_version(), repeat, n_ops)
    totals = {name: medians[(name, True)] for name, backward in medians if backward}
    workload = f"Per-op overhead: {n_ops}-op elementwise chain on {SIZE} floats, forward + backward"
    result = Result("op_overhead", workload, totals, ratio, TARGET, spread={name: quartiles(times[(name, True)]) for name in totals})
    return Section("op_overhead", text, [result])


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(*run(repeat), repeat)[0], argv)


if __name__ == "__main__":
    sys.exit(main())
