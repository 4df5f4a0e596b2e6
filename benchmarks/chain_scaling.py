"""Chain scaling: backward of a 100,000-op elementwise chain against a 10,000-op chain, on 16 floats.

The per-op backward time must not grow with the graph (target: the long chain's per-op time at most 1.2x the
short one's), which rules out anything quadratic or heap-heavy in the engine's walk (a dependency pass, a
priority queue over all nodes, recursion). The chain is op_overhead's (mul/add by a tensor, tanh, mul/sub by a
number, sin). Each run builds the chain's graph (forward, timed too, for information), collects garbage, then
times backward alone; the lengths and libraries (chainrule, PyTorch on 2 threads) alternate in one process.
Medians of >= 3 runs.

    python benchmarks/chain_scaling.py [--repeat 7] [--write BENCHMARKS.md]
"""
import gc
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
import chainrule  # noqa: E402
from common import Result, Section, command_line, quartiles, repeats, with_notes  # noqa: E402
from op_overhead import SIZE, chain, inputs  # noqa: E402

LENGTHS = (10_000, 100_000)  # short, long
QUICK_LENGTHS = (200, 2_000)  # the suite's --quick smoke run
TARGET = 1.2
DEFAULT_REPEAT, MIN_REPEAT = 7, 3


def per_op_times(lib, x_np, w_np, n_ops):
    """(forward seconds per op, backward seconds per op) of one chain of ``n_ops`` ops, and the gradients."""
    x = lib.tensor(x_np, requires_grad=True)
    w = lib.tensor(w_np, requires_grad=True)
    start = time.perf_counter()
    y = chain(lib, x, w, n_ops)
    forward = time.perf_counter() - start
    gc.collect()  # the forward's garbage is not collected on backward's clock
    start = time.perf_counter()
    y.backward()
    backward = time.perf_counter() - start
    return forward / n_ops, backward / n_ops, (x.grad.numpy(), w.grad.numpy())


def libraries():
    libs = {"chainrule": chainrule}
    try:
        import torch
        torch.set_num_threads(2)
        libs["torch"] = torch
    except ImportError:
        pass
    return libs


def samples(repeat, lengths=LENGTHS):
    """{(library, n_ops): [(forward per op, backward per op), ...]}, the runs alternating; chainrule's gradients
    of the short chain are checked against PyTorch's first."""
    libs = libraries()
    x_np, w_np = inputs()
    if "torch" in libs:
        ours, theirs = (per_op_times(libs[name], x_np, w_np, lengths[0])[2] for name in ("chainrule", "torch"))
        for got, expected in zip(ours, theirs):
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4, err_msg="chain gradients")
    times = {(name, n): [] for n in lengths for name in libs}
    for _ in range(repeat):
        for (name, n), s in times.items():
            s.append(per_op_times(libs[name], x_np, w_np, n)[:2])
    return times


def scaling(times, name, lengths):
    """Median backward time per op of the long chain / of the short one."""
    short, long = (statistics.median(b for _, b in times[(name, n)]) for n in lengths)
    return long / short


def report(times, repeat, lengths=LENGTHS):
    names = list(dict.fromkeys(name for name, _ in times))
    short, long = lengths
    rows = []
    for name in names:
        f = {n: statistics.median(a for a, _ in times[(name, n)]) * 1e6 for n in lengths}
        b = {n: statistics.median(b for _, b in times[(name, n)]) * 1e6 for n in lengths}
        rows.append(f"| {name} | {f[short]:.2f} µs | {f[long]:.2f} µs | {b[short]:.2f} µs | {b[long]:.2f} µs | "
                    f"**{b[long] / b[short]:.2f}** |")
    ratio = scaling(times, "chainrule", lengths)
    torch_version = sys.modules["torch"].__version__ if "torch" in sys.modules else "not installed"
    text = [
        f"## Chain scaling: backward of a {long:,}-op chain vs a {short:,}-op chain on {SIZE} floats",
        "",
        "Command: `python benchmarks/chain_scaling.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version} (2 threads). Median of {repeat} runs, lengths and "
        "libraries alternating in one process; each run builds the chain (op_overhead's cycle of six ops), "
        "collects garbage, then times backward alone. chainrule's gradients of the short chain are checked "
        "against PyTorch's first.",
        "",
        f"| library | forward per op, {short:,} ops | forward per op, {long:,} ops | backward per op, {short:,} ops | "
        f"backward per op, {long:,} ops | backward scaling |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"**chainrule: backward per op of the long chain / of the short one: {ratio:.2f}** (target <= {TARGET}: "
        "linear scaling).",
    ]
    return with_notes("chain_scaling", "\n".join(text) + "\n"), ratio


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and its result (chainrule's backward scaling)."""
    lengths = QUICK_LENGTHS if quick else LENGTHS
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    times = samples(repeat, lengths)
    text, ratio = report(times, repeat, lengths)
    short, long = (f"chainrule, {n:,} ops" for n in lengths)
    backward = {label: [b for _, b in times[("chainrule", n)]] for label, n in zip((short, long), lengths)}
    result = Result("chain_scaling", f"Backward of a {lengths[1]:,}-op chain vs a {lengths[0]:,}-op chain, per op",
                    {label: statistics.median(s) for label, s in backward.items()}, ratio, TARGET,
                    ratio_of="per-op backward time, long / short", ours=long, baseline=short,
                    spread={label: quartiles(s) for label, s in backward.items()})
    return Section("chain_scaling", text, [result])


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(samples(repeat), repeat)[0], argv)


if __name__ == "__main__":
    sys.exit(main())
