"""Errors: PyTorch's exception types (and wording where it has one), with messages that say what went
wrong, where, and what to do. Where torch is available the same misuse is checked to raise the
same kind of exception there, so code written for PyTorch catches ours."""
import pytest

import chainrule as cr
from chainrule import autograd


def raises_like_torch(fn_ours, fn_torch):
    """Both calls raise; chainrule's error is an instance of the class torch raised."""
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        fn_torch(torch)
    with pytest.raises(Exception) as ours:
        fn_ours(cr)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))
    return ours.value, theirs.value


# ============================================================================ backward misuse
class TestBackwardErrors:
    def test_implicit_backward_of_non_scalar(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs") as info:
            (x * 2).backward()
        assert "[2]" in str(info.value) and "gradient" in str(info.value)

    def test_implicit_grad_of_non_scalar(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            autograd.grad(x * 2, x)

    def test_second_backward_through_freed_graph(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
            y.backward()

    def test_freed_graph_error_names_the_node(self):
        x = cr.tensor(1.0, requires_grad=True)
        y = x.exp()
        y.backward()
        with pytest.raises(RuntimeError, match="ExpBackward0"):
            y.backward()

    def test_leaf_without_requires_grad(self):
        with pytest.raises(RuntimeError, match="does not require grad") as info:
            cr.tensor(1.0).backward()
        assert "requires_grad" in str(info.value)

    def test_result_computed_under_no_grad(self):
        x = cr.tensor(1.0, requires_grad=True)
        with cr.no_grad():
            y = x * 2
        with pytest.raises(RuntimeError, match="does not require grad") as info:
            y.backward()
        assert "no_grad" in str(info.value)

    def test_result_computed_under_set_grad_enabled_false(self):
        x = cr.tensor(1.0, requires_grad=True)
        with cr.set_grad_enabled(False):
            y = x.exp()
        with pytest.raises(RuntimeError, match="no_grad"):
            y.backward()

    def test_detached_result(self):
        x = cr.tensor(1.0, requires_grad=True)
        with pytest.raises(RuntimeError, match="detach"):
            (x * 2).detach().backward()

    def test_argmax_result(self):
        x = cr.tensor([1.0, 3.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="argmax") as info:
            x.argmax().backward()
        assert "not differentiable" in str(info.value)

    def test_comparison_result(self):
        x = cr.tensor([1.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="not differentiable") as info:
            (x.sum() > 1).backward()
        assert "gt" in str(info.value)
        with pytest.raises(RuntimeError, match="not differentiable"):
            autograd.grad(x == 1, x)

    def test_integer_cast_result(self):
        x = cr.tensor([1.5], requires_grad=True)
        with pytest.raises(RuntimeError, match="int"):
            x.long().backward(cr.ones(1, dtype=cr.int64))

    def test_graph_cut_further_upstream_is_explained(self):
        # the cut happened ops earlier: the reason travels with the values computed from the cut tensor
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with cr.no_grad():
            y = x * 2
        cases = {"no_grad": (y + 1).exp(), "detach": x.detach() * 2 + cr.ones(2), "argmax": x.argmax() * 1.0,
                 "comparison": (x > 0).float() * 3}
        for word, downstream in cases.items():
            with pytest.raises(RuntimeError, match="does not require grad") as info:
                downstream.sum().backward()
            assert word in str(info.value), word

    def test_plain_leaf_lists_the_ways_a_graph_gets_cut(self):
        with pytest.raises(RuntimeError, match="does not require grad") as info:
            (cr.ones(2) * 2).sum().backward()
        for word in ("requires_grad_", "no_grad", "detach", "argmax", "comparison"):
            assert word in str(info.value), word

    def test_grad_of_input_that_does_not_require_grad(self):
        x = cr.tensor(1.0, requires_grad=True)
        c = cr.tensor(2.0)
        with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad") as info:
            autograd.grad(x * c, [x, c])
        assert "input 1" in str(info.value)

    def test_grad_of_output_that_does_not_require_grad(self):
        x = cr.tensor(1.0, requires_grad=True)
        with pytest.raises(RuntimeError, match="does not require grad"):
            autograd.grad(cr.tensor(1.0), x)

    def test_gradient_of_wrong_shape(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
            (x * 2).backward(cr.ones(3))
        with pytest.raises(ValueError, match="Mismatch in shape"):
            autograd.grad(x * 2, x, grad_outputs=cr.ones(2, 1))

    def test_gradient_of_wrong_dtype(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="int64") as info:
            (x * 2).backward(cr.tensor([1, 2]))
        assert "floating point" in str(info.value)
        with pytest.raises(TypeError):
            (x * 2).backward(cr.tensor([True, False]))

    def test_gradient_of_other_float_dtype_is_cast(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(cr.tensor([1.0, 1.0], dtype=cr.float64))
        assert x.grad.dtype is cr.float32 and x.grad.tolist() == [2.0, 2.0]

    def test_wrong_number_of_gradients(self):
        x = cr.tensor(1.0, requires_grad=True)
        with pytest.raises(ValueError, match="2 gradients"):
            autograd.backward([x * 2], [cr.tensor(1.0), cr.tensor(1.0)])

    def test_unused_input(self):
        x = cr.tensor(1.0, requires_grad=True)
        unused = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph") as info:
            autograd.grad(x * 2, [x, unused])
        assert "allow_unused=True" in str(info.value) and "input 1" in str(info.value)

    def test_materialize_grads_with_allow_unused_false(self):
        x = cr.tensor(1.0, requires_grad=True)
        with pytest.raises(ValueError, match="allow_unused"):
            autograd.grad(x * 2, x, allow_unused=False, materialize_grads=True)

    def test_not_a_tensor(self):
        with pytest.raises(TypeError, match="list"):
            autograd.grad([[1.0]], [cr.tensor(1.0, requires_grad=True)])

    def test_hook_changing_shape(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: cr.ones(3))
        with pytest.raises(RuntimeError, match=r"\[3\].*\[2\]"):
            (x * 2).sum().backward()

    def test_backward_errors_match_torch_types(self):
        cases = [
            lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).backward(),
            lambda T: T.tensor(1.0).backward(),
            lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).backward(T.ones(3)),
            lambda T: T.autograd.grad((T.tensor(1.0, requires_grad=True) * 2), [T.tensor(1.0, requires_grad=True)]),
            lambda T: T.autograd.grad(T.tensor(1.0, requires_grad=True) * 2, [T.tensor(1.0)]),
            lambda T: T.tensor([1, 2], requires_grad=True),
            lambda T: T.tensor([1.0, 2.0], requires_grad=True).numpy(),
            lambda T: T.tensor([1.0, 2.0]).item(),
        ]
        for case in cases:
            raises_like_torch(case, case)

    def test_freed_graph_matches_torch_type(self):
        def case(T):
            x = T.tensor(1.0, requires_grad=True)
            y = x.exp() * x
            y.backward()
            y.backward()

        ours, theirs = raises_like_torch(case, case)
        assert "retain_graph=True" in str(ours) and "retain_graph=True" in str(theirs)


# ============================================================================ dtype errors
class TestDtypeErrors:
    @pytest.mark.parametrize("make", [
        lambda: cr.tensor([1, 2], requires_grad=True),
        lambda: cr.tensor([True], requires_grad=True),
        lambda: cr.arange(3).requires_grad_(),
        lambda: cr.zeros(2, dtype=cr.int64, requires_grad=True),
    ])
    def test_requires_grad_on_non_float(self, make):
        with pytest.raises(RuntimeError, match="Only Tensors of floating point") as info:
            make()
        assert ".float()" in str(info.value)

    def test_setting_requires_grad_attribute_on_int(self):
        t = cr.tensor([1, 2])
        with pytest.raises(TypeError, match="floating point"):
            t.requires_grad = True

    def test_bool_subtraction(self):
        with pytest.raises(TypeError, match="sub") as info:
            cr.tensor([True]) - cr.tensor([True])
        assert "bool" in str(info.value)
        with pytest.raises(RuntimeError):
            cr.tensor([True]) - cr.tensor([True])

    def test_bool_subtraction_matches_torch_type(self):
        raises_like_torch(lambda T: T.tensor([True]) - T.tensor([True]),
                          lambda T: T.tensor([True]) - T.tensor([True]))

    def test_in_place_float_into_int(self):
        t = cr.tensor([1, 2])
        with pytest.raises(RuntimeError, match="can't be cast") as info:
            t.add_(0.5)
        assert "int64" in str(info.value) and "float32" in str(info.value)

    def test_float_index(self):
        with pytest.raises(TypeError, match="indices"):
            cr.ones(3)[cr.tensor([0.0, 1.0])]


# ============================================================================ in-place errors
class TestInPlaceErrors:
    @pytest.mark.parametrize("op", [
        lambda w: w.add_(1), lambda w: w.mul_(2), lambda w: w.zero_(), lambda w: w.fill_(1.0),
        lambda w: w.copy_(cr.ones(2)), lambda w: w.__iadd__(1), lambda w: w.__setitem__(0, 5.0),
        lambda w: w.sub_(1), lambda w: w.div_(2), lambda w: w.exp_(),
    ])
    def test_in_place_on_leaf_requiring_grad(self, op):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place") \
                as info:
            op(w)
        assert "no_grad" in str(info.value)
        assert w.tolist() == [1.0, 2.0]  # nothing was written

    def test_in_place_on_a_view_of_a_leaf(self):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            w[0].add_(1)

    def test_in_place_on_leaf_matches_torch_type(self):
        raises_like_torch(lambda T: T.tensor([1.0], requires_grad=True).add_(1),
                          lambda T: T.tensor([1.0], requires_grad=True).add_(1))

    def test_modified_saved_input(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a.sin()  # saves a
        a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            y.sum().backward()
        message = str(info.value)
        assert "SinBackward0" in message       # the op that saved it
        assert "add_" in message               # the in-place op
        assert "version 0" in message and "version 1" in message

    def test_modified_saved_output(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()  # saves its output
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            y.sum().backward()
        message = str(info.value)
        assert "ExpBackward0" in message and "mul_" in message and "version 1" in message

    def test_modified_through_setitem(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a * a
        a[0] = 3.0
        with pytest.raises(RuntimeError, match="MulBackward0.*version 0.*version 1.*__setitem__"):
            y.sum().backward()

    def test_modified_through_a_view(self):
        x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        a = x * 1
        y = a.tanh()  # saves its output ... and a is untouched
        z = a.sin()   # saves a
        a[1].zero_()  # in-place through a view of a
        with pytest.raises(RuntimeError, match=r"SinBackward0.*(zero_|fill_)"):
            z.sum().backward()
        y.sum().backward()  # tanh's saved output is a different tensor: still fine

    def test_modified_leaf_under_no_grad(self):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (w * w).sum()
        with cr.no_grad():
            w.add_(1)
        with pytest.raises(RuntimeError, match=r"MulBackward0.*version 0.*version 1"):
            y.backward()

    def test_modified_through_detach(self):
        # detach() shares memory and the version counter, so the change is still caught (as in PyTorch)
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x.sin()
        x.detach().add_(1)
        with pytest.raises(RuntimeError, match=r"SinBackward0.*version 0.*version 1.*add_"):
            y.sum().backward()

    def test_version_after_several_changes(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a.sin()
        a.add_(1)
        a.mul_(2)
        a += 3
        with pytest.raises(RuntimeError, match=r"version 0 and is now at version 3.*\+="):
            y.sum().backward()

    def test_x_mul_x_in_place_is_caught(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.mul_(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()

    def test_unsaved_tensors_may_be_changed(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a + 1  # add saves nothing
        a.add_(100)
        y.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]

    def test_saved_tensor_error_matches_torch_type(self):
        def case(T):
            x = T.tensor([1.0, 2.0], requires_grad=True)
            a = x * 1
            y = a.sin()
            a.add_(1)
            y.sum().backward()

        ours, theirs = raises_like_torch(case, case)
        assert "modified by an inplace operation" in str(ours) and "modified by an inplace operation" in str(theirs)

    def test_unsupported_in_place_on_a_view_of_a_non_leaf_is_refused(self):
        x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        v = y.view(4)
        with pytest.raises(RuntimeError, match="view"):
            v.add_(1)

    def test_in_place_on_expanded_tensor(self):
        t = cr.ones(3).expand(2, 3)
        with pytest.raises(RuntimeError, match="clone"):
            t.add_(1)


# ============================================================================ shape errors
def _both_kinds(fn, *fragments):
    """``fn`` raises an error caught by `except ValueError` and by `except RuntimeError`, naming the fragments."""
    for kind in (ValueError, RuntimeError):
        try:
            fn()
        except kind as error:
            message = str(error)
        else:
            pytest.fail(f"no {kind.__name__} raised")
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


class TestShapeErrors:
    def test_add(self):
        _both_kinds(lambda: cr.ones(2, 3) + cr.ones(4), "add", "[2, 3]", "[4]")

    def test_mul(self):
        _both_kinds(lambda: cr.ones(3, 2) * cr.ones(4, 2), "mul", "[3, 2]", "[4, 2]")

    def test_sub_div_pow(self):
        _both_kinds(lambda: cr.ones(3) - cr.ones(2), "sub", "[3]", "[2]")
        _both_kinds(lambda: cr.ones(3) / cr.ones(2), "div", "[3]", "[2]")
        _both_kinds(lambda: cr.ones(3) ** cr.ones(2), "pow", "[3]", "[2]")

    def test_broadcast_failure_with_grad(self):
        a = cr.ones(3, 1, requires_grad=True)
        _both_kinds(lambda: a * cr.ones(2, 4), "mul", "[3, 1]", "[2, 4]")

    def test_broadcast_message_explains_the_rule(self):
        message = _both_kinds(lambda: cr.ones(2, 3) + cr.ones(4), "add")
        assert "broadcast" in message

    def test_where(self):
        _both_kinds(lambda: cr.where(cr.tensor([True, False]), cr.ones(3), cr.ones(2)), "where", "[3]", "[2]")

    def test_matmul(self):
        _both_kinds(lambda: cr.ones(2, 3) @ cr.ones(2, 3), "matmul", "[2, 3]")
        _both_kinds(lambda: cr.ones(3) @ cr.ones(4), "matmul", "[3]", "[4]")
        _both_kinds(lambda: cr.ones(2, 3).mm(cr.ones(3)), "mm", "[2, 3]", "[3]")

    def test_cat(self):
        _both_kinds(lambda: cr.cat([cr.ones(2, 3), cr.ones(2, 4)]), "cat", "[2, 3]", "[2, 4]")
        _both_kinds(lambda: cr.cat([cr.ones(2, 3), cr.ones(2)]), "cat", "[2, 3]", "[2]")

    def test_stack(self):
        _both_kinds(lambda: cr.stack([cr.ones(2, 3), cr.ones(2, 4)]), "stack", "[2, 3]", "[2, 4]")

    def test_reshape_and_view(self):
        _both_kinds(lambda: cr.ones(2, 3).reshape(4), "reshape", "[4]", "[2, 3]")
        _both_kinds(lambda: cr.ones(2, 3).view(5, -1), "[5, -1]", "6")
        _both_kinds(lambda: cr.ones(2, 3).view(-1, -1), "only one dimension can be inferred")

    def test_expand(self):
        _both_kinds(lambda: cr.ones(2, 3).expand(4, 3), "expand", "[4, 3]", "[2, 3]")
        _both_kinds(lambda: cr.ones(2, 3).expand(3), "expand", "[2, 3]")

    def test_setitem(self):
        t = cr.ones(2, 3)
        _both_kinds(lambda: t.__setitem__(0, cr.ones(4)), "setitem", "[4]", "[2, 3]")
        assert t.tolist() == [[1.0] * 3] * 2  # nothing was written

    def test_in_place_broadcast_to_a_bigger_shape(self):
        _both_kinds(lambda: cr.ones(3).add_(cr.ones(2, 3)), "add_", "[3]", "[2, 3]")

    def test_permute(self):
        _both_kinds(lambda: cr.ones(2, 3).permute(0), "permute", "[2, 3]")

    def test_shape_errors_match_torch_types(self):
        cases = [
            lambda T: T.ones(2, 3) + T.ones(4), lambda T: T.ones(3, 2) * T.ones(4, 2),
            lambda T: T.ones(2, 3) @ T.ones(2, 3), lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
            lambda T: T.stack([T.ones(2, 3), T.ones(2, 4)]), lambda T: T.ones(2, 3).view(4),
            lambda T: T.ones(2, 3).reshape(4), lambda T: T.ones(2, 3).expand(4, 3),
            lambda T: T.ones(2, 3).__setitem__(0, T.ones(4)),
            lambda T: T.where(T.tensor([True, False]), T.ones(3), T.ones(2)),
        ]
        for case in cases:
            raises_like_torch(case, case)


# ============================================================================ dims, indexing, construction
class TestDimAndIndexErrors:
    @pytest.mark.parametrize("call,op,bounds", [
        (lambda t: t.sum(dim=5), "sum", "[-2, 1]"),
        (lambda t: t.mean(-3), "mean", "[-2, 1]"),
        (lambda t: t.transpose(0, 3), "transpose", "[-2, 1]"),
        (lambda t: t.unsqueeze(4), "unsqueeze", "[-3, 2]"),
        (lambda t: t.squeeze(2), "squeeze", "[-2, 1]"),
        (lambda t: t.size(2), "size", "[-2, 1]"),
        (lambda t: t.flatten(0, 5), "flatten", "[-2, 1]"),
        (lambda t: t.argmax(dim=2), "argmax", "[-2, 1]"),
        (lambda t: t.max(dim=-3), "max", "[-2, 1]"),
        (lambda t: cr.cat([t, t], dim=2), "cat", "[-2, 1]"),
        (lambda t: cr.stack([t, t], dim=3), "stack", "[-3, 2]"),
    ])
    def test_bad_dims(self, call, op, bounds):
        t = cr.ones(2, 3)
        with pytest.raises(IndexError, match="Dimension out of range") as info:
            call(t)
        message = str(info.value)
        assert op in message and bounds in message

    def test_bad_dims_match_torch(self):
        torch = pytest.importorskip("torch")
        for call in (lambda t: t.sum(dim=5), lambda t: t.transpose(0, 3), lambda t: t.unsqueeze(4),
                     lambda t: t.mean(-3), lambda t: t.size(2)):
            with pytest.raises(IndexError) as theirs:
                call(torch.ones(2, 3))
            with pytest.raises(IndexError) as ours:
                call(cr.ones(2, 3))
            # torch's own sentence is contained in ours
            assert str(theirs.value) in str(ours.value)

    @pytest.mark.parametrize("index", [5, -4, (0, 3), (slice(None), 7), [0, 9]])
    def test_index_out_of_bounds(self, index):
        t = cr.ones(3, 3)
        with pytest.raises(IndexError, match="out of bounds") as info:
            t[index]
        assert "[3, 3]" in str(info.value)

    def test_setitem_out_of_bounds(self):
        t = cr.zeros(3)
        with pytest.raises(IndexError, match="out of bounds"):
            t[3] = 1.0
        assert t.tolist() == [0.0, 0.0, 0.0]

    def test_too_many_indices(self):
        with pytest.raises(IndexError):
            cr.ones(3)[0, 0]

    def test_index_errors_match_torch_type(self):
        for case in (lambda T: T.ones(3, 3)[5], lambda T: T.ones(3)[[0, 9]], lambda T: T.ones(3)[0, 0]):
            raises_like_torch(case, case)

    def test_ragged_lists(self):
        with pytest.raises(ValueError, match="tensor()"):
            cr.tensor([[1, 2], [3]])
        with pytest.raises(ValueError):
            cr.tensor([[1.0, 2.0], [3.0, 4.0, 5.0]])

    def test_ragged_lists_match_torch_type(self):
        raises_like_torch(lambda T: T.tensor([[1, 2], [3]]), lambda T: T.tensor([[1, 2], [3]]))

    def test_non_numeric_data(self):
        with pytest.raises(TypeError):
            cr.tensor(["a", "b"])
        with pytest.raises(TypeError):
            cr.tensor({"a": 1})

    def test_negative_sizes(self):
        with pytest.raises(ValueError, match="negative"):
            cr.ones(-1)

    def test_error_types_are_both(self):
        assert issubclass(cr.ShapeError, ValueError) and issubclass(cr.ShapeError, RuntimeError)
        assert issubclass(cr.DTypeError, TypeError) and issubclass(cr.DTypeError, RuntimeError)
        assert issubclass(cr.GraphError, RuntimeError)
