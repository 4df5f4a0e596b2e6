"""The benchmark suite: every benchmark in benchmarks/, chainrule against PyTorch (CPU, 2 threads) and, where
it makes sense, hand-written NumPy and HIPS autograd; BENCHMARKS.md rewritten as a whole (machine, versions,
command, a summary table of every target, each benchmark's section) and the ratios drawn as a PNG chart.

    python benchmarks/run.py --write BENCHMARKS.md        (make bench)
    python benchmarks/run.py --only op_overhead,conv      (print a subset)
    python benchmarks/run.py --quick                      (a smoke run: tiny sizes, one repetition)

Each benchmark's own script still runs alone (python benchmarks/conv.py --write BENCHMARKS.md replaces its
section only).
"""
import argparse
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
import chart  # noqa: E402
import document  # noqa: E402

# In the order of BENCHMARKS.md; each module has suite(scale, quick) -> common.Section.
BENCHMARKS = ("op_overhead", "chain_scaling", "conv", "training", "memory", "jacobian", "checkpoint")
CHART = os.path.join("docs", "images", "benchmark_ratios.png")  # relative to the repository root
REPEAT = 1.0  # each script's own default: the suite takes 3-6 minutes on 2 cores (more when they are busy)


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", metavar="FILE", help="rewrite FILE (BENCHMARKS.md) as a whole and draw the chart")
    parser.add_argument("--repeat", type=float, default=REPEAT, metavar="SCALE",
                        help="scale every benchmark's default number of repetitions (never below its minimum; "
                        f"default {REPEAT:g}: each script's own default)")
    parser.add_argument("--only", metavar="NAME,...", help=f"run only these benchmarks, of: {', '.join(BENCHMARKS)} "
                        "(with --write, the file then holds only these)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny sizes, one repetition")
    parser.add_argument("--chart", metavar="PNG", help=f"where to draw the chart (default with --write: {CHART} "
                        "in the repository)")
    args = parser.parse_args(argv)
    args.names = BENCHMARKS
    if args.only:
        args.names = tuple(n.strip() for n in args.only.split(",") if n.strip())
        unknown = [n for n in args.names if n not in BENCHMARKS]
        if unknown or not args.names:
            parser.error(f"--only: unknown benchmark {', '.join(unknown) or '(none given)'}; "
                         f"choose among {', '.join(BENCHMARKS)}")
    if args.repeat <= 0:
        parser.error("--repeat must be a positive scale (1 = each benchmark's default number of runs)")
    return args


def run_all(names, scale, quick, log=sys.stderr):
    """(sections, failures): each benchmark's Section, and name -> traceback for those that raised."""
    sections, failures = [], {}
    for name in names:
        start = time.perf_counter()
        print(f"[bench] {name} ...", file=log, flush=True)
        try:
            sections.append(importlib.import_module(name).suite(scale, quick))
        except Exception:  # one broken benchmark must not hide the others' figures
            failures[name] = traceback.format_exc()
            print(failures[name], file=log)
        print(f"[bench] {name}: {time.perf_counter() - start:.1f} s", file=log, flush=True)
    return sections, failures


def loadavg():
    """The 1-minute load average (None where the system has none): a busy machine makes noisy figures."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    start, load_start = time.perf_counter(), loadavg()
    sections, failures = run_all(args.names, args.repeat, args.quick)
    seconds = time.perf_counter() - start
    loads = (load_start, loadavg()) if load_start is not None else None
    chart_path = args.chart or (os.path.join(document.ROOT, CHART) if args.write else None)
    link = None
    if chart_path:
        chart.draw([r for s in sections for r in s.results], chart_path)
        base = os.path.dirname(os.path.abspath(args.write)) if args.write else os.getcwd()
        link = os.path.relpath(os.path.abspath(chart_path), base).replace(os.sep, "/")
    text = document.document(sections, failures, argv, args.quick, seconds, link, loads)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
        print(f"[bench] wrote {args.write}" + (f" and {chart_path}" if chart_path else "") +
              f" in {seconds / 60:.1f} minutes", file=sys.stderr)
    else:
        print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
