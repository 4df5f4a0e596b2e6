"""Numerical differentiation: derivatives from function values alone (finite differences).

Works on any Python function of Python numbers, NumPy arrays or chainrule tensors; no graph is recorded.

    from chainrule import numerical
    gx, gy = numerical.gradient(lambda x, y: x * x * y + y + 2, 3.0, 4.0)   # ≈ 24, 10

Methods (``method=``):

- ``"forward"``:    (f(x + h) - f(x)) / h                       truncation O(h),   h = √ε·max(|x|, 1)
- ``"central"``:    (f(x + h) - f(x - h)) / 2h                  truncation O(h²),  h = ∛ε·max(|x|, 1)
- ``"complex"``:    Im f(x + ih) / h (complex step, no cancellation; f must accept complex numbers and be
  analytic: no abs, max, comparisons or .real), h = ε·max(|x|, 1)
- ``"richardson"``: central differences at h and h/2 combined, truncation O(h⁴), h = ε^(1/5)·max(|x|, 1)

ε is the machine epsilon of the inputs' dtype (float32 tensors: 1.2e-7; everything else float64: 2.2e-16).
``eps=`` overrides the step with one absolute value for every element. Smaller is not better: the error
falls with h until rounding (≈ ε·|f| / h) takes over, so the error curve against h is V-shaped
(see :func:`error_curve` and :func:`plot_error_curve`).
"""
import numpy as np

__all__ = ["METHODS", "derivative", "gradient", "jacobian", "hessian", "default_step", "error_curve",
           "ErrorCurve", "plot_error_curve"]

METHODS = ("forward", "central", "complex", "richardson")

# Step = machine epsilon ** power * max(|x|, 1): the power balances truncation against rounding error.
_POWER = {"forward": 1 / 2, "central": 1 / 3, "complex": 1.0, "richardson": 1 / 5}
# Second derivatives by second differences: forward (error O(h) + ε/h²) and central (O(h²) + ε/h²).
_POWER2 = {"forward": 1 / 3, "central": 1 / 4}


# --------------------------------------------------------------------------- inputs and outputs
class _Inputs:
    """The inputs flattened into one float vector, and the way back to the caller's kinds (number, array,
    chainrule tensor) for calling f and for returning results."""

    def __init__(self, xs, caller):
        from ._tensor import Tensor
        if not xs:
            raise TypeError(f"numerical.{caller}: give at least one input to differentiate at, "
                            f"e.g. numerical.{caller}(f, 3.0)")
        self.kinds, self.shapes, self.tdtypes, parts = [], [], [], []
        for i, x in enumerate(xs):
            if isinstance(x, Tensor):
                kind, tdtype, arr = "tensor", x.dtype, np.asarray(x.detach().numpy())
            elif isinstance(x, np.ndarray):
                kind, tdtype, arr = "array", None, x
            elif isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)):
                raise TypeError(f"numerical.{caller}: input {i} is a {type(x).__name__}; give a Python number, "
                                "a NumPy array or a chainrule tensor")
            else:
                kind, tdtype, arr = "number", None, np.asarray(x)
            if np.iscomplexobj(arr):
                raise TypeError(f"numerical.{caller}: input {i} is complex; numerical derivatives are taken "
                                "at real points (method='complex' adds the imaginary step itself)")
            self.kinds.append(kind)
            self.tdtypes.append(tdtype)
            self.shapes.append(arr.shape)
            parts.append(arr)
        floats = [p.dtype for p in parts if p.dtype.kind == "f"]
        # float32 only when every floating input is float32 (or narrower); integers are promoted to float64.
        self.dtype = np.dtype(np.float32) if floats and all(d.itemsize <= 4 for d in floats) \
            and all(p.dtype.kind == "f" for p in parts) else np.dtype(np.float64)
        self.vector = np.concatenate([np.asarray(p, dtype=self.dtype).ravel() for p in parts])
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.caller = caller

    def split(self, flat, axis=0):
        """Cut a flat axis into one array per input, each reshaped to that input's shape."""
        out, start = [], 0
        for size, shape in zip(self.sizes, self.shapes):
            piece = np.take(flat, np.arange(start, start + size), axis=axis)
            out.append(piece.reshape(flat.shape[:axis] + shape + flat.shape[axis + 1:]))
            start += size
        return out

    def call(self, f, vector):
        """f at the point ``vector`` (real or complex), given to f in the caller's kinds; returns an array."""
        from ._tensor import tensor
        from .autograd.grad_mode import no_grad
        args = []
        for kind, tdtype, piece in zip(self.kinds, self.tdtypes, self.split(vector)):
            if kind == "tensor":
                args.append(tensor(piece, dtype=tdtype if tdtype.is_floating_point else None))
            elif kind == "number":
                args.append(piece.item())
            else:
                args.append(piece.copy())
        with no_grad():
            out = f(*args)
        return _as_array(out, self.caller)

    def wrap(self, value, index):
        """A result for input ``index`` in that input's kind: float, ndarray or chainrule tensor."""
        from ._tensor import tensor
        if self.kinds[index] == "tensor":
            tdtype = self.tdtypes[index]
            return tensor(np.asarray(value), dtype=tdtype if tdtype.is_floating_point else None)
        if self.kinds[index] == "number" and np.ndim(value) == 0:
            return float(value)
        return np.asarray(value)


def _as_array(out, caller):
    from ._tensor import Tensor
    if isinstance(out, Tensor):
        out = out.detach().numpy()
    try:
        arr = np.asarray(out)
    except Exception as exc:  # pragma: no cover - exotic return values
        raise TypeError(f"numerical.{caller}: f returned a {type(out).__name__}, which is not a number, "
                        "array or tensor") from exc
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"numerical.{caller}: f returned {type(out).__name__} of dtype {arr.dtype}; "
                        "f must return numbers, NumPy arrays or chainrule tensors")
    return arr


def _check_method(method, caller, allowed=METHODS):
    if method not in allowed:
        raise ValueError(f"numerical.{caller}: unknown method {method!r}; use one of {', '.join(allowed)}")


def _steps(inputs, method, eps, power=None):
    """One step per element of the flat input vector; exactly representable (x + h - x == h) for real steps."""
    if eps is not None:
        if not np.isscalar(eps) or not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"numerical.{inputs.caller}: eps must be a positive number (the absolute step), "
                             f"got {eps!r}; leave eps=None for a step chosen from the dtype and |x|")
        h = np.full(inputs.vector.shape, float(eps), dtype=inputs.dtype)
    else:
        power = _POWER[method] if power is None else power
        h = (np.finfo(inputs.dtype).eps ** power * np.maximum(np.abs(inputs.vector), 1)).astype(inputs.dtype)
    if method != "complex":
        h = (inputs.vector + h) - inputs.vector
        if np.any(h == 0):
            raise ValueError(f"numerical.{inputs.caller}: the step eps={eps!r} vanishes next to the input "
                             f"(x + eps == x in {inputs.dtype}); use a larger eps")
    return h


def default_step(x, method="central", dtype=None):
    """The step a method uses by default at x: machine epsilon ** p · max(|x|, 1), with p = 1/2 (forward),
    1/3 (central), 1 (complex) or 1/5 (richardson); ε from ``dtype`` (default: x's, float64 for integers)."""
    _check_method(method, "default_step")
    arr = np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)
    dtype = np.dtype(dtype) if dtype is not None else (arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64))
    out = np.finfo(dtype).eps ** _POWER[method] * np.maximum(np.abs(arr.astype(dtype)), 1)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- first derivatives
def _jacobian_flat(f, inputs, method, eps):
    """d f / d vector as an array of shape f.shape + (n,), by the chosen method, one column per element."""
    _check_method(method, inputs.caller)
    x = inputs.vector
    h = _steps(inputs, method, eps)
    n = x.size
    if method == "complex":
        if "tensor" in inputs.kinds:
            raise TypeError(f"numerical.{inputs.caller}: method='complex' needs complex inputs, and chainrule "
                            "tensors have no complex dtype; pass NumPy arrays or Python numbers, or use "
                            "method='central' or 'richardson'")
        cdtype = np.result_type(inputs.dtype, np.complex64)
        columns = []
        for i in range(n):
            z = x.astype(cdtype)
            z[i] += 1j * h[i]
            try:
                out = inputs.call(f, z)
            except TypeError as exc:
                raise TypeError(f"numerical.{inputs.caller}: method='complex' calls f with complex numbers and "
                                f"f failed ({exc}); write f with NumPy or cmath functions, or use "
                                "method='central' or 'richardson'") from exc
            columns.append(np.imag(out) / h[i])
        return np.stack(columns, axis=-1) if columns else np.zeros((0,))
    f0 = inputs.call(f, x) if method == "forward" else None
    _check_real(f0, inputs.caller)

    def central(i, step):
        e = np.zeros_like(x)
        e[i] = step
        hi = (x + e)[i] - (x - e)[i]  # the step actually taken, after rounding
        return (_check_real(inputs.call(f, x + e), inputs.caller)
                - _check_real(inputs.call(f, x - e), inputs.caller)) / hi

    columns = []
    for i in range(n):
        if method == "forward":
            e = np.zeros_like(x)
            e[i] = h[i]
            columns.append((_check_real(inputs.call(f, x + e), inputs.caller) - f0) / h[i])
        elif method == "central":
            columns.append(central(i, h[i]))
        else:  # richardson: D(h/2) + (D(h/2) - D(h)) / 3 cancels the h² term of the central difference
            d1, d2 = central(i, h[i]), central(i, h[i] / 2)
            columns.append(d2 + (d2 - d1) / 3)
    return np.stack(columns, axis=-1)


def _check_real(value, caller):
    if value is not None and np.iscomplexobj(value):
        raise TypeError(f"numerical.{caller}: f returned complex values at real inputs; "
                        "finite differences need a real-valued f")
    return value


def _scalar_output(f, caller):
    def g(*args):
        out = f(*args)
        arr = _as_array(out, caller)
        if arr.size != 1:
            raise ValueError(f"numerical.{caller}: f must return one number, but returned shape {arr.shape}; "
                             "use numerical.jacobian for functions with several outputs")
        return arr.reshape(())
    return g


def jacobian(f, *xs, eps=None, method="central"):
    """d f(xs) / d xs. For one input: an array of shape f.shape + x.shape; for several, a tuple with one such
    Jacobian per input. Results come back in the input's kind (number → float, array, tensor → tensor)."""
    inputs = _Inputs(xs, "jacobian")
    flat = _jacobian_flat(f, inputs, method, eps)
    pieces = inputs.split(flat, axis=flat.ndim - 1)
    out = tuple(inputs.wrap(p, i) for i, p in enumerate(pieces))
    return out[0] if len(out) == 1 else out


def gradient(f, *xs, eps=None, method="central"):
    """Gradient of a scalar function f at xs: for one input one result shaped like it, for several a tuple.
    ``numerical.gradient(lambda x, y: x*x*y + y + 2, 3.0, 4.0)`` ≈ (24.0, 10.0)."""
    inputs = _Inputs(xs, "gradient")
    flat = _jacobian_flat(_scalar_output(f, "gradient"), inputs, method, eps)
    out = tuple(inputs.wrap(p, i) for i, p in enumerate(inputs.split(flat)))
    return out[0] if len(out) == 1 else out


def derivative(f, x, eps=None, method="central"):
    """df/dx at one number x (f may return a number or an array: the result has f's shape)."""
    inputs = _Inputs((x,), "derivative")
    if inputs.vector.size != 1:
        raise ValueError(f"numerical.derivative: x must be one number, got shape {inputs.shapes[0]}; "
                         "use numerical.gradient or numerical.jacobian for arrays")
    flat = _jacobian_flat(f, inputs, method, eps)
    return inputs.wrap(flat.reshape(flat.shape[:-1] + inputs.shapes[0]), 0)


# --------------------------------------------------------------------------- second derivatives
def hessian(f, *xs, eps=None, method="central"):
    """Second derivatives of a scalar function f at xs. One input: an array of shape x.shape + x.shape;
    several: a tuple of tuples, H[i][j] of shape xs[i].shape + xs[j].shape.

    forward and central use second differences (step ε^(1/3) and ε^(1/4) times max(|x|, 1)); complex and
    richardson take central (complex) or Richardson (richardson) differences of that method's gradient."""
    inputs = _Inputs(xs, "hessian")
    _check_method(method, "hessian")
    g = _scalar_output(f, "hessian")
    x, n = inputs.vector, inputs.vector.size
    if method in ("forward", "central"):
        h = _steps(inputs, method, eps, power=_POWER2[method])
        call = lambda v: inputs.call(g, v)  # noqa: E731

        def shifted(*moves):
            v = x.copy()
            for i, s in moves:
                v[i] += s
            return call(v)
        H = np.empty((n, n), dtype=inputs.dtype)
        if method == "forward":
            f0 = call(x)
            f1 = [shifted((i, h[i])) for i in range(n)]
            for i in range(n):
                for j in range(i, n):
                    H[i, j] = H[j, i] = (shifted((i, h[i]), (j, h[j])) - f1[i] - f1[j] + f0) / (h[i] * h[j])
        else:
            for i in range(n):
                for j in range(i, n):
                    H[i, j] = H[j, i] = (shifted((i, h[i]), (j, h[j])) - shifted((i, h[i]), (j, -h[j]))
                                         - shifted((i, -h[i]), (j, h[j])) + shifted((i, -h[i]), (j, -h[j]))
                                         ) / (4 * h[i] * h[j])
    else:
        # Outer differences of the inner gradient: the inner one is accurate to ~ε (complex) or ~ε^(4/5)
        # (richardson), so the outer step divides a small error.
        inner_method, outer_method = method, ("central" if method == "complex" else "richardson")

        def grad_flat(v):
            sub = _Inputs([p.astype(inputs.dtype) for p in inputs.split(v)], "hessian")
            sub.kinds, sub.tdtypes = inputs.kinds, inputs.tdtypes
            return _jacobian_flat(g, sub, inner_method, None)

        outer = _Inputs([x.copy()], "hessian")
        H = _jacobian_flat(grad_flat, outer, outer_method, eps)
        H = (H + H.T) / 2
    blocks = [inputs.split(row, axis=row.ndim - 1) for row in inputs.split(H, axis=0)]
    out = tuple(tuple(inputs.wrap(b, i) for b in row) for i, row in enumerate(blocks))
    return out[0][0] if len(out) == 1 else out


# --------------------------------------------------------------------------- step-size studies
class ErrorCurve:
    """|numerical derivative − reference| at each step, for one method. ``best_step`` is the step with the
    smallest error; ``steps`` are in the order given (default: from 1 down to 1e-15)."""

    def __init__(self, steps, errors, estimates, reference, method):
        self.steps, self.errors, self.estimates = steps, errors, estimates
        self.reference, self.method = reference, method

    @property
    def best_step(self):
        return float(self.steps[int(np.argmin(self.errors))])

    def __repr__(self):
        return (f"ErrorCurve(method={self.method!r}, reference={self.reference!r}, {len(self.steps)} steps, "
                f"best_step={self.best_step:.3g}, min_error={float(np.min(self.errors)):.3g})")


def _reference(f, x):
    """The exact-as-possible derivative: complex step when f takes complex numbers, else Richardson."""
    try:
        return float(derivative(f, x, method="complex"))
    except TypeError:
        return float(derivative(f, x, method="richardson"))


def error_curve(f, x, steps=None, method="forward", reference=None):
    """The error of ``method`` against ``reference`` (default: the complex-step derivative when f accepts
    complex numbers, else Richardson) at each step size, for a function of one number x.

    With method="forward" the error first falls with the step (truncation, ∝ h) and then rises again
    (rounding, ∝ ε/h): the best step is near √ε·max(|x|, 1), about 1e-8 in float64."""
    _check_method(method, "error_curve")
    inputs = _Inputs((x,), "error_curve")
    if inputs.vector.size != 1:
        raise ValueError(f"numerical.error_curve: x must be one number, got shape {inputs.shapes[0]}; for a "
                         "function of several inputs fix the others, e.g. lambda t: f(t, 4.0)")
    steps = np.logspace(0, -15, 31) if steps is None else np.asarray(steps, dtype=np.float64).ravel()
    if steps.size == 0 or not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise ValueError("numerical.error_curve: steps must be positive finite numbers, e.g. np.logspace(0, -15, 31)")
    if reference is None:
        reference = _reference(f, x)
    estimates = np.array([np.asarray(derivative(f, x, eps=float(h), method=method), dtype=np.float64).item()
                          for h in steps])
    return ErrorCurve(steps, np.abs(estimates - reference), estimates, float(reference), method)


def plot_error_curve(f, x, path, steps=None, methods=("forward", "central"), reference=None, title=None):
    """Draw the error of each method against the step (log-log) into an image file (PNG, SVG, PDF: from the
    file name), with matplotlib's Agg canvas (no window, no global backend change). Returns the curves.
    Needs matplotlib (``pip install matplotlib``)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as exc:
        raise ImportError("numerical.plot_error_curve needs matplotlib, which is not installed: "
                          "pip install matplotlib (numerical.error_curve gives the same numbers without it)") from exc
    if isinstance(methods, str):
        methods = (methods,)
    for m in methods:
        _check_method(m, "plot_error_curve")
    if reference is None:
        reference = _reference(f, x)
    curves = [error_curve(f, x, steps, method=m, reference=reference) for m in methods]
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # An exact hit (error 0) would vanish from a log axis: draw it at a quarter of float64's resolution.
    floor = np.finfo(np.float64).eps * max(abs(float(reference)), 1.0) / 4
    for c in curves:
        ax.loglog(c.steps, np.maximum(c.errors, floor), marker="o", markersize=3,
                  label=f"{c.method} (best h ≈ {c.best_step:.0e})")
    ax.invert_xaxis()  # the step shrinks from left to right
    ax.set_xlabel("step h")
    ax.set_ylabel("|numerical − reference|")
    ax.set_title(title or f"finite-difference error at x = {float(np.asarray(x)):g}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(str(path))
    return curves
