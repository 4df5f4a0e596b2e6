"""gradcheck and gradgradcheck: compare the derivatives autograd computes with finite differences.

``gradcheck(func, inputs)`` builds, for every output ``o`` and every input ``i`` that requires grad, two
Jacobians of shape (``inputs[i].numel()``, ``outputs[o].numel()``) (PyTorch's layout: one row per input
element, one column per output element):

- analytical: reverse mode, one ``autograd.grad`` call per output element with a one-hot upstream gradient;
- numerical: central differences ``(f(x + eps e_k) - f(x - eps e_k)) / 2 eps`` of each input element, in
  float64.

They must agree within ``|analytical - numerical| <= atol + rtol * |numerical|``. On a mismatch a
``GradcheckError`` names the output, the input, the worst element (as a multi-index of the input and of the
output), both values, and prints both Jacobians when they are small. ``gradgradcheck`` runs gradcheck on
the gradient function ``(inputs, grad_outputs) -> autograd.grad(outputs, inputs, grad_outputs,
create_graph=True)``, which checks second derivatives.
"""
import warnings

import numpy as np

from .. import _tensor
from .engine import grad as _grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]

_SMALL_JACOBIAN = 36  # print both Jacobians in the error when they have at most this many entries


class GradcheckError(RuntimeError):
    """Autograd's derivatives disagree with finite differences (raised by gradcheck/gradgradcheck)."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``func`` takes the inputs positionally and returns a Tensor or a tuple of Tensors; ``inputs`` is a
    Tensor or a tuple (non-tensor entries are passed through unchanged). Every input that requires grad
    is checked (they should be float64: lower precision makes finite differences meaningless).
    Returns True; on a mismatch raises ``GradcheckError`` (or returns False with ``raise_exception=False``).

    ``fast_mode=True`` compares ``u^T J v`` for random ``u``, ``v`` instead of the full Jacobian (one
    backward per output instead of one per output element). ``nondet_tol`` is accepted and has no effect:
    chainrule's backward is deterministic. ``check_undefined_grad`` is always satisfied: the engine never
    hands an undefined gradient to a rule, and each Jacobian row is computed with the other outputs'
    gradients left undefined. Batched and forward-mode checks are not implemented.
    """
    _unsupported("gradcheck", check_batched_grad=check_batched_grad,
                 check_batched_forward_grad=check_batched_forward_grad, check_forward_ad=check_forward_ad,
                 masked=masked)
    if eps <= 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    inputs = _as_tuple(inputs)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, _tensor.Tensor) and x._rg]
    if not positions:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them "
                         "have requires_grad=True.")
    for i in positions:
        if inputs[i]._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or complex "
                f"(it is {inputs[i].dtype}). This check will likely fail if all the inputs are not of double "
                "precision floating point or complex.", UserWarning, stacklevel=2)
    if not check_backward_ad:
        return True
    try:
        if fast_mode:
            _check_fast(func, inputs, positions, eps, atol, rtol, check_grad_dtypes)
        else:
            _check_full(func, inputs, positions, eps, atol, rtol, check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> autograd.grad(func(inputs),
    inputs, grad_outputs, create_graph=True)``.

    Without ``grad_outputs``, random ones (uniform in [-1, 1], the outputs' shapes and dtypes, requiring
    grad; strided views with ``gen_non_contig_grad_outputs``) are drawn from chainrule's generator
    (``chainrule.manual_seed`` makes them reproducible). Gradients that autograd reports as unused count
    as zeros.
    """
    _unsupported("gradgradcheck", check_batched_grad=check_batched_grad, check_fwd_over_rev=check_fwd_over_rev,
                 masked=masked)
    if not check_rev_over_rev:
        return True
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        from .._factories import default_generator
        rng = default_generator()
        outputs = [out for out in _outputs(func(*inputs)) if out._rg]
        grad_outputs = tuple(_random_like(out, rng, gen_non_contig_grad_outputs) for out in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, _tensor.Tensor) and x._rg]

    def grad_function(*args):
        outs = [out for out in _outputs(func(*args[:len(args) - n_out])) if out._rg]
        if len(outs) != n_out:
            raise ValueError(f"gradgradcheck: func returned {len(outs)} outputs that require grad but "
                             f"{n_out} grad_outputs were given")
        wrt = [args[i] for i in positions]
        return _grad(outs, wrt, args[len(args) - n_out:], create_graph=True, allow_unused=True,
                     materialize_grads=True)

    return gradcheck(grad_function, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     fast_mode=fast_mode)


# ------------------------------------------------------------------------------------------ full check
def _check_full(func, inputs, positions, eps, atol, rtol, check_grad_dtypes):
    outputs = _outputs(func(*inputs))
    analytical = _analytical(outputs, inputs, positions, check_grad_dtypes)
    numerical = _numerical(func, inputs, positions, outputs, eps)
    for o, out in enumerate(outputs):
        if not _is_float(out):
            continue  # integer and bool outputs have no derivative
        for i in positions:
            jac_a, connected = analytical[o][i]
            jac_n = numerical[o][i]
            if not connected and np.any(jac_n != 0):
                raise GradcheckError(_unconnected_message(o, i, out, inputs[i], jac_n, jac_a))
            bad = ~_close(jac_a, jac_n, atol, rtol)
            if bad.any():
                raise GradcheckError(_mismatch_message(o, i, out, inputs[i], jac_a, jac_n, bad, atol, rtol))


def _analytical(outputs, inputs, positions, check_grad_dtypes):
    """analytical[o][i] = (Jacobian of output o w.r.t. input i, whether autograd connects them at all)."""
    wrt = [inputs[i] for i in positions]
    result = []
    for o, out in enumerate(outputs):
        jacobians = {i: np.zeros((inputs[i]._data.size, out._data.size)) for i in positions}
        connected = dict.fromkeys(positions, False)
        if out._rg and _is_float(out):
            for j in range(out._data.size):
                one_hot = np.zeros(out._data.shape, dtype=out._data.dtype)
                one_hot.flat[j] = 1
                grads = _grad(out, wrt, _tensor.make_tensor(one_hot), retain_graph=True, allow_unused=True)
                for i, g in zip(positions, grads):
                    if g is None:
                        continue
                    _check_grad(g, inputs[i], o, i, check_grad_dtypes)
                    connected[i] = True
                    jacobians[i][:, j] = g._data.reshape(-1)
        result.append({i: (jacobians[i], connected[i]) for i in positions})
    return result


def _numerical(func, inputs, positions, outputs, eps):
    """numerical[o][i]: central differences of output o with respect to each element of input i."""
    result = [{i: np.zeros((inputs[i]._data.size, out._data.size)) for i in positions} for out in outputs]
    for i in positions:
        for k, plus, minus in _perturbations(func, inputs, i, outputs, eps):
            for o in range(len(outputs)):
                if plus[o] is not None:
                    result[o][i][k, :] = ((plus[o] - minus[o]) / (2 * eps)).reshape(-1)
    return result


def _perturbations(func, inputs, i, outputs, eps, direction=None):
    """Yield (element k, outputs at x + eps e_k, outputs at x - eps e_k) for each element of input i (or
    once, k=None, along ``direction``). The input is perturbed in a private copy of its array, so the
    caller's memory is never written and read-only arrays work; the original is put back afterwards."""
    x = inputs[i]
    original = x._data
    work = np.array(original, copy=True, order="C")  # C order: reshape(-1) below must be a view
    x._data = work
    try:
        if direction is not None:
            yield None, *_evaluate_pair(func, inputs, outputs, work, direction * eps, Ellipsis)
            return
        flat = work.reshape(-1)
        for k in range(work.size):
            yield k, *_evaluate_pair(func, inputs, outputs, flat, eps, k)
    finally:
        x._data = original


def _evaluate_pair(func, inputs, outputs, array, step, where):
    saved = np.array(array[where], copy=True)
    try:
        array[where] = saved + step
        plus = _output_values(func(*inputs), outputs)
        array[where] = saved - step
        minus = _output_values(func(*inputs), outputs)
    finally:
        array[where] = saved
    return plus, minus


def _output_values(result, reference):
    """The float outputs as float64 copies (None for integer outputs), checked against the first call."""
    outputs = _outputs(result)
    if len(outputs) != len(reference):
        raise GradcheckError(f"func returned {len(outputs)} outputs for a perturbed input but {len(reference)} "
                             "at the original inputs; it must return the same structure every time")
    values = []
    for o, (out, ref) in enumerate(zip(outputs, reference)):
        if out.shape != ref.shape:
            raise GradcheckError(f"output {o} has shape {list(out.shape)} for a perturbed input but "
                                 f"{list(ref.shape)} at the original inputs")
        values.append(np.array(out._data, dtype=np.float64, copy=True) if _is_float(ref) else None)
    return values


# ------------------------------------------------------------------------------------------ fast mode
def _check_fast(func, inputs, positions, eps, atol, rtol, check_grad_dtypes):
    """Compare u^T J v for each (output, input) pair: u random per output, v random per input."""
    from .._factories import default_generator
    rng = default_generator()
    outputs = _outputs(func(*inputs))
    floats = [o for o, out in enumerate(outputs) if _is_float(out)]
    us = {o: _unit(rng.standard_normal(outputs[o]._data.shape)) for o in floats}
    vs = {i: _unit(rng.standard_normal(inputs[i]._data.shape)) for i in positions}
    for i in positions:
        for _, plus, minus in _perturbations(func, inputs, i, outputs, eps, direction=vs[i]):
            pass  # one step along vs[i]; the loop runs the generator to its end, which restores the input
        for o in floats:
            out = outputs[o]
            numerical = float(np.sum(us[o] * (plus[o] - minus[o]) / (2 * eps)))
            grad = None
            if out._rg:
                u = _tensor.make_tensor(us[o].astype(out._data.dtype))
                grad = _grad(out, [inputs[i]], u, retain_graph=True, allow_unused=True)[0]
            if grad is None:
                if numerical != 0:
                    raise GradcheckError(
                        f"output {o} does not depend differentiably on input {i} according to autograd "
                        f"(autograd.grad gives None), but the numerical directional derivative u^T J v is "
                        f"{numerical:.6g} (fast mode). Rerun with fast_mode=False to see which element.")
                continue
            _check_grad(grad, inputs[i], o, i, check_grad_dtypes)
            analytical = float(np.sum(grad._data * vs[i]))
            tolerance = atol * np.abs(us[o]).sum() * np.abs(vs[i]).sum() + rtol * abs(numerical)
            if not abs(analytical - numerical) <= tolerance:
                raise GradcheckError(
                    f"Jacobian mismatch for output {o} with respect to input {i} (fast mode: the Jacobian "
                    f"projected on random vectors, u^T J v).\n  analytical: {analytical!r}\n"
                    f"  numerical:  {numerical!r}\n  |difference| = {abs(analytical - numerical):.3g} > "
                    f"tolerance {tolerance:.3g}. Rerun with fast_mode=False to see which element is wrong.")


def _unit(v):
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


# ------------------------------------------------------------------------------------------ messages
def _close(a, n, atol, rtol):
    return np.abs(a - n) <= atol + rtol * np.abs(n)


def _index(shape, flat):
    return tuple(int(k) for k in np.unravel_index(flat, shape)) if shape else ()


def _mismatch_message(o, i, out, x, jac_a, jac_n, bad, atol, rtol):
    excess = np.where(bad, np.abs(jac_a - jac_n) - (atol + rtol * np.abs(jac_n)), -np.inf)
    k, j = np.unravel_index(int(np.argmax(excess)), jac_a.shape)
    a, n = jac_a[k, j], jac_n[k, j]
    lines = [
        f"Jacobian mismatch for output {o} with respect to input {i},",
        f"  worst element: input {i} element {_index(x.shape, k)} -> output {o} element {_index(out.shape, j)} "
        f"(Jacobian row {k}, column {j}; input {i} has shape {list(x.shape)}, output {o} has shape "
        f"{list(out.shape)})",
        f"  analytical: {float(a)!r}",
        f"  numerical:  {float(n)!r}",
        f"  |analytical - numerical| = {abs(a - n):.6g} > atol + rtol * |numerical| = {atol + rtol * abs(n):.6g}; "
        f"{int(bad.sum())} of {bad.size} entries differ.",
    ]
    if jac_a.size <= _SMALL_JACOBIAN:
        lines += [f"numerical Jacobian (rows: elements of input {i}, columns: elements of output {o}):",
                  _matrix(jac_n), "analytical Jacobian:", _matrix(jac_a)]
    return "\n".join(lines)


def _unconnected_message(o, i, out, x, jac_n, jac_a):
    k, j = np.unravel_index(int(np.argmax(np.abs(jac_n))), jac_n.shape)
    why = ("the output does not require grad" if not out._rg
           else "the input is not in the output's graph, or only through non-differentiable operations")
    lines = [
        f"Jacobian mismatch for output {o} with respect to input {i}: output {o} does not depend "
        f"differentiably on input {i} according to autograd (autograd.grad returns None: {why}), but the "
        "numerical gradient is nonzero.",
        f"  worst element: input {i} element {_index(x.shape, k)} -> output {o} element {_index(out.shape, j)} "
        f"(Jacobian row {k}, column {j})",
        "  analytical: None (treated as 0.0)",
        f"  numerical:  {float(jac_n[k, j])!r}",
    ]
    if jac_n.size <= _SMALL_JACOBIAN:
        lines += [f"numerical Jacobian (rows: elements of input {i}, columns: elements of output {o}):",
                  _matrix(jac_n), "analytical Jacobian:", _matrix(jac_a)]
    return "\n".join(lines)


def _matrix(m):
    return np.array2string(m, precision=6, suppress_small=True, max_line_width=120)


# ------------------------------------------------------------------------------------------ helpers
def _unsupported(caller, **flags):
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f"{caller}: {name}={value!r} is not supported by chainrule (only the "
                                      "default is); leave it at its default")


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _outputs(result):
    outputs = _as_tuple(result)
    for o, out in enumerate(outputs):
        if not isinstance(out, _tensor.Tensor):
            raise TypeError(f"gradcheck: func must return a Tensor or a tuple of Tensors; output {o} is a "
                            f"{type(out).__name__}")
    return outputs


def _is_float(t):
    return t._data.dtype.kind in "fc"


def _check_grad(g, x, o, i, check_dtypes):
    if g.shape != x.shape:
        raise GradcheckError(f"Gradient has incorrect size: the gradient of output {o} with respect to input {i} "
                             f"has shape {list(g.shape)} but the input has shape {list(x.shape)}")
    if check_dtypes and g._data.dtype != x._data.dtype:
        raise GradcheckError(f"Gradient has dtype mismatch: the gradient of output {o} with respect to input {i} "
                             f"is {g.dtype} but the input is {x.dtype}")


def _random_like(out, rng, non_contiguous):
    dtype = out._data.dtype if out._data.dtype.kind in "fc" else np.dtype(np.float64)
    shape = out._data.shape
    if non_contiguous and out._data.size > 1:
        data = rng.uniform(-1, 1, shape[:-1] + (2 * shape[-1],)).astype(dtype)[..., ::2]
    else:
        data = rng.uniform(-1, 1, shape).astype(dtype)
    return _tensor.make_tensor(data, None, True)
