"""Jacobians: f(x) = t * sigmoid(t) + 0.1 t with t = tanh(W x + b), f: R^n -> R^m, for (n, m) = (2000, 10)
and (10, 2000).

One layer of a network with an elementwise tail, the same function in both libraries (fixed W and b). A full
Jacobian costs about m backward passes in reverse mode and about n forward-mode passes in forward mode, so
picking the mode by the shape matters: this compares

- chainrule `autograd.functional.jacobian(f, x)` (mode="auto": picks by the numbers of elements),
- chainrule with the other mode forced (the "wrong" one for the shape),
- PyTorch `torch.autograd.functional.jacobian(f, x, vectorize=True, strategy=...)` with whichever of
  "reverse-mode" and "forward-mode" is faster for the shape (both are timed; the best is compared with),

in the same process (CPU, PyTorch on 2 threads), alternating between methods, after checking that every
method computes the same Jacobian as PyTorch. Medians of >= 10 repetitions.

    python benchmarks/jacobian.py [--repeat 20] [--write BENCHMARKS.md]
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
from common import command_line, time_once  # noqa: E402

SHAPES = ((2000, 10), (10, 2000))  # (n inputs, m outputs)
TARGET_VS_WRONG = 5.0    # auto must be at least this many times faster than the wrong mode
TARGET_VS_TORCH = 1.5    # and at most this many times slower than PyTorch's best


def make_inputs(n, m, seed=0):
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((m, n)) / np.sqrt(n)).astype(np.float32)
    b = (0.1 * rng.standard_normal(m)).astype(np.float32)
    x = rng.standard_normal(n).astype(np.float32)
    return w, b, x


def make_function(lib, w_np, b_np):
    """f(x) = t * sigmoid(t) + 0.1 t, t = tanh(W x + b): written once for any library with PyTorch's API."""
    w, b = lib.tensor(w_np), lib.tensor(b_np)

    def f(x):
        t = lib.tanh(w @ x + b)
        return t * lib.sigmoid(t) + 0.1 * t

    return f


def methods(w_np, b_np, x_np, with_torch=True):
    """name -> zero-argument function returning the Jacobian as an array."""
    n, m = x_np.size, b_np.size
    wrong = "forward" if n >= m else "reverse"
    f = make_function(chainrule, w_np, b_np)
    x = chainrule.tensor(x_np)
    jac = chainrule.autograd.functional.jacobian
    result = {
        "chainrule auto": lambda: jac(f, x).numpy(),
        f"chainrule {wrong} mode (wrong)": lambda: jac(f, x, mode=wrong).numpy(),
    }
    if with_torch:
        import torch
        tf = make_function(torch, w_np, b_np)
        tx = torch.tensor(x_np)
        for strategy in ("reverse-mode", "forward-mode"):
            result[f"torch {strategy}, vectorize=True"] = (
                lambda s=strategy: torch.autograd.functional.jacobian(tf, tx, vectorize=True, strategy=s).numpy())
    return result


def check(steps, reference):
    """Every method computes the reference Jacobian (float32: rtol 1e-4)."""
    for name, step in steps.items():
        got = step()
        assert got.shape == reference.shape, f"{name}: shape {got.shape}, expected {reference.shape}"
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-6, err_msg=name)


def run(repeat):
    """{(n, m): {method: median seconds}}, torch version."""
    import torch
    torch.set_num_threads(2)
    results = {}
    for n, m in SHAPES:
        w, b, x = make_inputs(n, m)
        steps = methods(w, b, x)
        check(steps, steps["torch reverse-mode, vectorize=True"]())
        for step in steps.values():
            step()  # warm up
        samples = {name: [] for name in steps}
        for _ in range(repeat):
            for name, step in steps.items():
                samples[name].append(time_once(step))
        results[(n, m)] = {name: statistics.median(s) for name, s in samples.items()}
    return results, torch.__version__


def ratios(medians):
    """(auto speed-up over the wrong mode, auto / torch's best strategy, name of torch's best)."""
    auto = medians["chainrule auto"]
    wrong = next(v for k, v in medians.items() if k.endswith("(wrong)"))
    torch_times = {k: v for k, v in medians.items() if k.startswith("torch")}
    best = min(torch_times, key=torch_times.get)
    return wrong / auto, auto / torch_times[best], best


def report(results, torch_version, repeat):
    lines = [
        "## Jacobian: tanh(W x + b) with an elementwise tail, R^2000 -> R^10 and R^10 -> R^2000",
        "",
        "Command: `python benchmarks/jacobian.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, PyTorch {torch_version} (2 threads). Median of {repeat} runs, alternating "
        "between methods in one process, float32; every method's Jacobian is checked against PyTorch's first. "
        "f(x) = t * sigmoid(t) + 0.1 t, t = tanh(W x + b). chainrule's auto mode evaluates f once, then takes "
        "reverse mode (one backward pass per output element, all through that one graph) when the inputs have "
        "at least as many elements as the outputs, forward mode (one forward-mode pass per input element) "
        "otherwise. PyTorch runs `vectorize=True` (one batched pass through vmap) with each strategy.",
        "",
    ]
    summary = []
    for (n, m), medians in results.items():
        lines += [f"**n = {n} inputs, m = {m} outputs**", "", "| method | median |", "| --- | --- |"]
        lines += [f"| {name} | {seconds * 1e3:.2f} ms |" for name, seconds in medians.items()]
        speedup, vs_torch, best = ratios(medians)
        lines.append("")
        summary.append(f"- n = {n}, m = {m}: **auto is {speedup:.0f}x faster than the wrong mode** (target >= "
                       f"{TARGET_VS_WRONG:.0f}x); **auto / torch's best ({best}): {vs_torch:.2f}** (target <= "
                       f"{TARGET_VS_TORCH}; lower is faster).")
    lines += summary
    return "\n".join(lines) + "\n"


def main(argv=None):
    return command_line(__doc__, 20, 10, lambda repeat: report(*run(repeat), repeat), argv)


if __name__ == "__main__":
    sys.exit(main())
