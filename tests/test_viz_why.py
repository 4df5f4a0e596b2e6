"""why_no_grad: every way a tensor ends up without a graph is named, with the user's file:line."""
import os
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd
from chainrule.autograd.grad_mode import state as grad_state
from chainrule.viz.why import why_no_grad

HERE = os.path.basename(__file__)


def line():
    """The caller's current line: call it on the line of the cut."""
    return sys._getframe(1).f_lineno


def at(lineno):
    return f"{HERE}:{lineno}"


def leaf(value=2.0):
    return cr.tensor(value, requires_grad=True)


class TestRecordingOff:
    def test_no_grad_block_names_the_with_line(self):
        x = leaf()
        with cr.no_grad(): n = line()  # noqa: E701
        with cr.no_grad():
            y = x * 2
            z = (y + 1).exp()  # a later op in the block shares the block's reason
        message = why_no_grad(z)
        assert "no_grad()" in message and at(n + 1) in message, message
        assert at(n) not in message

    def test_nested_blocks_each_name_their_own_line(self):
        x = leaf()
        with cr.no_grad():
            outer = x * 2; n = line()  # noqa: E702
            with cr.no_grad():
                inner = x * 3
        assert at(n - 1) in why_no_grad(outer)
        assert at(n + 1) in why_no_grad(inner)

    def test_inference_mode(self):
        x = leaf()
        with cr.inference_mode(): y = x * 2; n = line()  # noqa: E701, E702
        message = why_no_grad(y)
        assert "inference_mode()" in message and at(n) in message

    def test_set_grad_enabled_false_called_as_a_function(self):
        x = leaf()
        cr.set_grad_enabled(False); n = line()  # noqa: E702
        try:
            y = x * 2
        finally:
            cr.set_grad_enabled(True)
        message = why_no_grad(y)
        assert "set_grad_enabled(False)" in message and at(n) in message
        assert "no_grad" in message  # the existing errors' wording stays searchable

    def test_no_grad_decorator_names_the_call(self):
        @cr.no_grad()
        def double(t):
            return t * 2

        x = leaf()
        y = double(x); n = line()  # noqa: E702
        assert at(n) in why_no_grad(y)

    def test_the_block_keeps_no_frame_after_it_ends(self):
        mode = cr.no_grad()
        with mode:
            leaf() * 2
        assert grad_state.off_block is None and mode._frame is None


class TestCuts:
    def test_detach(self):
        x = leaf([1.0, 2.0])
        y = x.detach() * 2 + 1; n = line()  # noqa: E702  (the reason travels downstream)
        message = why_no_grad(y)
        assert ".detach()" in message and at(n) in message, message

    def test_data(self):
        x = leaf([1.0, 2.0])
        y = x.data; n = line()  # noqa: E702
        message = why_no_grad(y.exp())
        assert ".data" in message and at(n) in message, message

    def test_comparisons(self):
        x = leaf([1.0, 3.0])
        y = x > 1; n = line()  # noqa: E702
        z = cr.eq(x, 1)
        assert "gt (a comparison)" in why_no_grad(y) and at(n) in why_no_grad(y)
        assert "eq (a comparison)" in why_no_grad(z) and at(n + 1) in why_no_grad(z)
        assert "not differentiable" in why_no_grad(y.float() * 2)

    def test_argmax_and_argmin(self):
        x = leaf([1.0, 3.0])
        k = x.argmax(); n = line()  # noqa: E702
        j = cr.argmin(x)
        assert "argmax" in why_no_grad(k) and at(n) in why_no_grad(k)
        assert "argmin" in why_no_grad(j) and at(n + 1) in why_no_grad(j)

    def test_integer_cast(self):
        x = leaf([1.5])
        y = x.long(); n = line()  # noqa: E702
        message = why_no_grad(y)
        assert "int64" in message and at(n) in message

    def test_rebuilt_from_numpy(self):
        x = leaf([1.0, 2.0])
        for build in (cr.tensor, cr.as_tensor, cr.from_numpy):
            y = build(x.detach().numpy()); n = line()  # noqa: E702
            message = why_no_grad(y)
            assert ".numpy()" in message and at(n) in message, (build, message)
            assert ".detach()" in message  # and how the values left the graph

    def test_copied_by_tensor(self):
        x = leaf([1.0, 2.0])
        y = cr.tensor(x); n = line()  # noqa: E702
        message = why_no_grad(y)
        assert "tensor()" in message and at(n) in message and ".clone()" in message

    def test_numbers_from_item_cannot_be_traced_and_the_message_says_so(self):
        x = leaf()
        y = cr.tensor(x.item())
        message = why_no_grad(y)
        assert ".item()" in message and "requires_grad" in message

    def test_leaf_created_without_requires_grad(self):
        message = why_no_grad(cr.ones(3))
        assert "requires_grad=False" in message and "requires_grad_()" in message

    def test_arrays_of_plain_tensors_are_not_marked(self):
        y = cr.tensor(cr.ones(2).numpy())
        assert y._cut is None

    def test_tensors_that_require_grad(self):
        x = leaf()
        assert "leaf that requires grad" in why_no_grad(x)
        assert "MulBackward0" in why_no_grad(x * 2)

    def test_not_a_tensor(self):
        with pytest.raises(TypeError, match="why_no_grad: t must be a chainrule Tensor, not float"):
            why_no_grad(1.0)
        with pytest.raises(TypeError, match="output must be"):
            why_no_grad(leaf(), output=np.ones(2))


class TestOutput:
    def test_connected(self):
        x, w = leaf(), leaf(3.0)
        out = (x * w).exp()
        message = why_no_grad(x, output=out)
        assert "is connected" in message and "ExpBackward0 -> MulBackward0" in message
        (g,) = autograd.grad(out, x)  # and it really gets one
        assert g.item() != 0

    def test_connected_non_leaf(self):
        x = leaf()
        h = x * 3
        assert "retain_grad" in why_no_grad(h, output=(h * 2).sum())

    def test_cut_by_detach_of_a_kept_intermediate(self):
        x, w = leaf(), leaf(3.0)
        h = x * 3
        out = h.detach() * w; n = line()  # noqa: E702
        message = why_no_grad(x, output=out)
        assert "not connected" in message and ".detach()" in message and at(n) in message, message
        assert "If the output" not in message  # certain: the output used that very value

    def test_cut_by_detach_of_a_temporary(self):
        x, w = leaf(), leaf(3.0)
        out = (x * 3).detach() * w; n = line()  # noqa: E702
        message = why_no_grad(x, output=out)
        assert "not connected" in message and at(n) in message, message

    def test_cut_by_no_grad(self):
        x, w = leaf(), leaf(3.0)
        with cr.no_grad(): z = x * 2; n = line()  # noqa: E701, E702
        message = why_no_grad(x, output=z * w)
        assert "not connected" in message and "no_grad()" in message and at(n) in message

    def test_not_connected_at_all(self):
        x, w = leaf(), leaf(3.0)
        message = why_no_grad(x, output=w.exp())
        assert "not connected" in message
        with pytest.raises(RuntimeError, match="not have been used"):
            autograd.grad(w.exp(), x)  # the engine agrees

    def test_output_without_graph_or_t_without_grad(self):
        x = leaf()
        assert "output has no graph" in why_no_grad(x, output=x.detach() * 2)
        assert "does not require grad" in why_no_grad(cr.ones(1), output=x * 2)

    def test_output_is_t(self):
        x = leaf()
        assert "output itself" in why_no_grad(x, output=x)


class TestEngineErrorsNameTheLocation:
    def test_backward_of_a_detached_result(self):
        x = leaf([1.0, 2.0])
        y = x.detach() * 2; n = line()  # noqa: E702
        with pytest.raises(RuntimeError, match="does not require grad") as info:
            y.sum().backward()
        assert ".detach()" in str(info.value) and at(n) in str(info.value)
        assert str(why_no_grad(y.sum())).endswith(str(info.value).split("grad_fn: ", 1)[1])  # the same words

    def test_backward_of_a_no_grad_result(self):
        x = leaf()
        with cr.no_grad(): y = x * 2; n = line()  # noqa: E701, E702
        with pytest.raises(RuntimeError, match="no_grad") as info:
            y.backward()
        assert at(n) in str(info.value)

    def test_grad_of_an_input_that_was_cut(self):
        x = leaf([1.0, 3.0])
        k = x.argmax(); n = line()  # noqa: E702
        with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad") as info:
            autograd.grad(x.sum(), [x, k])
        assert "argmax" in str(info.value) and at(n) in str(info.value)


class TestRebuiltFromValuesCutWithoutAPlace:
    def test_recording_switched_off_directly(self):
        x = leaf([1.0, 2.0])
        previous = grad_state.enabled
        grad_state.enabled = False  # as chainrule's internals do (no block, so no file:line to name)
        try:
            y = x * 2
        finally:
            grad_state.enabled = previous
        assert "no_grad" in why_no_grad(y)
        z = cr.tensor(y.numpy()); n = line()  # noqa: E702
        message = why_no_grad(z)
        assert at(n) in message and "no_grad" in message
        p = cr.nn.Parameter(cr.ones(2))
        assert "tensor()" in why_no_grad(cr.tensor(p))
