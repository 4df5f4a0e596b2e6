"""The benchmark scripts stay runnable and honest: what they time computes the right gradients, and
--write keeps the rest of BENCHMARKS.md. (No timing is asserted: machines are noisy.)"""
import pathlib
import sys

import numpy as np

import chainrule

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "benchmarks"))
import common  # noqa: E402
import op_overhead  # noqa: E402


def test_chain_gradients_match_the_hand_written_numpy_backward():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(op_overhead.SIZE).astype(np.float32)
    w = (0.5 + 0.1 * rng.standard_normal(op_overhead.SIZE)).astype(np.float32)
    ours = op_overhead.framework_step(chainrule, x, w)()
    by_hand = op_overhead.numpy_chain(x, w)
    for got, expected in zip(ours, by_hand):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nintro\n\n## Other benchmark\n\nkept\n\n## Per-op\n\nold figures\n")
    common.write_section(str(path), "## Per-op\n\nnew figures\n")
    text = path.read_text()
    assert "old figures" not in text and "new figures" in text
    assert "intro" in text and "## Other benchmark\n\nkept" in text
