"""benchmarks/conv.py stays runnable and honest: what it times computes the same output and gradients as PyTorch
(checked here at a small size; no timing is asserted: machines are noisy)."""
import importlib.util
import pathlib

import numpy as np
import pytest

import chainrule

torch = pytest.importorskip("torch")

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "conv.py"
_SPEC = importlib.util.spec_from_file_location("conv_benchmark", _PATH)
conv_benchmark = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(conv_benchmark)
import common  # noqa: E402 - benchmarks/ is on sys.path once the script is loaded


def test_benchmark_step_matches_torch_at_a_small_size():
    inputs = conv_benchmark.make_inputs(batch=2, channels=5, size=6, kernel=3, seed=3)
    ours = conv_benchmark.framework_step(chainrule, *inputs)()
    theirs = conv_benchmark.framework_step(torch, *inputs)()
    assert len(ours) == len(theirs) == 4
    for what, got, expected in zip(("output", "input grad", "weight grad", "bias grad"), ours, theirs):
        assert got.shape == expected.shape, what
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=what)


def test_benchmark_check_accepts_matching_and_rejects_wrong_gradients():
    inputs = conv_benchmark.make_inputs(batch=1, channels=3, size=5, kernel=3, seed=4)
    steps = {"chainrule": conv_benchmark.framework_step(chainrule, *inputs),
             "torch": conv_benchmark.framework_step(torch, *inputs)}
    conv_benchmark.check(steps)  # passes

    def wrong():
        out = list(steps["chainrule"]())
        out[2] = out[2] * 1.1  # a weight gradient 10% off
        return out

    with pytest.raises(AssertionError, match="weight grad"):
        conv_benchmark.check(dict(steps, chainrule=wrong))


def test_report_writes_its_own_section(tmp_path):
    medians = {("chainrule", False): 0.02, ("chainrule", True): 0.06, ("torch", False): 0.01, ("torch", True): 0.03}
    text, ratio = conv_benchmark.report(medians, "x", 10)
    assert ratio == pytest.approx(2.0)
    assert text.startswith("## Convolution: conv2d 64->64 channels")
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Per-op overhead\n\nkept\n")
    common.write_section(str(path), text)
    common.write_section(str(path), text)  # replaces, does not duplicate
    written = path.read_text()
    assert written.count("## Convolution") == 1 and "## Per-op overhead\n\nkept" in written
