"""chainrule.GradientTape: TensorFlow's tf.GradientTape on the reverse-mode engine.

The first section runs the TensorFlow examples of seed 003 (../shared/seeds/003_*.txt, "부록 D – 자동 미분")
and the seed's other numbers through a tape; the rest covers TensorFlow's semantics (what a tape records,
watching, unconnected gradients, persistent and nested tapes, jacobians, stop_recording, reset) and
the errors. Where PyTorch is installed, Jacobians and Hessians are compared with torch.autograd.functional.
"""
import collections
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import GradientTape, UnconnectedGradients
from chainrule.tape import NON_PERSISTENT_MESSAGE, PERSISTENT_INSIDE_CONTEXT

# Several tests ask a persistent tape for gradients inside its block on purpose (second derivatives).
inside_persistent = pytest.mark.filterwarnings("ignore:Calling GradientTape.gradient on a persistent tape")


def f(x, y):
    return x * x * y + y + 2


def variables(*values, dtype=None):
    return [cr.tensor(v, requires_grad=True, dtype=dtype) for v in values]


def values(grads):
    return [None if g is None else g.item() for g in grads]


# ------------------------------------------------------------------------------------------- seed 003
def test_seed003_in34_gradients_of_f_at_3_4():
    # In [34]: x = tf.Variable(3.); y = tf.Variable(4.); tape.gradient(f, [x, y]) -> [24.0, 10.0]
    x, y = variables(3.0, 4.0)
    with GradientTape() as tape:
        z = f(x, y)
    jacobians = tape.gradient(z, [x, y])
    assert isinstance(jacobians, list) and values(jacobians) == [24.0, 10.0]
    assert z.item() == 42.0                                     # In [14]: f(3, 4) = 42
    assert all(g.dtype == cr.float32 and g.shape == () for g in jacobians)


def test_seed003_in35_hessian_from_a_persistent_tape_with_its_warning():
    # In [35]: gradients taken inside a persistent tape's block are recorded, so the tape differentiates
    # them again; TensorFlow warns (the seed shows the warning) and d(df_dy)/dy is None.
    x, y = variables(3.0, 4.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with GradientTape(persistent=True) as tape:
            z = f(x, y)
            df_dx, df_dy = tape.gradient(z, [x, y])
    assert [str(w.message) for w in caught] == [PERSISTENT_INSIDE_CONTEXT]
    assert "Calling GradientTape.gradient on a persistent tape inside its context" in str(caught[0].message)
    d2f_d2x, d2f_dydx = tape.gradient(df_dx, [x, y])
    d2f_dxdy, d2f_d2y = tape.gradient(df_dy, [x, y])
    del tape
    hessians = [[d2f_d2x, d2f_dydx], [d2f_dxdy, d2f_d2y]]
    assert [values(row) for row in hessians] == [[8.0, 6.0], [6.0, None]]


@inside_persistent
def test_seed003_hessian_0_instead_of_none_with_unconnected_zero():
    # The seed's closing remark: a derivative w.r.t. a variable it does not depend on is None, not 0.0;
    # unconnected_gradients="zero" gives the 0 of the analytic Hessian ([[8, 6], [6, 0]], In [5]/[19]).
    x, y = variables(3.0, 4.0)
    with GradientTape(persistent=True) as tape:
        z = f(x, y)
        df_dx, df_dy = tape.gradient(z, [x, y])
    rows = [tape.gradient(d, [x, y], unconnected_gradients="zero") for d in (df_dx, df_dy)]
    assert [values(r) for r in rows] == [[8.0, 6.0], [6.0, 0.0]]
    rows = [tape.gradient(d, [x, y], unconnected_gradients=UnconnectedGradients.ZERO) for d in (df_dx, df_dy)]
    assert [values(r) for r in rows] == [[8.0, 6.0], [6.0, 0.0]]


def test_seed003_hessian_with_nested_tapes():
    x, y = variables(3.0, 4.0)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            z = f(x, y)
        df_dx, df_dy = inner.gradient(z, [x, y])                # recorded by the outer tape
    assert values([df_dx, df_dy]) == [24.0, 10.0]
    assert values(outer.gradient(df_dx, [x, y])) == [8.0, 6.0]
    assert values(outer.gradient(df_dy, [x, y])) == [6.0, None]
    # One jacobian of the stacked gradient gives the whole Hessian (a row that depends on y gives 0).
    with GradientTape() as outer:
        with GradientTape() as inner:
            z = f(x, y)
        grad = cr.stack(inner.gradient(z, [x, y]))
    hx, hy = outer.jacobian(grad, [x, y])
    assert hx.tolist() == [8.0, 6.0] and hy.tolist() == [6.0, 0.0]


def test_seed003_chain_rule_example_sin_x_squared_at_3():
    # d/dx sin(x²) at x = 3: 2x · cos(x²) = 6 cos 9 ≈ -5.46. The seed checks it with a forward difference
    # (eps 1e-4): -5.46761419430053; the tape's value is exact.
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    with GradientTape() as tape:
        z = cr.sin(x ** 2)
    dz_dx = tape.gradient(z, x)
    assert dz_dx.item() == pytest.approx(6 * math.cos(9), rel=1e-12)
    assert round(dz_dx.item(), 2) == -5.47 and dz_dx.item() == pytest.approx(-5.46761419430053, abs=1e-3)
    # The backward order the seed walks through: dz/ds1 = cos(9) ≈ -0.91, then ds1/dx = 2x = 6.
    s1 = cr.tensor(9.0, dtype=cr.float64, requires_grad=True)
    with GradientTape() as tape:
        z = cr.sin(s1)
    assert round(tape.gradient(z, s1).item(), 2) == -0.91


def _seed_gradients(func, vars_list, eps=0.0001):
    """The seed's numerical gradients() (In [6]): forward differences."""
    base = func(*vars_list)
    out = []
    for idx in range(len(vars_list)):
        tweaked = vars_list[:]
        tweaked[idx] += eps
        out.append((func(*tweaked) - base) / eps)
    return out


@inside_persistent
def test_seed003_numerical_approximations_agree_with_the_tape():
    # In [8]: [24.000400000048216, 10.000000000047748]; In [11]: the approximate Hessian
    # [[7.999999951380232, 6.000099261882497], [6.000099261882497, -1.4210854715202004e-06]].
    assert _seed_gradients(f, [3, 4]) == pytest.approx([24.000400000048216, 10.000000000047748], rel=1e-9)
    x, y = variables(3.0, 4.0, dtype=cr.float64)
    with GradientTape(persistent=True) as tape:
        z = f(x, y)
        grads = tape.gradient(z, [x, y])
    exact = values(grads)
    assert exact == pytest.approx([24.000400000048216, 10.000000000047748], abs=1e-3)
    hessian = [values(tape.gradient(g, [x, y], unconnected_gradients="zero")) for g in grads]
    seed_hessian = [[7.999999951380232, 6.000099261882497], [6.000099261882497, -1.4210854715202004e-06]]
    assert hessian == [[8.0, 6.0], [6.0, 0.0]]
    for row, seed_row in zip(hessian, seed_hessian):
        assert row == pytest.approx(seed_row, abs=1e-3)


def test_seed003_forward_mode_numbers_through_a_tape():
    # The dual-number section: 3 + (3 + 4ε) = 6 + 4ε and (3 + 4ε)(5 + 7ε) = 15 + 41ε. The ε part is the
    # derivative along t of a + b t, which a tape gives in reverse mode.
    t = cr.tensor(0.0, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        a = 3 + (3 + 4 * t)
        b = (3 + 4 * t) * (5 + 7 * t)
    assert (a.item(), tape.gradient(a, t).item()) == (6.0, 4.0)
    assert (b.item(), tape.gradient(b, t).item()) == (15.0, 41.0)
    # In [24]-[26]: f's partial derivatives, 24 and 10, at (3, 4).
    x, y = variables(3.0, 4.0)
    with GradientTape() as tape:
        z = f(x, y)
    assert values(tape.gradient(z, [x, y])) == [24.0, 10.0]


def test_seed003_reverse_mode_by_hand_matches():
    # In [28]-[32]: the seed's hand-written backpropagate() gives 24.0 and 10.0 for x.gradient, y.gradient.
    x, y = variables(3.0, 4.0)
    with GradientTape() as tape:
        xx = x * x
        xxy = xx * y
        z = xxy + (y + 2)
    assert values(tape.gradient(z, [x, y])) == [24.0, 10.0]
    assert values(tape.watched_variables()) == [3.0, 4.0]


# ------------------------------------------------------------------------------------------- watching
def test_watch_a_constant():
    x = cr.tensor(3.0)
    with GradientTape() as g:
        g.watch(x)
        y = x * x
        assert x.requires_grad                                  # while the block runs
    assert not x.requires_grad                                  # given back as it was
    assert g.gradient(y, x).item() == 6.0
    assert not x.requires_grad and x.grad is None
    assert x.numpy().tolist() == 3.0                            # still a plain tensor


def test_constant_not_watched_gives_none():
    x = cr.tensor(3.0)
    with GradientTape() as g:
        y = x * x
    assert g.gradient(y, x) is None
    with GradientTape() as g:
        y = x * x
    assert g.gradient(y, x, unconnected_gradients="zero").item() == 0.0


def test_operations_before_watch_are_not_recorded():
    x = cr.tensor(3.0)
    with GradientTape() as g:
        y = x * x          # x is not watched yet
        g.watch(x)
        z = y + x
    assert g.gradient(z, x).item() == 1.0
    v = cr.tensor(2.0, requires_grad=True)
    with GradientTape(watch_accessed_variables=False) as g:
        y = v * v
        g.watch(v)
        z = y + v
    assert g.gradient(z, v).item() == 1.0


def test_watch_accessed_variables_false():
    # TensorFlow's guide: only the watched x1 gets a gradient.
    x0, x1 = variables(0.0, 10.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x1)
        y0 = cr.sin(x0)
        y1 = cr.nn.functional.softplus(x1)
        ys = (y0 + y1).sum()
    grad = tape.gradient(ys, {"x0": x0, "x1": x1})
    assert list(grad) == ["x0", "x1"] and grad["x0"] is None
    assert grad["x1"].item() == pytest.approx(0.9999546, abs=1e-6)
    assert tape.watched_variables() == (x1,)


def test_trainable_untrainable_and_computed_tensors():
    # TensorFlow's guide: only the trainable variable x0 is watched; x1 (trainable=False: a leaf that
    # does not require grad), x2 (variable + 1, computed outside the tape) and x3 (a constant) give None.
    x0 = cr.tensor(3.0, requires_grad=True)
    x1 = cr.tensor(3.0)
    x2 = cr.tensor(2.0, requires_grad=True) + 1.0
    x3 = cr.tensor(3.0)
    with GradientTape() as tape:
        y = (x0 ** 2) + (x1 ** 2) + (x2 ** 2)
    assert values(tape.gradient(y, [x0, x1, x2, x3])) == [6.0, None, None, None]
    assert tape.watched_variables() == (x0,)


def test_watch_an_intermediate():
    v = cr.tensor(2.0, requires_grad=True)
    u = v * 3                                   # computed before the tape: not watched unless asked
    with GradientTape(persistent=True) as tape:
        tape.watch(u)
        z = u * u + v
    assert values(tape.gradient(z, [u, v])) == [12.0, 1.0]      # the path through u stops at u
    assert tape.gradient(u, u).item() == 1.0


def test_watch_nested_structures_and_bad_inputs():
    a, b = cr.tensor(1.0), cr.tensor([2.0, 3.0])
    with GradientTape() as tape:
        tape.watch({"a": a, "rest": [b]})
        y = a * b.sum()
    assert tape.watched_variables() == (a, b)
    assert tape.gradient(y, {"a": a, "rest": (b,)})["rest"][0].tolist() == [1.0, 1.0]
    with GradientTape() as tape:
        with pytest.raises(TypeError, match=r"tensor\[1\] is a float"):
            tape.watch([a, 2.0])


def test_watch_an_integer_tensor_warns_and_gives_none():
    n = cr.tensor([1, 2, 3])
    with GradientTape() as tape:
        with pytest.warns(UserWarning, match="The dtype of the watched tensor must be floating"):
            tape.watch(n)
        y = n * 2
    assert tape.gradient(y, n) is None


def test_variable_computed_outside_is_a_tensor_the_next_time():
    # TensorFlow's guide: `x = x + 1` replaces the variable by a computed tensor, which the next tape
    # does not watch.
    x = cr.tensor(2.0, requires_grad=True)
    found = []
    for _ in range(2):
        with GradientTape() as tape:
            y = x + 1
        found.append(tape.gradient(y, x))
        x = x + 1
    assert values(found) == [1.0, None]


# ------------------------------------------------------------------------------------------- gradient
def test_non_scalar_target_is_summed_and_output_gradients_weight_it():
    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = x * cr.tensor([3.0, 4.0])
    assert tape.gradient(y, x).item() == 7.0
    assert tape.gradient(y, x, output_gradients=cr.tensor([1.0, 0.5])).item() == 5.0
    assert tape.gradient(y, x, output_gradients=[2.0, 0.0]).item() == 6.0      # array-likes too
    assert tape.gradient(y, x, output_gradients=[cr.tensor([0.0, 1.0])]).item() == 4.0
    with pytest.raises(ValueError, match=r"output_gradients\[0\] has shape \[3\] but target\[0\] has shape \[2\]"):
        tape.gradient(y, x, output_gradients=cr.ones(3))


def test_list_and_dict_targets_are_summed():
    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y0 = x ** 2
        y1 = 1 / x
    assert tape.gradient({"y0": y0, "y1": y1}, x).item() == 3.75
    assert tape.gradient([y0, y1], x, output_gradients=[None, cr.tensor(2.0)]).item() == 3.5
    with pytest.raises(ValueError, match="2 targets but 1 output_gradients"):
        tape.gradient([y0, y1], x, output_gradients=[cr.tensor(1.0)])


def test_sources_keep_their_structure():
    Pair = collections.namedtuple("Pair", "w b")
    w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = cr.tensor([0.5, -0.5], requires_grad=True)
    x = cr.tensor([[1.0, 2.0]])
    with GradientTape(persistent=True) as tape:
        loss = ((x @ w + b) ** 2).mean()
    dw, db = tape.gradient(loss, [w, b])
    as_dict = tape.gradient(loss, {"w": w, "b": b})
    as_tuple = tape.gradient(loss, (w, (b,)))
    as_pair = tape.gradient(loss, Pair(w, b))
    as_iter = tape.gradient(loss, iter([w, b]))
    assert isinstance(as_tuple, tuple) and isinstance(as_tuple[1], tuple) and isinstance(as_pair, Pair)
    assert as_dict["w"].tolist() == dw.tolist() == as_tuple[0].tolist() == as_pair.w.tolist() == as_iter[0].tolist()
    assert as_dict["b"].tolist() == db.tolist() == as_pair.b.tolist()
    y = (x @ w + b).detach()
    assert db.tolist() == y[0].tolist()                     # d mean(y²)/db = 2y/2
    assert tape.gradient(loss, []) == []


def test_unconnected_sources():
    x, y = variables(2.0, 3.0)
    with GradientTape(persistent=True) as tape:
        z = y * y
    assert tape.gradient(z, x) is None
    assert tape.gradient(z, x, unconnected_gradients=UnconnectedGradients.ZERO).item() == 0.0
    m = cr.ones(2, 3, requires_grad=True)
    zero = tape.gradient(z, [m], unconnected_gradients="zero")[0]
    assert zero.shape == (2, 3) and zero.tolist() == [[0.0] * 3] * 2
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'zeros'"):
        tape.gradient(z, x, unconnected_gradients="zeros")


def test_target_that_requires_no_grad():
    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape() as tape:
        c = cr.tensor(5.0) * 2
        n = (x > 1).float()                     # a comparison cuts the graph
    assert tape.gradient([c, n], x) is None


def test_operations_before_the_block_are_constants():
    x = cr.tensor(2.0, requires_grad=True)
    before = x * x                               # recorded by chainrule, not by the tape
    with GradientTape() as tape:
        z = before * 3 + x
    assert values(tape.gradient(z, [x, before])) == [1.0, None]
    # chainrule's own graph is left intact: backward still goes all the way.
    z.backward()
    assert x.grad.item() == 1.0 + 3 * 2 * 2.0


def test_a_freed_graph_before_the_block_is_not_touched():
    x = cr.tensor(2.0, requires_grad=True)
    before = cr.exp(x)
    before.backward()                            # frees exp's saved output
    with GradientTape() as tape:
        z = before * x
    assert tape.gradient(z, x).item() == pytest.approx(math.exp(2.0))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()                             # chainrule's backward does go there


def test_unwatched_operations_inside_the_block_are_constants():
    a, b = variables(3.0, 5.0)
    with GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(b)
        u = a * 2                                # uses only an unwatched variable: not recorded
        z = u * b
    assert values(tape.gradient(z, [a, b, u])) == [None, 6.0, None]
    z.backward()                                 # the graph is whole again after the tape's walk
    assert (a.grad.item(), b.grad.item()) == (10.0, 6.0)


def test_multi_output_operations():
    a0 = np.array([[2.0, 1.0], [1.0, 3.0]])
    a = cr.tensor(a0, dtype=cr.float64, requires_grad=True)
    w, v = cr.linalg.eigh(a)                     # before the tape: constants unless watched
    with GradientTape(persistent=True) as tape:
        tape.watch(v)
        y = (v * v * 2).sum() + (w * a.sum()).sum()
    ga, gw, gv = tape.gradient(y, [a, w, v])
    assert gw is None
    assert np.allclose(ga.numpy(), np.full((2, 2), np.linalg.eigvalsh(a0).sum()))
    assert np.allclose(gv.numpy(), 4 * v.detach().numpy())
    with GradientTape() as tape:
        w2, v2 = cr.linalg.eigh(a)
    d_trace, d_v = tape.gradient(w2, [a, v2], unconnected_gradients="zero")
    assert np.allclose(d_trace.numpy(), np.eye(2)) and d_v.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_custom_function_inside_a_tape():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape() as tape:
        y = Cube.apply(x) + x
    assert tape.gradient(y, x).item() == 13.0


def test_gradient_inside_a_non_persistent_block_stops_recording_it():
    x = cr.tensor(3.0, requires_grad=True)
    with GradientTape() as tape:
        y = x * x
        with warnings.catch_warnings():
            warnings.simplefilter("error")             # TensorFlow warns only for persistent tapes
            dy = tape.gradient(y, x)
        assert dy.grad_fn is None                      # no tape recording now: not recorded
        w = y * 2
    assert dy.item() == 6.0
    with pytest.raises(RuntimeError, match="can only be used to compute one set of gradients"):
        tape.gradient(w, x)


def test_re_entering_tapes():
    x = cr.tensor(2.0, requires_grad=True)
    tape = GradientTape(persistent=True)
    with tape:
        a = x * x
    with tape:                                   # a persistent tape goes on recording
        b = a * x
    assert tape.gradient(b, x).item() == 12.0
    once = GradientTape()
    with once:
        a = x * x
    assert once.gradient(a, x).item() == 4.0
    with once:                                   # a used-up tape entered again starts afresh
        b = a * x
    assert once.gradient(b, x).item() == 4.0     # a (recorded before) is a constant now
    with tape:
        with pytest.raises(ValueError, match="Tape is still recording"):
            tape.__enter__()


# ------------------------------------------------------------------------------------------- higher order
def test_nested_tapes_on_a_constant():
    # tf.GradientTape's docstring: dy_dx = 2x = 10, d2y_dx2 = 2 at x = 5.
    x = cr.tensor(5.0)
    with GradientTape() as g:
        g.watch(x)
        with GradientTape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    d2y_dx2 = g.gradient(dy_dx, x)
    assert (dy_dx.item(), d2y_dx2.item()) == (10.0, 2.0)
    assert not x.requires_grad


def test_persistent_tape_docstring_example():
    x = cr.tensor(3.0)
    with GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    assert g.gradient(z, x).item() == 108.0      # 4x³
    assert g.gradient(y, x).item() == 6.0


def test_third_derivative_with_three_tapes():
    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape() as t3:
        with GradientTape() as t2:
            with GradientTape() as t1:
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert values([d1, d2, d3]) == [32.0, 48.0, 48.0]      # 4x³, 12x², 24x


def test_outer_tape_records_through_inner_stop_recording():
    x = cr.tensor(2.0, requires_grad=True)
    with GradientTape() as outer:
        with GradientTape() as inner:
            a = x * x
            with inner.stop_recording():
                b = a * x                       # the outer tape still records (TensorFlow pops one tape)
            c = a + b
    assert inner.gradient(c, x).item() == 4.0
    assert outer.gradient(c, x).item() == 4.0 + 12.0


# ------------------------------------------------------------------------------------------- stop_recording / reset
def test_stop_recording():
    x, y = variables(2.0, 3.0)
    with GradientTape() as t:
        x_sq = x * x
        with t.stop_recording():
            y_sq = y * y
            assert not cr.is_grad_enabled()     # chainrule.no_grad while no other tape records
        assert cr.is_grad_enabled()
        z = x_sq + y_sq
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].item() == 4.0 and grad["y"] is None
    assert not y_sq.requires_grad


def test_stop_recording_for_gradients_of_a_persistent_tape():
    x = cr.tensor(3.0, requires_grad=True)
    with GradientTape(persistent=True) as t:
        loss = x ** 3
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with t.stop_recording():
                g = t.gradient(loss, x)         # not recorded, and no warning
    assert g.item() == 27.0 and g.grad_fn is None


def test_reset():
    x, y = variables(2.0, 3.0)
    for reset in (False, True):
        with GradientTape() as t:
            y_sq = y * y
            if reset:
                t.reset()
            z = x * x + y_sq
        grad = t.gradient(z, {"x": x, "y": y})
        assert grad["x"].item() == 4.0
        if reset:
            assert grad["y"] is None             # y * y was made before the reset
        else:
            assert grad["y"].item() == 6.0


def test_reset_forgets_watches():
    c = cr.tensor(2.0)
    with GradientTape() as t:
        t.watch(c)
        t.reset()
        assert not c.requires_grad
        y = c * c
    assert t.gradient(y, c) is None and t.watched_variables() == ()


def test_a_tape_records_inside_no_grad():
    x = cr.tensor(2.0, requires_grad=True)
    with cr.no_grad():
        with GradientTape() as tape:
            y = x * x
        assert not cr.is_grad_enabled()
    assert tape.gradient(y, x).item() == 4.0


def test_stop_recording_and_reset_errors():
    t = GradientTape()
    with pytest.raises(RuntimeError, match="Trying to stop recording a tape which is not recording"):
        with t.stop_recording():
            pass
    with pytest.raises(ValueError, match="Tape is not recording"):
        t.reset()
    with t:
        with t.stop_recording():
            with pytest.raises(ValueError, match="Tape is not recording"):
                t.reset()
            with pytest.raises(ValueError, match="Tape is not recording"):
                with t.stop_recording():
                    pass
    with pytest.raises(ValueError, match="Tape is not recording"):
        t.reset()


# ------------------------------------------------------------------------------------------- jacobians
def test_jacobian_docstring_examples():
    x = cr.tensor([1.0, 2.0])
    with GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.jacobian(y, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    with GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.batch_jacobian(y, x).tolist() == [[[2, 0], [0, 4]], [[6, 0], [0, 8]]]


def test_jacobian_shapes_and_scalar_source():
    x = cr.linspace(-10.0, 10.0, 201)
    delta = cr.tensor(0.0, requires_grad=True)
    with GradientTape() as tape:
        y = cr.sigmoid(x + delta)
    dy = tape.jacobian(y, delta)
    assert dy.shape == (201,)
    s = cr.sigmoid(x)
    assert np.allclose(dy.numpy(), (s * (1 - s)).numpy(), atol=1e-6)
    w = cr.randn(5, 10, requires_grad=True)
    inp = cr.randn(7, 5)
    with GradientTape(persistent=True) as tape:
        out = cr.relu(inp @ w)
    assert tape.jacobian(out, w).shape == (7, 10, 5, 10)
    assert tape.jacobian(out, {"w": w, "x": inp})["x"] is None
    assert tape.jacobian(out, [inp], unconnected_gradients="zero")[0].shape == (7, 10, 7, 5)


def test_batch_jacobian_is_the_diagonal_of_the_jacobian():
    gen = np.random.default_rng(0)
    x = cr.tensor(gen.standard_normal((7, 5)), dtype=cr.float64)
    w1 = cr.tensor(gen.standard_normal((5, 8)), dtype=cr.float64, requires_grad=True)
    w2 = cr.tensor(gen.standard_normal((8, 6)), dtype=cr.float64, requires_grad=True)
    with GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = cr.nn.functional.elu(cr.nn.functional.elu(x @ w1) @ w2)
    j = tape.jacobian(y, x)
    jb = tape.batch_jacobian(y, x)
    assert j.shape == (7, 6, 7, 5) and jb.shape == (7, 6, 5)
    diagonal = np.stack([j.numpy()[i, :, i, :] for i in range(7)])
    assert np.allclose(jb.numpy(), diagonal)
    assert tape.batch_jacobian(y, x, experimental_use_pfor=False).tolist() == jb.tolist()
    assert tape.jacobian(y, w1) is None                        # not watched
    assert tape.batch_jacobian(y * 0 + cr.ones(7, 6), x) is None


def test_batch_jacobian_errors():
    x = cr.ones(3, 2, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = x * 2
        v = x.sum(1)
        z = cr.ones(4, 2) * x.sum()
    with pytest.raises(ValueError, match=r"target must have rank at least 2.*\[3\]"):
        tape.batch_jacobian(v, x)
    with pytest.raises(ValueError, match=r"Need first dimension of target shape \(\[4, 2\]\) and source shape "
                                         r"\(\[3, 2\]\) to match"):
        tape.batch_jacobian(z, x)
    with pytest.raises(TypeError, match="source is a list"):
        tape.batch_jacobian(y, [x])
    assert tape.batch_jacobian(y, x).shape == (3, 2, 2)


def test_jacobian_without_pfor_needs_a_persistent_tape():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with GradientTape() as tape:
        y = x * x
    with pytest.raises(RuntimeError, match="must be created with persistent=True to compute the jacobian"):
        tape.jacobian(y, x, experimental_use_pfor=False)
    assert tape.jacobian(y, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    with pytest.raises(RuntimeError, match=NON_PERSISTENT_MESSAGE.replace("(", r"\(").replace(")", r"\)")):
        tape.jacobian(y, x)


def test_hessian_by_jacobian_of_a_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    gen = np.random.default_rng(1)
    w0 = gen.standard_normal((3, 4))
    data = gen.standard_normal((5, 3))

    def loss_of(lib, w, x):
        return ((lib.tanh(x @ w)) ** 2).mean()

    w = cr.tensor(w0, dtype=cr.float64, requires_grad=True)
    x = cr.tensor(data, dtype=cr.float64)
    with GradientTape() as t2:
        with GradientTape() as t1:
            loss = loss_of(cr, w, x)
        g = t1.gradient(loss, w)
    h = t2.jacobian(g, w)
    assert h.shape == (3, 4, 3, 4)
    expected = torch.autograd.functional.hessian(
        lambda wt: loss_of(torch, wt, torch.tensor(data)), torch.tensor(w0))
    assert np.allclose(h.numpy(), expected.numpy(), atol=1e-10)


def test_jacobian_matches_torch():
    torch = pytest.importorskip("torch")
    gen = np.random.default_rng(2)
    a0, b0 = gen.standard_normal((2, 3)), gen.standard_normal(3)

    def fn(lib, a, b):
        return lib.exp(a) * b + (a * a).sum(0)

    a = cr.tensor(a0, dtype=cr.float64, requires_grad=True)
    b = cr.tensor(b0, dtype=cr.float64, requires_grad=True)
    with GradientTape() as tape:
        y = fn(cr, a, b)
    ja, jb = tape.jacobian(y, (a, b))
    ea, eb = torch.autograd.functional.jacobian(lambda p, q: fn(torch, p, q),
                                                (torch.tensor(a0), torch.tensor(b0)))
    assert ja.shape == (2, 3, 2, 3) and jb.shape == (2, 3, 3)
    assert np.allclose(ja.numpy(), ea.numpy()) and np.allclose(jb.numpy(), eb.numpy())


def test_jacobian_inside_an_outer_tape_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x ** 3
        j = inner.jacobian(y, x)                 # diag(3x²)
    assert j.tolist() == [[3.0, 0.0], [0.0, 12.0]]
    assert outer.gradient(j, x).tolist() == [6.0, 12.0]    # d sum(3x²)/dx = 6x


# ------------------------------------------------------------------------------------------- errors
def test_gradient_on_a_tape_never_used():
    x = cr.tensor(1.0, requires_grad=True)
    tape = GradientTape()
    y = x * 2
    with pytest.raises(RuntimeError, match="this tape has not recorded anything yet"):
        tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="has not recorded anything yet"):
        tape.jacobian(y, x)
    with pytest.raises(RuntimeError, match="has not recorded anything yet"):
        tape.watch(x)


def test_non_persistent_tape_used_twice():
    x = cr.tensor(1.0, requires_grad=True)
    with GradientTape() as tape:
        y = x * 2
    tape.gradient(y, x)
    with pytest.raises(RuntimeError) as error:
        tape.gradient(y, x)
    assert str(error.value).startswith(NON_PERSISTENT_MESSAGE)
    assert NON_PERSISTENT_MESSAGE == ("A non-persistent GradientTape can only be used to compute one set of "
                                      "gradients (or jacobians)")
    with pytest.raises(RuntimeError, match="one set of gradients"):
        tape.batch_jacobian(y, x)


def test_bad_targets_and_sources():
    x = cr.tensor(1.0, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = x * 2
    with pytest.raises(TypeError, match=r"sources\[1\] is a float, not a chainrule Tensor"):
        tape.gradient(y, [x, 1.0])
    with pytest.raises(TypeError, match=r"sources\['b'\] is a NoneType"):
        tape.gradient(y, {"a": x, "b": None})
    with pytest.raises(TypeError, match="target is a float"):
        tape.gradient(2.0, x)
    with pytest.raises(TypeError, match="target is a list"):
        tape.jacobian([y], x)
    with pytest.raises(TypeError, match="sources is a ndarray"):
        tape.gradient(y, np.ones(2))
    assert tape.gradient(y, x).item() == 2.0     # errors do not use the tape up


def test_repr_and_state():
    tape = GradientTape(persistent=True)
    assert "idle" in repr(tape)
    with tape:
        assert "recording" in repr(tape)
    once = GradientTape()
    with once:
        y = cr.tensor(1.0, requires_grad=True) * 2
    once.gradient(y, [])
    assert "used up" in repr(once)
