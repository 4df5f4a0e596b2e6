"""What the benchmark scripts share: timing one call, their command line, and writing their section of
BENCHMARKS.md (each script owns the section that starts with its heading)."""
import argparse
import os
import time


def time_once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
