"""Activation checkpointing: memory and time of one training step of a deep MLP, with and without
checkpoint_sequential(segments="auto").

The model: 64 blocks of Linear(1024, 1024) + ReLU (Kaiming-normal weights, so activations keep their
scale through all 64 layers), float32, batch 256, loss = mean of the squared output. Measured:

- activation memory: the tracemalloc peak (NumPy reports its buffers to tracemalloc) of forward +
  backward, counting only what the step allocates: the parameters and their .grad buffers exist before
  tracing starts (.grad zeroed in place, as zero_grad(set_to_none=False)), so neither counts. It includes
  backward's scratch (gradients in flight, each weight gradient before it is added into .grad), which
  checkpointing does not change. Also shown: the memory still held at the end of the forward (what the
  graph keeps for backward).
- gradients: every parameter's and the input's, checkpointed vs not, as max |difference| / max |value|.
- time: median seconds of forward + backward (no tracing; .grad zeroed in place), the runs alternating.

    python benchmarks/checkpoint.py [--repeat 7] [--write BENCHMARKS.md]
"""
import os
import platform
import statistics
import sys
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chainrule  # noqa: E402
import chainrule.nn as nn  # noqa: E402
from chainrule.utils.checkpoint import auto_segments, checkpoint_sequential  # noqa: E402
from common import Result, Section, command_line, quartiles, repeats, time_once, with_notes  # noqa: E402

DEPTH, WIDTH, BATCH = 64, 1024, 256
QUICK = (16, 64, 128)  # depth, width, batch of the suite's --quick smoke run
MIB = 2 ** 20
DEFAULT_REPEAT, MIN_REPEAT = 7, 3
KEPT_TARGET, TIME_TARGET, DIFFERENCE_TARGET = 4.0, 1.5, 1e-6


def build(depth=DEPTH, width=WIDTH, batch=BATCH, seed=0):
    """The MLP (a Sequential of `depth` Linear+ReLU blocks) and an input batch."""
    chainrule.manual_seed(seed)
    blocks = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        blocks.append(nn.Sequential(linear, nn.ReLU()))
    return nn.Sequential(*blocks), chainrule.randn(batch, width, requires_grad=True)


def runs(model):
    """The two ways to run the forward."""
    return {"plain": model,
            "checkpoint_sequential(auto)": lambda x: checkpoint_sequential(model, "auto", x, use_reentrant=False),
            "checkpoint_sequential(auto), reentrant": lambda x: checkpoint_sequential(model, "auto", x,
                                                                                       use_reentrant=True)}


def step(forward, x):
    forward(x).pow(2).mean().backward()


def gradients(model, x, forward):
    model.zero_grad(set_to_none=True)
    x.grad = None
    step(forward, x)
    return [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()]


def max_relative_difference(got, expected):
    return max(float(np.abs(g - e).max() / max(np.abs(e).max(), np.finfo(e.dtype).tiny))
               for g, e in zip(got, expected))


def memory(model, x, forward):
    """(bytes held at the end of the forward, peak bytes of forward + backward), beyond parameters and grads."""
    for t in list(model.parameters()) + [x]:
        if t.grad is not None:
            t.grad.zero_()  # the buffers exist (see gradients()): backward adds into them
    tracemalloc.start()
    try:
        out = forward(x)
        kept = tracemalloc.get_traced_memory()[0]
        out.pow(2).mean().backward()
        del out
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return kept, peak


def run(repeat, depth=DEPTH, width=WIDTH, batch=BATCH):
    model, x = build(depth, width, batch)
    forwards = runs(model)
    reference = gradients(model, x, forwards["plain"])
    results = {}
    for name, forward in forwards.items():
        results[name] = {"difference": max_relative_difference(gradients(model, x, forward), reference),
                         "memory": memory(model, x, forward), "times": []}
    for _ in range(repeat):
        for name, forward in forwards.items():
            model.zero_grad(set_to_none=False)  # in place: no fresh 256 MiB of .grad (page faults) per step
            results[name]["times"].append(time_once(lambda: step(forward, x)))
    for r in results.values():
        r["time"] = statistics.median(r["times"])
    return results


def report(results, repeat, depth=DEPTH, width=WIDTH, batch=BATCH):
    plain = results["plain"]
    k = auto_segments(depth)
    act = batch * width * 4
    lines = []
    for name, r in results.items():
        kept, peak = r["memory"]
        lines.append(f"| {name} | {kept / MIB:.1f} MiB ({kept / act:.0f} activations) | {peak / MIB:.1f} MiB | "
                     f"{plain['memory'][1] / peak:.2f}x | {r['time']:.3f} s | {r['time'] / plain['time']:.2f}x | "
                     f"{r['difference']:.1e} |")
    auto = results["checkpoint_sequential(auto)"]
    text = [
        f"## Activation checkpointing: {depth}-layer MLP, width {width}, batch {batch}, float32",
        "",
        "Command: `python benchmarks/checkpoint.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}. {depth} blocks of Linear({width}, {width}) + ReLU; segments=\"auto\" = "
        f"round(sqrt({depth})) = {k}, the last segment not checkpointed (as PyTorch). Memory: tracemalloc, "
        "counting only what the step allocates (parameters and their .grad buffers exist before; backward adds "
        f"into them); one activation is {act / MIB:.0f} MiB. Time: median of {repeat} forward + backward "
        "steps, alternating. Gradients: max |difference| / max |value| against the plain run, over the input "
        "and every parameter.",
        "",
        "| run | kept after forward | peak, forward + backward | peak reduction | time | time ratio "
        "| gradient difference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *lines,
        "",
        f"**Activations held for backward {plain['memory'][0] / auto['memory'][0]:.2f}x fewer "
        f"({plain['memory'][0] / act:.0f} -> {auto['memory'][0] / act:.0f}; the recomputation in backward holds at "
        f"most as many), peak of forward + backward including backward's scratch "
        f"{plain['memory'][1] / auto['memory'][1]:.2f}x lower, time {auto['time'] / plain['time']:.2f}x, "
        f"gradients equal to {auto['difference']:.0e}** (targets: >= {KEPT_TARGET:.0f}x, < {TIME_TARGET}x, "
        f"{DIFFERENCE_TARGET:.0e}).",
        "",
        f"Why the peak ratio is below the kept ratio: backward's scratch (the incoming and outgoing gradients, "
        f"a {width}x{width} weight gradient of {width * width * 4 / MIB:.0f} MiB computed before it is added into "
        f".grad) is the same with or without checkpointing, about {(plain['memory'][1] - plain['memory'][0]) / act:.0f}"
        f" activations here, on top of the {k - 1} segment inputs and {depth - (k - 1) * (depth // k)} layer "
        "outputs that sqrt(n) checkpointing holds; it weighs less with a larger batch or a deeper net (the "
        "test uses 144 layers, width 32, batch 256: above 4x).",
    ]
    return with_notes("checkpoint", "\n".join(text) + "\n")


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and its three results (activations kept, time, gradients),
    checkpoint_sequential(auto) against the plain run."""
    sizes = QUICK if quick else (DEPTH, WIDTH, BATCH)
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    results = run(repeat, *sizes)
    plain, auto, name = results["plain"], results["checkpoint_sequential(auto)"], "checkpoint_sequential(auto)"
    model = f"Checkpointing, {sizes[0]}-layer MLP, width {sizes[1]}, batch {sizes[2]}"
    found = [
        Result("checkpoint-kept", f"{model}: activations kept for backward",
               {name: auto["memory"][0], "plain": plain["memory"][0]}, plain["memory"][0] / auto["memory"][0],
               KEPT_TARGET, ratio_of="plain / checkpointed (memory)", ours=name, baseline="plain",
               higher_is_better=True, unit="B"),
        Result("checkpoint-time", f"{model}: forward + backward time", {name: auto["time"], "plain": plain["time"]},
               auto["time"] / plain["time"], TIME_TARGET, ratio_of="checkpointed / plain (time)", ours=name,
               baseline="plain", spread={name: quartiles(auto["times"]), "plain": quartiles(plain["times"])}),
        Result("checkpoint-gradients", f"{model}: gradients vs the plain run", {}, auto["difference"],
               DIFFERENCE_TARGET, ratio_of="max |difference| / max |value|", ours=name, baseline="plain"),
    ]
    return Section("checkpoint", report(results, repeat, *sizes), found)


def main(argv=None):
    return command_line(__doc__, DEFAULT_REPEAT, MIN_REPEAT, lambda repeat: report(run(repeat), repeat), argv)


if __name__ == "__main__":
    sys.exit(main())
