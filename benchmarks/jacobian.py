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
from common import Result, Section, command_line, quartiles, repeats, time_once, with_notes  # noqa: E402

SHAPES = ((2000, 10), (10, 2000))  # (n inputs, m outputs)
QUICK_SHAPES = ((40, 4), (4, 40))  # the suite's --quick smoke run
DEFAULT_REPEAT, MIN_REPEAT = 20, 10
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


def samples(repeat, shapes=SHAPES):
    """{(n, m): {method: [seconds, ...]}}, after checking every method against PyTorch."""
    import torch
    torch.set_num_threads(2)
    results = {}
    for n, m in shapes:
        w, b, x = make_inputs(n, m)
        steps = methods(w, b, x)
        check(steps, steps["torch reverse-mode, vectorize=True"]())
        for step in steps.values():
            step()  # warm up
        times = {name: [] for name in steps}
        for _ in range(repeat):
            for name, step in steps.items():
                times[name].append(time_once(step))
        results[(n, m)] = times
    return results


def run(repeat, shapes=SHAPES):
    """{(n, m): {method: median seconds}}, torch version."""
    import torch
    results = samples(repeat, shapes)
    return ({shape: {name: statistics.median(s) for name, s in times.items()} for shape, times in results.items()},
            torch.__version__)


def ratios(medians):
    """(auto speed-up over the wrong mode, auto / torch's best strategy, name of torch's best)."""
    auto = medians["chainrule auto"]
    wrong = next(v for k, v in medians.items() if k.endswith("(wrong)"))
    torch_times = {k: v for k, v in medians.items() if k.startswith("torch")}
    best = min(torch_times, key=torch_times.get)
    return wrong / auto, auto / torch_times[best], best


def report(results, torch_version, repeat):
    lines = [
        "## Jacobian: tanh(W x + b) with an elementwise tail, "
        + " and ".join(f"R^{n} -> R^{m}" for n, m in results),
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
    return with_notes("jacobian", "\n".join(lines) + "\n")


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and, per shape, two results: auto's speed-up over the wrong
    mode and auto / torch's best strategy."""
    import torch
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    times = samples(repeat, QUICK_SHAPES if quick else SHAPES)
    results, found = {}, []
    for (n, m), per_method in times.items():
        medians = results[(n, m)] = {name: statistics.median(s) for name, s in per_method.items()}
        speedup, vs_torch, best = ratios(medians)
        wrong = next(k for k in medians if k.endswith("(wrong)"))
        spread = {name: quartiles(s) for name, s in per_method.items()}
        shape = f"Jacobian R^{n} -> R^{m}"
        found.append(Result(f"jacobian-{n}-{m}-auto", f"{shape}: auto vs the wrong mode",
                            {"chainrule auto": medians["chainrule auto"], wrong: medians[wrong]}, speedup,
                            TARGET_VS_WRONG, ratio_of="wrong mode / auto (speed-up)", ours="chainrule auto",
                            baseline=wrong, higher_is_better=True, spread=spread))
        found.append(Result(f"jacobian-{n}-{m}", f"{shape}: auto vs torch's best ({best.split(',')[0]})",
                            {"chainrule auto": medians["chainrule auto"], "torch": medians[best]}, vs_torch,
                            TARGET_VS_TORCH, ratio_of="chainrule / torch", ours="chainrule auto",
                            spread={"chainrule auto": spread["chainrule auto"], "torch": spread[best]}))
    return Section("jacobian", report(results, torch.__version__, repeat), found)


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(*run(repeat), repeat), argv)


if __name__ == "__main__":
    sys.exit(main())
