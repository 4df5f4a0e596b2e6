"""benchmarks/run.py, the benchmark suite: a --quick smoke run (tiny sizes, one repetition) writes a whole
BENCHMARKS.md (machine, versions, command, the summary table, every benchmark's section, the hand-written notes)
and the PNG chart, and every benchmark returns sane structured results. No timing is asserted: machines are
noisy, and --quick figures mean nothing."""
import math
import pathlib
import sys

import pytest

pytest.importorskip("torch")  # the suite compares with PyTorch
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # vmap

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import chart  # noqa: E402
import common  # noqa: E402
import document  # noqa: E402
import run  # noqa: E402

HEADINGS = {  # the first words of each benchmark's section heading
    "op_overhead": "## Per-op overhead: ", "chain_scaling": "## Chain scaling: ", "conv": "## Convolution: ",
    "training": "## Training: ", "memory": "## Peak memory: ", "jacobian": "## Jacobian: ",
    "checkpoint": "## Activation checkpointing: ",
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One --quick run of the whole suite through its command line; (exit code, text, chart, sections)."""
    folder = tmp_path_factory.mktemp("bench")
    path, png = folder / "BENCHMARKS.md", folder / "images" / "ratios.png"
    captured, original = {}, run.run_all

    def spy(*args, **kwargs):
        captured["sections"], captured["failures"] = original(*args, **kwargs)
        return captured["sections"], captured["failures"]

    run.run_all = spy
    try:
        code = run.main(["--quick", "--write", str(path), "--chart", str(png)])
    finally:
        run.run_all = original
    assert captured["failures"] == {}, captured["failures"]
    return code, path.read_text(), png, captured["sections"]


def test_quick_run_writes_every_section_the_summary_and_the_header(quick_run):
    code, text, png, sections = quick_run
    assert code == 0
    assert text.startswith("# Benchmarks\n")
    assert [s.name for s in sections] == list(run.BENCHMARKS) == list(HEADINGS)
    positions = [text.index("\n" + HEADINGS[name]) for name in run.BENCHMARKS]
    assert positions == sorted(positions)  # in the suite's order, each once
    assert all(text.count("\n" + heading) == 1 for heading in HEADINGS.values())
    assert "Command: `python benchmarks/run.py --quick --write " in text
    assert "- Machine: " in text and " cores" in text
    for name in ("Python ", "NumPy ", "PyTorch ", "HIPS autograd ", "chainrule "):
        assert name in text.split("## Summary")[0], name
    assert "Smoke run (`--quick`)" in text
    assert "- Load average (1 min) at the start / end of the run: " in text
    assert "](images/ratios.png)" in text  # the chart, linked relative to the document
    # the hand-written notes survive the rewrite
    assert (BENCHMARKS / "notes" / "op_overhead.md").read_text().strip().splitlines()[-1] in text
    assert "What made these fast" in text


def test_summary_table_has_one_row_per_target(quick_run):
    _, text, _, sections = quick_run
    summary = text.split("## Summary: every target")[1].split("\n## ")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and not line.startswith("| workload")]
    results = [r for s in sections for r in s.results]
    assert len(rows) == len(results) + 1  # and the separator row
    for r in results:
        line = next(line for line in rows if line.startswith(f"| {r.workload} |"))
        assert line.count(" | ") == 7  # 8 cells: no stray | inside a cell
        assert line.endswith("| met |") == r.met and line.endswith("| **missed** |") != r.met
    targets = {r.key: r.target for r in results}
    assert targets["op_overhead"] == 0.6 and targets["chain_scaling"] == 1.2 and targets["conv"] == 2.0
    assert targets["mlp"] == 1.1 and targets["resnet18-1"] == 1.5 and targets["resnet18-2"] == 2.0
    assert targets["memory"] == 1.5


def test_chart_is_a_png(quick_run):
    _, _, png, _ = quick_run
    assert png.read_bytes()[:8] == PNG


def test_every_result_is_sane(quick_run):
    _, _, _, sections = quick_run
    for section in sections:
        assert section.text.startswith(HEADINGS[section.name]) and section.results
        for r in section.results:
            assert isinstance(r, common.Result) and isinstance(r.met, bool)
            assert math.isfinite(r.ratio) and r.ratio >= 0 and r.target > 0, r
            assert all(v > 0 and math.isfinite(v) for v in r.times.values()), r
            if r.times:
                assert r.ours in r.times and r.baseline in r.times, r
            for low, high in r.spread.values():
                assert 0 < low <= high
    against_torch = {r.key for s in sections for r in s.results if r.against_torch}
    assert {"op_overhead", "conv", "mlp", "resnet18-1", "resnet18-2", "memory"} <= against_torch
    contenders = next(r for s in sections for r in s.results if r.key == "mlp").times
    assert {"chainrule", "torch", "numpy (by hand)"} <= set(contenders)


def test_chain_scaling_returns_per_op_times_of_both_lengths():
    import chain_scaling
    times = chain_scaling.samples(2, lengths=(30, 300))
    assert set(times) == {(name, n) for name in ("chainrule", "torch") for n in (30, 300)}
    for runs in times.values():
        assert len(runs) == 2 and all(f > 0 and b > 0 for f, b in runs)
    ratio = chain_scaling.scaling(times, "chainrule", (30, 300))
    assert ratio > 0
    text, reported = chain_scaling.report(times, 2, (30, 300))
    assert reported == ratio and text.startswith("## Chain scaling: backward of a 300-op chain vs a 30-op chain")


def test_memory_measures_both_libraries_the_same_way(quick_run):
    _, text, _, sections = quick_run
    (result,) = next(s for s in sections if s.name == "memory").results
    assert result.unit == "B" and set(result.times) == {"chainrule", "torch"}
    for name, peak in result.times.items():
        # at least the new .grad buffers of ResNet-18's 11 million float32 parameters
        assert peak > 11e6 * 4 * 0.9, (name, peak)
    assert result.ratio == pytest.approx(result.times["chainrule"] / result.times["torch"])
    assert "## Peak memory: ResNet-18 forward + backward, 2x3x32x32" in text
    assert "(VmHWM reset through /proc/self/clear_refs, VmRSS)" in text or "refused to reset the peak" in text


def test_only_runs_a_subset_and_rejects_unknown_names(capsys):
    assert run.main(["--quick", "--only", "jacobian"]) == 0
    out = capsys.readouterr().out
    assert HEADINGS["jacobian"] in out and HEADINGS["conv"] not in out and "## Summary: every target" in out
    with pytest.raises(SystemExit):
        run.main(["--only", "jacobian,nonsense"])
    assert "unknown benchmark nonsense" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run.main(["--repeat", "0"])


def _result(key, ratio, target, **kw):
    return common.Result(key, f"workload {key}", {"chainrule": 0.002, "torch": 0.001}, ratio, target, **kw)


def test_document_and_chart_from_given_results(tmp_path):
    spread = {"chainrule": (0.0019, 0.0023), "torch": (0.001, 0.001)}
    sections = [common.Section("a", "## A\n\nfigures\n", [_result("a", 2.0, 1.5, spread=spread),
                                                          _result("b", 0.5, 0.6)]),
                common.Section("c", "## C\n", [common.Result("c", "gradients", {}, 0.0, 1e-6,
                                                             ratio_of="max |difference| / max |value|")])]
    text = document.document(sections, {"broken": "Traceback: boom\n"}, ["--write", "X.md"], False, 90.0, "x.png")
    assert "`python benchmarks/run.py --write X.md` (took 1.5 minutes)" in text
    assert ("| workload a | 2 ms | torch: 1 ms | — | ±10% / ±0% | **2.00** | chainrule / torch <= 1.5 | **missed** |"
            in text)
    assert "| workload b | 2 ms | torch: 1 ms | — | — | **0.50** | chainrule / torch <= 0.6 | met |" in text
    assert "max \\|difference\\| / max \\|value\\| <= 1e-06 | met |" in text
    assert "## broken: FAILED" in text and "Traceback: boom" in text
    assert "![chainrule / PyTorch per workload, with the targets](x.png)" in text
    assert "Smoke run" not in text
    png = tmp_path / "chart.png"
    assert chart.draw([r for s in sections for r in s.results], str(png)) == str(png)
    assert png.read_bytes()[:8] == PNG
