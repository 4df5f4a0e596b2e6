"""Anomaly detection (chainrule.autograd.detect_anomaly): the first backward step that produces NaN or
infinity raises, naming the op and the forward-pass line (in the user's file) that created it.

chainrule checks for infinity as well as NaN (PyTorch checks NaN only), so sqrt at 0 is caught too.
"""
import inspect
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function, anomaly

THIS_FILE = __file__.replace("\\", "/").rsplit("/", 1)[-1]  # test_anomaly.py


def here():
    """The line number of the caller's current line."""
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture(autouse=True)
def quiet_numpy():
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


class NanBackward(Function):
    """A custom Function whose backward returns NaN for every element."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def assert_names_line(message, op_name, line):
    assert f"'{op_name}'" in message
    assert THIS_FILE in message
    assert f"line {line}," in message


class TestDetectAnomaly:
    def test_sqrt_at_zero_names_op_file_and_line(self):
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = cr.sqrt(x); line = here()  # noqa: E702 (the forward call and its line number on one line)
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
        message = str(info.value)
        assert_names_line(message, "SqrtBackward0", line)
        assert "inf" in message
        assert "y = cr.sqrt(x)" in message  # the source line itself

    def test_custom_function_returning_nan(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = NanBackward.apply(x); line = here()  # noqa: E702
            z = (y * 3).sum()
            with pytest.raises(RuntimeError) as info:
                z.backward()
        assert_names_line(str(info.value), "NanBackwardBackward", line)
        assert "nan" in str(info.value)

    def test_the_first_bad_step_is_reported(self):
        """sqrt(0) * 0: the gradient reaching SqrtBackward0 is 0, its result 0/0 = nan; MulBackward0 is fine."""
        x = cr.tensor([0.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = cr.sqrt(x); line = here()  # noqa: E702
            z = y * 0
            with pytest.raises(RuntimeError, match="SqrtBackward0") as info:
                z.backward()
        assert "MulBackward0" not in str(info.value)
        assert f"line {line}," in str(info.value)

    def test_same_op_reported_as_torch(self):
        torch = pytest.importorskip("torch")
        names = []
        for lib in (cr, torch):
            x = lib.tensor([0.0], requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch warns when anomaly mode is entered
                with lib.autograd.detect_anomaly():
                    z = lib.sqrt(x) * 0
                    with pytest.raises(RuntimeError) as info:
                        z.backward()
            names.append("SqrtBackward0" in str(info.value))
        assert names == [True, True]

    def test_trace_has_no_chainrule_frames(self):
        x = cr.tensor([0.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = cr.sqrt(x * 1)
            with pytest.raises(RuntimeError) as info:
                y.backward()
        trace = str(info.value).split("The forward call that created it:")[1]
        assert "src/chainrule" not in trace.replace("\\", "/")
        assert "_registry.py" not in trace and "function.py" not in trace
        assert trace.strip().splitlines()[-1].strip() == "y = cr.sqrt(x * 1)"  # innermost frame last

    def test_user_code_in_a_folder_named_chainrule_is_kept(self, tmp_path, monkeypatch):
        """Frames are filtered by the package's location, not by the word "chainrule" in a path."""
        folder = tmp_path / "chainrule" / "project"
        folder.mkdir(parents=True)
        (folder / "user_model.py").write_text(
            "import chainrule as cr\n\n\ndef model(x):\n    return cr.sqrt(x)\n")
        monkeypatch.syspath_prepend(str(folder))
        sys.modules.pop("user_model", None)
        import user_model
        x = cr.tensor([0.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = user_model.model(x)
            with pytest.raises(RuntimeError) as info:
                y.backward()
        sys.modules.pop("user_model", None)
        message = str(info.value).replace("\\", "/")
        assert "chainrule/project/user_model.py\", line 5" in message
        assert "return cr.sqrt(x)" in message

    def test_node_made_before_anomaly_mode(self):
        x = cr.tensor([0.0], requires_grad=True)
        y = cr.sqrt(x)
        with cr.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="(?s)SqrtBackward0.*no traceback recorded"):
                y.backward()

    def test_with_create_graph(self):
        x = cr.tensor([0.0, 4.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            y = cr.sqrt(x); line = here()  # noqa: E702
            with pytest.raises(RuntimeError) as info:
                cr.autograd.grad(y.sum(), x, create_graph=True)
        assert_names_line(str(info.value), "SqrtBackward0", line)

    def test_finite_gradients_pass(self):
        x = cr.tensor([1.0, 4.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            cr.sqrt(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])

    def test_errors_in_backward_get_the_forward_traceback(self):
        """Not only NaN: any error raised by a backward step is annotated with where the node was made."""
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            h = x * 1
            y = h.exp(); line = here()  # noqa: E702
            with cr.no_grad():
                y.mul_(2)
            with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
                y.sum().backward()
        notes = "\n".join(getattr(info.value, "__notes__", []))
        if sys.version_info >= (3, 11):
            assert "Error detected in ExpBackward0" in notes and f"line {line}," in notes


class TestWithoutAnomalyMode:
    def test_sqrt_at_zero_gives_inf(self):
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        cr.sqrt(x).sum().backward()
        assert np.isinf(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.5

    def test_custom_function_nan_passes_through(self):
        x = cr.tensor([1.0], requires_grad=True)
        NanBackward.apply(x).backward()
        assert np.isnan(x.grad.numpy()[0])

    def test_check_nan_false_does_not_raise(self):
        x = cr.tensor([0.0], requires_grad=True)
        with cr.autograd.detect_anomaly(check_nan=False):
            assert cr.autograd.is_anomaly_enabled()
            assert not anomaly.is_anomaly_check_nan_enabled()
            cr.sqrt(x).backward()
            y = NanBackward.apply(x)
            y.backward()
        assert np.isnan(x.grad.numpy()[0])

    def test_check_nan_false_still_records_where_nodes_were_made(self):
        x = cr.tensor([0.0], requires_grad=True)
        with cr.autograd.detect_anomaly(check_nan=False):
            y = cr.sqrt(x)
        assert y.grad_fn.extras is not None and y.grad_fn.extras.trace


class TestModeHandling:
    def test_restored_after_the_block(self):
        assert not cr.autograd.is_anomaly_enabled()
        with cr.autograd.detect_anomaly():
            assert cr.autograd.is_anomaly_enabled()
            assert anomaly.is_anomaly_check_nan_enabled()
        assert not cr.autograd.is_anomaly_enabled()

    def test_restored_after_an_error(self):
        x = cr.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            with cr.autograd.detect_anomaly():
                cr.sqrt(x).backward()
        assert not cr.autograd.is_anomaly_enabled()
        cr.sqrt(x).backward()  # no error once the block is left

    def test_nested_blocks(self):
        with cr.autograd.detect_anomaly():
            with cr.autograd.detect_anomaly(check_nan=False):
                assert not anomaly.is_anomaly_check_nan_enabled()
            assert anomaly.is_anomaly_check_nan_enabled()
        assert not cr.autograd.is_anomaly_enabled()

    def test_as_a_decorator(self):
        @cr.autograd.detect_anomaly()
        def train_step(x):
            assert cr.autograd.is_anomaly_enabled()
            y = cr.sqrt(x)
            y.sum().backward()

        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            train_step(cr.tensor([0.0], requires_grad=True))
        assert not cr.autograd.is_anomaly_enabled()
        assert train_step.__name__ == "train_step"

    def test_decorator_with_check_nan_false(self):
        @cr.autograd.detect_anomaly(check_nan=False)
        def train_step(x):
            cr.sqrt(x).sum().backward()
            return x.grad

        assert np.isinf(train_step(cr.tensor([0.0], requires_grad=True)).numpy()[0])

    def test_set_detect_anomaly(self):
        try:
            cr.autograd.set_detect_anomaly(True)
            assert cr.autograd.is_anomaly_enabled()
        finally:
            cr.autograd.set_detect_anomaly(False)
        assert not cr.autograd.is_anomaly_enabled()
        with cr.autograd.set_detect_anomaly(True):
            assert cr.autograd.is_anomaly_enabled()
        assert not cr.autograd.is_anomaly_enabled()
