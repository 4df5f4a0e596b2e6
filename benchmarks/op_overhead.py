"""Per-op overhead: a chain of 300 elementwise ops on 16 floats, forward + backward.

Small tensors make the arithmetic negligible, so this measures what a framework adds per op: graph
recording, node creation, the backward walk. chainrule, PyTorch (CPU, 2 threads) and hand-written
NumPy (forward + hand-derived backward, the floor for any NumPy-based engine) run in the same process,
alternating, and the medians of >= 30 repetitions are compared.

    python benchmarks/op_overhead.py [--repeat 50] [--write BENCHMARKS.md]
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
import chainrule  # noqa: E402

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


def numpy_chain(x, w):
    """The same function and its gradient w.r.t. x and w, by hand: no framework at all."""
    values, y = [], x
    for i in range(N_OPS):
        values.append(y)
        y = STEPS[CYCLE[i % len(CYCLE)]](np, y, x, w)
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
    return y.sum(), gx, gw


def time_once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(repeat):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(SIZE).astype(np.float32)
    w_np = (0.5 + 0.1 * rng.standard_normal(SIZE)).astype(np.float32)

    def chainrule_step():
        x = chainrule.tensor(x_np, requires_grad=True)
        w = chainrule.tensor(w_np, requires_grad=True)
        chain(chainrule, x, w).backward()
        return x.grad, w.grad

    def numpy_step():
        return numpy_chain(x_np, w_np)[1:]

    runners = {"chainrule": chainrule_step, "numpy (by hand)": numpy_step}
    for ours, by_hand in zip(chainrule_step(), numpy_step()):  # all three compute the same gradients
        np.testing.assert_allclose(ours.numpy(), by_hand, rtol=1e-3, atol=1e-4)
    try:
        import torch
        torch.set_num_threads(2)

        def torch_step():
            x = torch.tensor(x_np, requires_grad=True)
            w = torch.tensor(w_np, requires_grad=True)
            chain(torch, x, w).backward()
            return x.grad, w.grad

        runners["torch"] = torch_step
        check = [g.numpy() for g in torch_step()]
        ours = [g.numpy() for g in chainrule_step()]
        for a, b in zip(ours, check):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    for fn in runners.values():  # warm up
        for _ in range(3):
            fn()
    times = {name: [] for name in runners}
    for _ in range(repeat):
        for name, fn in runners.items():
            times[name].append(time_once(fn))
    medians = {name: statistics.median(t) for name, t in times.items()}
    return medians, torch_version


def report(medians, torch_version, repeat):
    per_op = {name: m / N_OPS * 1e6 for name, m in medians.items()}
    lines = [f"| {name} | {medians[name] * 1e3:.2f} ms | {per_op[name]:.2f} µs |" for name in medians]
    ratio = medians["chainrule"] / medians["torch"] if "torch" in medians else None
    numpy_ratio = medians["chainrule"] / medians["numpy (by hand)"]
    text = [
        "## Per-op overhead: 300 elementwise ops on 16 floats, forward + backward",
        "",
        "Command: `python benchmarks/op_overhead.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version or 'not installed'} (2 threads). "
        f"Median of {repeat} runs, alternating between libraries in one process.",
        "",
        "| library | forward + backward | per op |",
        "| --- | --- | --- |",
        *lines,
        "",
    ]
    if ratio is not None:
        text.append(f"**chainrule / torch time ratio: {ratio:.2f}** (target <= 0.6; lower is faster).")
    text.append(f"chainrule / hand-written NumPy: {numpy_ratio:.2f}.")
    return "\n".join(text) + "\n", ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--write", metavar="FILE", help="replace this benchmark's section of FILE (BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.repeat < 30:
        parser.error("--repeat must be at least 30 (medians of fewer runs are too noisy to quote)")
    medians, torch_version = run(args.repeat)
    text, ratio = report(medians, torch_version, args.repeat)
    print(text)
    if args.write:
        write_section(args.write, text)
    return 0


def write_section(path, text):
    """Replace the section that starts with this benchmark's heading, keeping the rest of the file."""
    heading = text.splitlines()[0]
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    if heading in old:
        start = old.index(heading)
        end = old.find("\n## ", start + 1)
        old = old[:start] + old[end + 1:] if end != -1 else old[:start]
    with open(path, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    sys.exit(main())
