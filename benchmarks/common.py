"""What the benchmark scripts share: timing one call, the structured result each benchmark returns to the
suite (benchmarks/run.py), the hand-written notes kept beside the code, their command line, and writing their
section of BENCHMARKS.md (each script owns the section that starts with its heading)."""
import argparse
import dataclasses
import os
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NOTES = os.path.join(HERE, "notes")


def time_once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeats(default, minimum, scale=1.0, quick=False):
    """How many repetitions a benchmark runs: its default scaled by --repeat (never below its minimum, as
    medians of fewer runs are too noisy to quote), or 1 in a --quick smoke run."""
    return 1 if quick else max(minimum, round(default * scale))


@dataclasses.dataclass
class Result:
    """One target of one benchmark: the measured values per contender (medians: seconds, or bytes with
    ``unit="B"``), the ratio the target is about (``ratio_of`` says which, e.g. "chainrule / torch"), and the
    target itself (an upper bound, or a lower bound with ``higher_is_better``). ``ours`` and ``baseline`` name
    the two contenders of ``times`` that the ratio compares (for the summary table and the chart)."""
    key: str
    workload: str
    times: dict
    ratio: float
    target: float
    ratio_of: str = "chainrule / torch"
    ours: str = "chainrule"
    baseline: str = "torch"
    higher_is_better: bool = False
    unit: str = "s"
    spread: dict = dataclasses.field(default_factory=dict)  # contender -> (25th, 75th percentile)

    @property
    def met(self):
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    @property
    def against_torch(self):
        """A chainrule / torch ratio (drawn in the chart)."""
        return self.baseline == "torch" and self.ratio_of.startswith("chainrule / torch")


@dataclasses.dataclass
class Section:
    """What one benchmark returns to the suite: its name (the script's), its BENCHMARKS.md section (notes
    included) and its results."""
    name: str
    text: str
    results: list


def quartiles(samples):
    """(25th, 75th percentile) of the samples (both the sample itself when there is only one)."""
    if len(samples) < 2:
        return (samples[0], samples[0])
    q = statistics.quantiles(samples, n=4)
    return (q[0], q[2])


def notes(name):
    """The hand-written notes of benchmark ``name`` (benchmarks/notes/NAME.md), or "" if it has none: kept in
    files of their own so that regenerating BENCHMARKS.md never loses them."""
    path = os.path.join(NOTES, f"{name}.md")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read().strip() + "\n"


def with_notes(name, text):
    """A generated section followed by its hand-written notes."""
    extra = notes(name)
    return text.rstrip("\n") + "\n\n" + extra if extra else text


def command_line(doc, default_repeat, min_repeat, measure, argv=None):
    """``--repeat N --write FILE``: run ``measure(repeat)`` (returns the section's text), print it, and
    write it into FILE if asked."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=default_repeat)
    parser.add_argument("--write", metavar="FILE", help="replace this benchmark's section of FILE (BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.repeat < min_repeat:
        parser.error(f"--repeat must be at least {min_repeat} (medians of fewer runs are too noisy to quote)")
    text = measure(args.repeat)
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
