"""benchmarks/jacobian.py stays runnable and honest: every method it times computes the same Jacobian as
PyTorch (checked here at small sizes; no timing is asserted: machines are noisy)."""
import importlib.util
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # vmap

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "jacobian.py"
_SPEC = importlib.util.spec_from_file_location("jacobian_benchmark", _PATH)
jacobian_benchmark = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(jacobian_benchmark)
import common  # noqa: E402 - benchmarks/ is on sys.path once the script is loaded


@pytest.mark.parametrize("n, m", [(7, 3), (3, 7), (4, 4)])
def test_every_method_computes_torchs_jacobian_at_a_small_size(n, m):
    w, b, x = jacobian_benchmark.make_inputs(n, m, seed=n * 10 + m)
    steps = jacobian_benchmark.methods(w, b, x)
    assert set(steps) == {"chainrule auto", f"chainrule {'forward' if n >= m else 'reverse'} mode (wrong)",
                          "torch reverse-mode, vectorize=True", "torch forward-mode, vectorize=True"}
    reference = steps["torch reverse-mode, vectorize=True"]()
    assert reference.shape == (m, n)
    # and by hand: J = diag(f'(t) * (1 - t^2)) W with t = tanh(W x + b), f(t) = t sigmoid(t) + 0.1 t
    t = np.tanh(w.astype(np.float64) @ x + b)
    s = 1 / (1 + np.exp(-t))
    by_hand = ((s + t * s * (1 - s) + 0.1) * (1 - t * t))[:, None] * w
    np.testing.assert_allclose(reference, by_hand, rtol=1e-4, atol=1e-6)
    jacobian_benchmark.check(steps, reference)


def test_check_rejects_a_wrong_jacobian():
    w, b, x = jacobian_benchmark.make_inputs(5, 2, seed=1)
    steps = jacobian_benchmark.methods(w, b, x)
    reference = steps["chainrule auto"]()
    steps["chainrule auto"] = lambda: reference * 1.01
    with pytest.raises(AssertionError, match="chainrule auto"):
        jacobian_benchmark.check(steps, reference)


def test_report_computes_the_ratios_and_writes_its_own_section(tmp_path):
    medians = {"chainrule auto": 0.002, "chainrule forward mode (wrong)": 0.2,
               "torch reverse-mode, vectorize=True": 0.004, "torch forward-mode, vectorize=True": 0.05}
    speedup, vs_torch, best = jacobian_benchmark.ratios(medians)
    assert speedup == pytest.approx(100) and vs_torch == pytest.approx(0.5)
    assert best == "torch reverse-mode, vectorize=True"
    text = jacobian_benchmark.report({(2000, 10): medians}, "x", 20)
    assert text.startswith("## Jacobian: ") and "auto is 100x faster than the wrong mode" in text
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Per-op overhead\n\nkept\n")
    common.write_section(str(path), text)
    common.write_section(str(path), text)  # replaces, does not duplicate
    written = path.read_text()
    assert written.count("## Jacobian") == 1 and "## Per-op overhead\n\nkept" in written
