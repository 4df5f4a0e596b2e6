"""benchmarks/training.py stays runnable and honest: the steps it times compute what PyTorch computes (checked
here at small sizes), its check catches a wrong gradient, and --write replaces only its own section. No timing
is asserted: machines are noisy."""
import importlib.util
import pathlib

import pytest

import chainrule

torch = pytest.importorskip("torch")

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "training.py"
_SPEC = importlib.util.spec_from_file_location("training_benchmark", _PATH)
training = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(training)
import common  # noqa: E402 - benchmarks/ is on sys.path once the script is loaded


def _steps(kind, models, x, y):
    make = training.mlp_step if kind == "mlp" else training.resnet_step
    return {name: make(lib, models[name], x, y) for name, lib in (("chainrule", chainrule), ("torch", torch))}


def test_mlp_step_matches_torch_at_a_small_size():
    sizes = (12, 8, 6, 3)
    models = training.model_pair(torch, "mlp", seed=3, sizes=sizes)
    assert list(models["chainrule"].state_dict()) == list(models["torch"].state_dict())
    x, y = training.make_data("mlp", 5, sizes=sizes)
    training.check(models, _steps("mlp", models, x, y), after_step=True)  # weights equal after one SGD step


def test_resnet_step_matches_torch_and_check_rejects_a_wrong_gradient():
    models = training.model_pair(torch, "resnet18", seed=4, num_classes=7)
    x, y = training.make_data("resnet18", 2, classes=7, image=64)
    steps = _steps("resnet18", models, x, y)
    training.check(models, steps)
    model = models["chainrule"]

    def wrong():
        loss = steps["chainrule"]()
        model.layer3[1].conv2.weight.grad.mul_(1.1)  # one gradient 10% off
        return loss

    with pytest.raises(AssertionError, match="gradient of layer3.1.conv2.weight"):
        training.check(models, dict(steps, chainrule=wrong))


def test_report_writes_its_own_section(tmp_path):
    descriptions = {"mlp": "MLP", "resnet18-1": "ResNet b1", "resnet18-16": "ResNet b16"}
    medians = {(k, "chainrule"): t for k, t in zip(descriptions, (0.004, 0.03, 0.2))}
    medians.update({(k, "torch"): t for k, t in zip(descriptions, (0.004, 0.02, 0.1))})
    text, ratios = training.report(descriptions, medians, "x", 10)
    assert ratios == pytest.approx({"mlp": 1.0, "resnet18-1": 1.5, "resnet18-16": 2.0})
    assert text.startswith("## Training: MLP SGD step and ResNet-18 forward + backward")
    assert "| ResNet b16 | 200.0 ms | 100.0 ms | **2.00** | <= 2.0 |" in text
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Per-op overhead\n\nkept\n")
    common.write_section(str(path), text)
    common.write_section(str(path), text)
    written = path.read_text()
    assert written.count("## Training:") == 1 and "## Per-op overhead\n\nkept" in written
