"""BENCHMARKS.md as a whole: the machine and versions, the exact command, the summary table of every target,
the chart, the suite's notes, then each benchmark's section."""
import os
import platform
import shlex
import subprocess

import numpy as np

from common import notes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{os.cpu_count()} cores" + (f" ({usable} usable)" if usable != os.cpu_count() else "")


def version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"
    except AttributeError:
        from importlib.metadata import version as installed
        return installed(module)


def blas():
    try:
        return np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # the layout of NumPy's build information changes between versions
        return "unknown BLAS"


def commit():
    """chainrule's git commit, marked when src/ or benchmarks/ differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benchmarks"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes" if dirty else "")


def command(argv):
    return shlex.join(["python", "benchmarks/run.py", *argv])


def load(loads):
    """The 1-minute load averages at the start and the end of the run, against the number of cores."""
    start, end = loads
    busy = max(start, end) > (os.cpu_count() or 1) + 0.5
    return (f"- Load average (1 min) at the start / end of the run: {start:.1f} / {end:.1f} on {os.cpu_count()} cores"
            + (": other processes competed for the cores, expect noisier figures" if busy else ""))


def header(argv, quick, seconds, loads=None):
    torch_threads = "2 threads"
    lines = [
        "# Benchmarks",
        "",
        "Generated as a whole by the benchmark suite (`make bench`); edit nothing here by hand: the notes live in "
        "`benchmarks/notes/` and the figures come from the scripts in `benchmarks/`.",
        "",
        f"- Command: `{command(argv)}` (took {seconds / 60:.1f} minutes)",
        f"- Machine: {cpu_model()}, {cores()}, {platform.system()} {platform.machine()}",
        f"- Versions: Python {platform.python_version()}, NumPy {np.__version__} ({blas()}), PyTorch "
        f"{version('torch')} (CPU, {torch_threads}), HIPS autograd {version('autograd')}, chainrule {commit()}",
    ]
    if loads:
        lines.append(load(loads))
    if quick:
        lines += ["", "**Smoke run (`--quick`): tiny sizes, one repetition. These figures mean nothing.**"]
    return "\n".join(lines) + "\n"


def quantity(value, unit):
    """Seconds or bytes, to three significant digits in a fitting unit."""
    if value is None:
        return "—"
    if unit == "B":
        return f"{value / 2 ** 20:.3g} MiB"
    scaled, name = next((value * f, n) for f, n in ((1, "s"), (1e3, "ms"), (1e6, "µs"))
                        if value * f >= 1 or n == "µs")
    return f"{scaled:.3g} {name}" if scaled < 100 else f"{scaled:.0f} {name}"


def measured(result, name):
    """A contender's median (named unless it is chainrule)."""
    if name not in result.times:
        return "—"
    return ("" if name == "chainrule" else f"{name}: ") + quantity(result.times[name], result.unit)


def spread(result):
    """Half the interquartile range of the two compared contenders' runs, in % of their medians."""
    parts = []
    for name in (result.ours, result.baseline):
        low, high = result.spread.get(name, (None, None))
        if low is not None and result.times.get(name):
            parts.append(f"±{50 * (high - low) / result.times[name]:.0f}%")
    return " / ".join(parts) or "—"


def number(ratio):
    return f"{ratio:.1e}" if ratio < 0.01 else f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.2f}"


def row(cells):
    """A Markdown table row (a | inside a cell, as in |x|, is escaped)."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def summary(sections):
    rows = []
    for section in sections:
        for r in section.results:
            others = [measured(r, name) for name in r.times if name not in (r.ours, r.baseline)]
            bound = ">=" if r.higher_is_better else "<="
            rows.append(row([r.workload, measured(r, r.ours), measured(r, r.baseline), "; ".join(others) or "—",
                             spread(r), f"**{number(r.ratio)}**", f"{r.ratio_of} {bound} {r.target:g}",
                             "met" if r.met else "**missed**"]))
    return "\n".join([
        "## Summary: every target",
        "",
        "Medians of the runs; spread: half the interquartile range of the two compared contenders' runs, in % of "
        "their medians; each ratio is of the same run's medians.",
        "",
        "| workload | chainrule | compared with | other contenders | spread | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]) + "\n"


def document(sections, failures, argv, quick, seconds, chart=None, loads=None):
    """The whole of BENCHMARKS.md; ``chart`` is the PNG's path relative to the document (or None), ``loads`` the
    load averages at the start and the end of the run (or None)."""
    parts = [header(argv, quick, seconds, loads), summary(sections)]
    if chart:
        parts.append(f"![chainrule / PyTorch per workload, with the targets]({chart})\n")
    if notes("suite"):
        parts.append(notes("suite"))
    for name, error in failures.items():
        parts.append(f"## {name}: FAILED\n\n```\n{error.rstrip()}\n```\n")
    parts += [section.text for section in sections]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)
