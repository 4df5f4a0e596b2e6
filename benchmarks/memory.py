"""Peak memory: ResNet-18 forward + backward on 16x3x64x64 (float32, training mode, cross-entropy over 1000
classes), chainrule against PyTorch (CPU, 2 threads).

Both libraries are measured the same way, each in a fresh process of its own: build the model (chainrule's
seeded weights, as benchmarks/training.py) and the data, run a tiny warm-up network once (so lazily created
thread pools and kernels are not counted), collect garbage, give the C heap's free pages back to the system
(glibc's malloc_trim: what building the model freed would otherwise be reused without showing), read the
resident set size (VmRSS in /proc/self/status) as the baseline, reset the peak (writing 5 to /proc/self/clear_refs resets VmHWM), run one
forward + backward, and read the peak (VmHWM). Reported: peak minus baseline, which counts the activations kept
for backward, backward's scratch and the new .grad buffers. Where the peak cannot be reset, the process's peak
since start is used (ru_maxrss), which can only overstate. The medians of >= 3 processes per library are
compared (the two libraries' processes of a round run side by side: memory does not depend on timing). Linux
only (/proc).

    python benchmarks/memory.py [--repeat 3] [--write BENCHMARKS.md]
    python benchmarks/memory.py --child chainrule|torch [--batch 16 --image 64 --classes 1000]
        (one measurement, printed as JSON)
"""
import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
from common import Result, Section, repeats, with_notes, write_section  # noqa: E402

BATCH, IMAGE, CLASSES = 16, 64, 1000
QUICK = {"batch": 2, "image": 32, "classes": 10}  # the suite's --quick smoke run
FULL = {"batch": BATCH, "image": IMAGE, "classes": CLASSES}
TARGET = 1.5
DEFAULT_REPEAT, MIN_REPEAT = 3, 3
MIB = 2 ** 20


# ------------------------------------------------------------------------------------ in the child process
def status_bytes(field):
    """A memory field (VmRSS, VmHWM) of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"memory benchmark: no {field} in /proc/self/status (Linux only)")


def reset_peak():
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def release_free_memory():
    """Give the C heap's free pages back to the system (glibc's malloc_trim), so that the baseline counts only
    memory in use: otherwise whatever building the model freed (the copies of the weights) stays resident and
    is reused by the step without raising the peak, by a different amount in each library."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


def warm_up(lib):
    """A tiny network with every kind of layer ResNet-18 has, run forward + backward once."""
    nn = lib.nn
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 3))
    x = lib.tensor(__import__("numpy").ones((2, 3, 8, 8), dtype="float32"))
    lib.nn.functional.cross_entropy(net(x), lib.tensor([0, 2])).backward()


def measure(library, batch, image, classes):
    """One forward + backward in this process: {"peak": bytes above the baseline, "baseline": bytes, "reset": bool}."""
    import training
    torch = None
    if library == "torch":
        import torch
        torch.set_num_threads(2)
    model = training.model_pair(torch, "resnet18", num_classes=classes)[library]
    x, y = training.make_data("resnet18", batch, classes=classes, image=image)
    step = training.resnet_step(torch if library == "torch" else training.chainrule, model, x, y)
    warm_up(torch if library == "torch" else training.chainrule)
    gc.collect()
    trimmed = release_free_memory()
    baseline = status_bytes("VmRSS")
    reset = reset_peak()
    loss = step()
    peak = status_bytes("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak": peak - baseline, "baseline": baseline, "reset": reset, "trimmed": trimmed,
            "loss": float(loss.item())}


# ----------------------------------------------------------------------------------- in the parent process
def command(library, sizes):
    return [sys.executable, os.path.abspath(__file__), "--child", library, *(f"--{k}={v}" for k, v in sizes.items())]


def samples(repeat, sizes=FULL, libraries=("chainrule", "torch")):
    """{library: [measurement, ...]}, one fresh process per measurement. A process's memory does not depend on
    what runs beside it, so each round runs one process per library at the same time."""
    results = {name: [] for name in libraries}
    for _ in range(repeat):
        running = {name: subprocess.Popen(command(name, sizes), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True) for name in libraries}
        for name, process in running.items():
            out, err = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"memory benchmark: the {name} process failed:\n{err[-2000:]}")
            results[name].append(json.loads(out.strip().splitlines()[-1]))
    losses = {name: r[0]["loss"] for name, r in results.items()}
    if len(losses) == 2:  # the same step: the same loss
        a, b = losses.values()
        assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), f"memory benchmark: losses differ: {losses}"
    return results


def report(results, repeat, sizes=FULL):
    peaks = {name: statistics.median(r["peak"] for r in runs) for name, runs in results.items()}
    rows = [f"| {name} | {peaks[name] / MIB:.1f} MiB | {min(r['peak'] for r in runs) / MIB:.1f} - "
            f"{max(r['peak'] for r in runs) / MIB:.1f} MiB | "
            f"{statistics.median(r['baseline'] for r in runs) / MIB:.0f} MiB |" for name, runs in results.items()]
    ratio = peaks["chainrule"] / peaks["torch"]
    reset = all(r["reset"] for runs in results.values() for r in runs)
    b, i = sizes["batch"], sizes["image"]
    text = [
        f"## Peak memory: ResNet-18 forward + backward, {b}x3x{i}x{i}",
        "",
        "Command: `python benchmarks/memory.py --repeat %d --write BENCHMARKS.md`" % repeat,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. Each "
        f"measurement in a fresh process of its own ({repeat} per library, side by side), both libraries measured "
        "the same way: the model (chainrule's seeded weights in both), the data and a tiny warm-up network are "
        "built and run first, garbage collected and the C heap's free pages returned (malloc_trim); then the peak "
        "resident set size of one forward + backward (training mode, "
        f"cross-entropy over {sizes['classes']} classes, new .grad buffers included) minus the resident set size "
        "just before it "
        + ("(VmHWM reset through /proc/self/clear_refs, VmRSS)." if reset else
           "(this kernel refused to reset the peak: the process's peak since start, which can only overstate)."),
        "",
        "| library | peak above baseline (median) | range | baseline (model, data, libraries) |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        f"**chainrule / torch peak memory: {ratio:.2f}** (target <= {TARGET}; lower is leaner).",
    ]
    return with_notes("memory", "\n".join(text) + "\n"), ratio, peaks


def suite(scale=1.0, quick=False):
    """The suite's entry: this benchmark's section and its result (peak memory, chainrule / torch)."""
    sizes = QUICK if quick else FULL
    repeat = repeats(DEFAULT_REPEAT, MIN_REPEAT, scale, quick)
    results = samples(repeat, sizes)
    text, ratio, peaks = report(results, repeat, sizes)
    b, i = sizes["batch"], sizes["image"]
    result = Result("memory", f"Peak memory, ResNet-18 {b}x3x{i}x{i} forward + backward", peaks, ratio, TARGET,
                    ratio_of="chainrule / torch (memory)", unit="B")
    return Section("memory", text, [result])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--write", metavar="FILE", help="replace this benchmark's section of FILE (BENCHMARKS.md)")
    parser.add_argument("--child", choices=("chainrule", "torch"), help=argparse.SUPPRESS)
    for key, value in FULL.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    args = parser.parse_args(argv)
    sizes = {key: getattr(args, key) for key in FULL}
    if args.child:
        print(json.dumps(measure(args.child, **sizes)))
        return 0
    if args.repeat < MIN_REPEAT:
        parser.error(f"--repeat must be at least {MIN_REPEAT} (medians of fewer runs are too noisy to quote)")
    text = report(samples(args.repeat, sizes), args.repeat, sizes)[0]
    print(text)
    if args.write:
        write_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
