"""benchmarks/checkpoint.py stays runnable and honest at a small size: the checkpointed runs compute the
plain run's gradients, keep less memory, and the report is well formed. (No timing is asserted.)"""
import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "checkpoint.py"
_SPEC = importlib.util.spec_from_file_location("checkpoint_benchmark", _PATH)
checkpoint_benchmark = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(checkpoint_benchmark)


def test_small_run_gradients_memory_and_report(tmp_path):
    depth, width, batch = 16, 64, 128
    results = checkpoint_benchmark.run(1, depth, width, batch)
    assert set(results) == {"plain", "checkpoint_sequential(auto)", "checkpoint_sequential(auto), reentrant"}
    plain = results["plain"]
    assert plain["memory"][0] >= depth * batch * width * 4  # every layer's output kept
    for name, r in results.items():
        assert r["difference"] <= 1e-6, name
        assert len(r["times"]) == 1 and r["time"] > 0
        if name != "plain":
            assert r["memory"][0] < plain["memory"][0] / 2  # 4 segments: 3 inputs + 4 outputs kept, not 16
            assert r["memory"][1] < plain["memory"][1]
    text = checkpoint_benchmark.report(results, 1, depth, width, batch)
    assert text.startswith("## Activation checkpointing: 16-layer MLP, width 64, batch 128, float32\n")
    assert "`python benchmarks/checkpoint.py --repeat 1 --write BENCHMARKS.md`" in text
    assert text.count("\n| ") == 5  # header, separator and three runs


def test_write_replaces_its_section(tmp_path, monkeypatch):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    small = checkpoint_benchmark.run
    monkeypatch.setattr(checkpoint_benchmark, "run", lambda repeat: small(repeat, 4, 8, 4))
    monkeypatch.setattr(checkpoint_benchmark, "report",
                        lambda results, repeat: "## Activation checkpointing: small\n\nfigures\n")
    assert checkpoint_benchmark.main(["--repeat", "3", "--write", str(path)]) == 0
    text = path.read_text()
    assert "## Other\n\nkept" in text and "## Activation checkpointing: small\n\nfigures" in text
