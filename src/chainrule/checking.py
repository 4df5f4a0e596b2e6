"""``check_derivatives``: compute the derivatives of one function by every method chainrule has (reverse mode,
forward mode, finite differences and, when the function can be traced, the symbolic layer) and report how
far apart they are.

    report = chainrule.check_derivatives(lambda x, y: x * x * y + y + 2, 3.0, 4.0)
    print(report)          # a table: the values by each method, then the largest difference of each pair
    assert report.ok

Everything runs in float64 (inputs are converted), so exact methods agree to rounding and the finite
difference to its truncation error. Pairs of exact methods (reverse, forward, symbolic) are held to
``exact_tol``; pairs with the finite difference to ``atol + rtol * |value|``.
"""
import inspect
import itertools

import numpy as np

METHODS = ("reverse", "forward", "numerical", "symbolic")
EXACT = frozenset({"reverse", "forward", "symbolic"})


class PairDifference:
    """The largest disagreement between two methods: ``max_abs`` at flat position ``index``, named by
    ``where`` (e.g. ``"d f / d x[1]"``), and whether it is within tolerance (``ok``)."""

    def __init__(self, first, second, max_abs, index, where, ok, tolerance):
        self.first, self.second = first, second
        self.max_abs, self.index, self.where, self.ok, self.tolerance = max_abs, index, where, ok, tolerance

    def __repr__(self):
        flag = "ok" if self.ok else "MISMATCH"
        return f"PairDifference({self.first} vs {self.second}: {self.max_abs:.3g} at {self.where}, {flag})"


class DerivativeReport:
    """What :func:`check_derivatives` found.

    ``values[method]``: the derivatives as a 2-D float64 array (order 1: the Jacobian, one row per output
    element and one column per input element, inputs side by side; order 2: the Hessian, inputs side by side
    both ways). ``skipped[method]``: why a method has no values. ``pairs``: one :class:`PairDifference` per
    pair of methods that have values. ``ok``: every pair within tolerance. ``str(report)`` is a table."""

    def __init__(self, order, labels, values, skipped, pairs):
        self.order, self.labels, self.values, self.skipped, self.pairs = order, labels, values, skipped, pairs

    @property
    def ok(self):
        return all(pair.ok for pair in self.pairs)

    @property
    def mismatches(self):
        return [pair for pair in self.pairs if not pair.ok]

    def __bool__(self):
        return self.ok

    def __str__(self):
        methods = list(self.values) + list(self.skipped)
        rows = [["derivative", *methods]]
        for flat, label in enumerate(self.labels):
            rows.append([label, *(_fmt(self.values[m].flat[flat]) if m in self.values else "n/a" for m in methods)])
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        for method, reason in self.skipped.items():
            lines.append(f"{method}: {reason}")
        if self.pairs:
            lines.append("largest difference between methods:")
            for pair in self.pairs:
                flag = "ok" if pair.ok else f"MISMATCH (tolerance {pair.tolerance:.1e})"
                lines.append(f"  {pair.first} vs {pair.second}: {pair.max_abs:.3g} at {pair.where}  {flag}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<DerivativeReport order={self.order} methods={list(self.values)} ok={self.ok}>"


def _fmt(value):
    return f"{value + 0.0:.10g}"  # + 0.0: print -0 as 0


def check_derivatives(f, *inputs, order=1, methods=METHODS, names=None, atol=None, rtol=None, exact_tol=1e-8,
                      eps=None, expression=None):
    """Differentiate ``f`` at ``inputs`` by each of ``methods`` and compare the results pairwise.

    ``f`` takes chainrule tensors (one per input) and returns a tensor (a scalar for ``order=2``).
    ``inputs``: numbers, NumPy arrays or tensors; they are converted to float64 tensors. ``order``: 1 for the
    Jacobian (the gradient for a scalar ``f``), 2 for the Hessian. ``methods``: any of "reverse", "forward",
    "numerical" (finite differences, ``chainrule.numerical`` with step ``eps``) and "symbolic"
    (``chainrule.symbolic.trace``; reported as "n/a (not traceable: reason)" when ``f`` cannot be traced,
    e.g. for array inputs). ``names``: the inputs' names in the report (default: ``f``'s parameter names).
    ``expression``: a ``chainrule.symbolic`` expression of ``f`` in ``names``, used for the symbolic
    column instead of tracing ``f``. ``atol``/``rtol``: tolerance of pairs with the finite difference
    (default 1e-6/1e-5 for order 1, 1e-4/1e-4 for order 2); ``exact_tol``: tolerance (absolute and
    relative) between exact methods.
    Returns a :class:`DerivativeReport`."""
    import chainrule

    if order not in (1, 2):
        raise ValueError(f"check_derivatives: order must be 1 (Jacobian) or 2 (Hessian), got {order!r}")
    if not inputs:
        raise ValueError("check_derivatives: give at least one input, e.g. check_derivatives(f, 3.0, 4.0)")
    if isinstance(methods, str):
        methods = (methods,)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"check_derivatives: unknown method(s) {unknown}; choose from {list(METHODS)}")
    tensors = tuple(_as_float64(chainrule, x) for x in inputs)
    names = _input_names(f, len(tensors), names)
    with chainrule.no_grad():
        output = f(*tensors)
    if not isinstance(output, chainrule.Tensor):
        raise TypeError(f"check_derivatives: f must return one chainrule tensor, got {type(output).__name__}; "
                        "for several outputs, check each one (or stack them)")
    if order == 2 and output.numel() != 1:
        raise ValueError(f"check_derivatives: order=2 needs a scalar f, but f returns shape {tuple(output.shape)}")
    if atol is None:
        atol = 1e-6 if order == 1 else 1e-4
    if rtol is None:
        rtol = 1e-5 if order == 1 else 1e-4
    labels = _labels(names, tensors, output, order)

    values, skipped = {}, {}
    for method in methods:
        if method == "symbolic":
            result = _symbolic(f, tensors, names, output, order, expression)
            if isinstance(result, str):
                skipped[method] = f"n/a (not traceable: {result})"
                continue
        else:
            result = _COMPUTE[method](chainrule, f, tensors, output, order, eps)
        values[method] = np.asarray(result, dtype=np.float64).reshape(len(labels))

    pairs = []
    for a, b in itertools.combinations(values, 2):
        exact = a in EXACT and b in EXACT
        tol_abs, tol_rel = (exact_tol, exact_tol) if exact else (atol, rtol)
        difference = np.abs(values[a] - values[b])
        allowed = tol_abs + tol_rel * np.maximum(np.abs(values[a]), np.abs(values[b]))
        worst = int(np.argmax(difference - allowed))  # the element most beyond (or least within) tolerance
        top = int(np.argmax(difference))
        index = worst if difference[worst] > allowed[worst] else top
        pairs.append(PairDifference(a, b, float(difference[index]), index, labels[index],
                                    bool(np.all(difference <= allowed)), float(allowed[index])))
    return DerivativeReport(order, labels, values, skipped, pairs)


def _as_float64(chainrule, x):
    if isinstance(x, chainrule.Tensor):
        return x.detach().to(chainrule.float64)
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"check_derivatives: inputs must be numbers, arrays or tensors, got {type(x).__name__}")
    return chainrule.tensor(array.astype(np.float64), dtype=chainrule.float64)


def _input_names(f, count, names):
    if names is not None:
        names = names.split() if isinstance(names, str) else list(names)
        if len(names) != count:
            raise ValueError(f"check_derivatives: {len(names)} names for {count} inputs")
        return names
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= count:
        return params[:count]
    return ["x"] if count == 1 else [f"x{i}" for i in range(count)]


def _elements(name, tensor):
    if tensor.dim() == 0:
        return [name]
    return [f"{name}[{', '.join(map(str, index))}]" for index in np.ndindex(*tuple(tensor.shape))]


def _labels(names, tensors, output, order):
    columns = [label for name, t in zip(names, tensors) for label in _elements(name, t)]
    if order == 1:
        rows = _elements("f", output)
        return [f"d{row}/d{col}" for row in rows for col in columns]
    return [f"d2f/d{a}d{b}" for a in columns for b in columns]


def _array(value):
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value, dtype=np.float64)


def _flatten_jacobian(jac, tensors, output):
    """jacobian(..., tuple of inputs) of one output: a tuple of output.shape + input.shape blocks."""
    m = output.numel()
    return np.hstack([_array(block).reshape(m, t.numel()) for block, t in zip(jac, tensors)])


def _flatten_hessian(hess, tensors):
    return np.block([[_array(hess[i][j]).reshape(a.numel(), b.numel()) for j, b in enumerate(tensors)]
                     for i, a in enumerate(tensors)])


def _reverse(chainrule, f, tensors, output, order, eps):
    functional = chainrule.autograd.functional
    if order == 1:
        return _flatten_jacobian(functional.jacobian(f, tensors, mode="reverse"), tensors, output)
    return _flatten_hessian(functional.hessian(f, tensors, outer_jacobian_strategy="reverse-mode"), tensors)


def _forward(chainrule, f, tensors, output, order, eps):
    """Order 1: one forward-mode (dual number) pass per input element. Order 2: forward over reverse (the
    forward-mode Jacobian of the reverse-mode gradient)."""
    functional = chainrule.autograd.functional
    if order == 1:
        return _flatten_jacobian(functional.jacobian(f, tensors, mode="forward"), tensors, output)
    return _flatten_hessian(functional.hessian(f, tensors, outer_jacobian_strategy="forward-mode"), tensors)


def _numerical(chainrule, f, tensors, output, order, eps):
    """Central differences from chainrule.numerical (default steps from machine epsilon and |x|)."""
    from . import numerical
    if order == 1:
        jac = numerical.jacobian(f, *tensors, eps=eps)
        return _flatten_jacobian(jac if len(tensors) > 1 else (jac,), tensors, output)
    hess = numerical.hessian(f, *tensors, eps=eps)
    return _flatten_hessian(hess if len(tensors) > 1 else ((hess,),), tensors)


_COMPUTE = {"reverse": _reverse, "forward": _forward, "numerical": _numerical}


def _symbolic(f, tensors, names, output, order, expression=None):
    """The symbolic derivatives as an array, or the reason (a string) why f cannot be traced."""
    try:
        from . import symbolic
    except ImportError as error:
        return f"chainrule.symbolic cannot be imported ({error})"
    bad = [name for name, t in zip(names, tensors) if t.dim() != 0]
    if bad or output.dim() != 0:
        what = f"input {bad[0]!r} is not a scalar" if bad else f"f returns shape {tuple(output.shape)}"
        return f"{what}; symbolic tracing works on scalar functions of scalars"
    if expression is None:
        try:
            expression = symbolic.trace(f, " ".join(names))
        except Exception as error:  # noqa: BLE001 - any failure to trace means "not traceable", with its reason
            return f"{type(error).__name__}: {error}"
    return symbolic_values(expression, names, {n: t.item() for n, t in zip(names, tensors)}, order)


def symbolic_values(expression, names, at, order):
    """The gradient (order 1, shape (1, n)) or Hessian (order 2, n x n) of a symbolic expression in ``names``
    evaluated at the values ``at`` (a dict name -> number)."""
    from . import symbolic
    variables = symbolic.symbols(" ".join(names))
    first = [expression.diff(v) for v in variables]
    if order == 1:
        return np.array([[float(d.evaluate(**at)) for d in first]])
    return np.array([[float(d.diff(v).evaluate(**at)) for v in variables] for d in first])
