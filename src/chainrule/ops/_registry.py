"""The op registry: one declaration per differentiable primitive, and ``apply()``, the hot path.

An op is declared once, next to its rules::

    defop("mul", lambda xp, a, b: a * b,
          vjp={"a": lambda g, out, a, b: g * b,
               "b": lambda g, out, a, b: g * a},
          jvp="elementwise", display="MulBackward0",
          samples=[S((3, 4), (3, 4)), S((3, 1), (4,)), S((2, 3), 1.5)])

- ``forward(xp, *arrays, **params)`` works on raw arrays; positional arguments are the inputs,
  keyword-only arguments are the op's parameters.
- each VJP rule is ``rule(g, out, *inputs, **params)`` written with chainrule Tensor ops, so it is
  itself differentiable (create_graph gives higher derivatives for free). Rules never undo
  broadcasting: the engine sums a gradient back to its input's shape (``sum_to``).
- ``jvp`` is a dict of rules ``rule(t, out, *inputs, **params)`` (the change of ``out`` for a change ``t``
  of that input), or "linear" (the op applied to the tangent), or "elementwise" (reuse the VJP rule
  with ``g = t``, valid where the Jacobian is diagonal up to broadcasting).
- Which inputs a node keeps alive is read off the rules: an input no rule mentions is not saved
  (so ``a + b`` does not pin ``a`` and ``b``, and may be changed in place afterwards).
"""
import dis
import inspect

import numpy as np

from .._backend import xp, ndarray
from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor, NO_GRAD_META, _TensorMeta
from ..autograd import anomaly, forward_ad, grad_mode
from ..autograd.cut import Cut
from ..autograd.graph import OpNode, accumulator, inplace_count, next_seq

REGISTRY = {}
_grad_state = grad_mode.state
_dual = forward_ad.state
_F64 = np.dtype(np.float64)
_generic = np.generic


class Op:
    """A registered primitive. Calling it applies it: ``op(*inputs, **params)``."""

    def __init__(self, name, forward, vjp, jvp, display, samples, view, saves, raw, torch, no_torch, order,
                 array_fn=None):
        self.name = name
        self.forward = forward
        self.array_fn = array_fn
        self.display = display or _display_name(name)
        signature = inspect.signature(forward)
        parameters = list(signature.parameters.values())[1:]  # drop xp
        self.varargs = any(p.kind is p.VAR_POSITIONAL for p in parameters)
        self.arg_names = tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL))
        self.param_names = tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
        unknown = set(vjp) - set(self.arg_names)
        if unknown:
            raise TypeError(f"op {name}: vjp rules for unknown inputs {sorted(unknown)}; inputs are {self.arg_names}")
        self.vjps = tuple(vjp.get(arg) for arg in self.arg_names)
        self.differentiable = tuple(rule is not None for rule in self.vjps)
        self.all_differentiable = all(self.differentiable) and not self.varargs
        self.jvp = jvp
        self.samples = list(samples or ())
        self.is_view = view
        self.raw = raw
        self.torch = torch
        self.no_torch = no_torch
        self.order = order
        read, meta_read = _names_read([rule for rule in self.vjps if rule is not None])
        if saves is not None:
            read = set(saves)
        self.saves_out = "out" in read
        self.saves = tuple(arg in read for arg in self.arg_names)
        self.meta_only = tuple(arg in meta_read and arg not in read for arg in self.arg_names)
        self.saves_any = any(self.saves) or any(self.meta_only)
        self.saves_tensors = any(self.saves) or self.saves_out  # what backward must free
        self.saves_all = all(self.saves)
        self.nothing_saved = (None,) * len(self.arg_names)
        # How the engine runs this op's rules on arrays itself (engine._run), for raw ops: 1 and 2, one or two
        # inputs and no parameters (rules called with positional arguments), 3 any other; 0 not at all
        # (OpNode.backward_raw runs them).
        if not raw or self.varargs:
            self.direct = 0
        elif not self.param_names and len(self.arg_names) in (1, 2):
            self.direct = len(self.arg_names)
        else:
            self.direct = 3
        self.node_class = type(self.display, (OpNode,), {"__slots__": (), "op": self, "frees": self.saves_tensors,
                                                         "direct": self.direct})
        # apply1/apply2 build this op's node inline (no _record call) when nothing unusual is needed: the
        # node keeps all inputs or none, the output is not a view, and every input is differentiable.
        self.fast = (raw and not view and not self.varargs and self.all_differentiable
                     and (self.saves_all or not self.saves_any))
        self.call1 = _caller1(self)
        self.call2 = _caller2(self)

    def __call__(self, *inputs, **params):
        return apply(self, *inputs, **params)

    def __repr__(self):
        return f"<op {self.name}: {self.display}>"

    def jvp_rule(self, position):
        """The forward-mode rule for input ``position``: ``rule(t, out, *inputs, **params)``."""
        if self.jvp == "elementwise":
            return self.vjps[position if not self.varargs else 0]
        if self.jvp == "linear":
            return _linear_jvp(self, position)
        return self.jvp[self.arg_names[min(position, len(self.arg_names) - 1)]]


def defop(name, forward, vjp, jvp, display=None, samples=(), view=False, saves=None, raw=False, torch=None,
          no_torch=None, order=2, array_fn=None):
    """Declare a primitive. See the module docstring. Optional:
    ``view``: the output may share memory with the first input (a NumPy view).
    ``saves``: override the inputs read off the rules (inputs without a rule get no gradient).
    ``raw=True``: the VJP rules give the same result on NumPy arrays as on Tensors (they use only
    arithmetic, comparisons and chainrule functions, no Tensor methods); the engine then runs them on
    arrays when no graph of the backward pass is needed (tests/test_raw_rules.py checks the promise).
    ``torch``: the same computation in PyTorch, ``torch(torch_module, *inputs, **params)``, which the
    registry test compares with; or ``no_torch``: why PyTorch has no equivalent.
    ``order``: how many times the op's rules can be differentiated (2, or 1 for an op whose derivative
    is piecewise constant or not differentiable again); the registry test checks up to that order.
    ``array_fn``: a C function equal to ``forward`` without ``xp`` (``operator.mul`` for ``a * b``; for a one-input
    op only on float32/float64 arrays, ``np.tanh``); apply1/apply2 call it directly, saving a Python frame."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    op = Op(name, forward, vjp, jvp, display, samples, view, saves, raw, torch, no_torch, order, array_fn)
    REGISTRY[name] = op
    return op


class S:
    """One sample call of an op for the tests: inputs (a shape means a random float64 tensor that
    requires grad; see ``arg``) and parameters. ``order`` is the highest derivative order finite
    differences can check at the sample: 2, or 1 for a sample put on a kink on purpose (a tie of max),
    where the gradient is a convention (``S(...).first_order_only()``)."""

    order = 2

    def __init__(self, *inputs, **params):
        self.inputs = inputs
        self.params = params

    def first_order_only(self):
        self.order = 1
        return self

    def __repr__(self):
        parts = [repr(i) for i in self.inputs] + [f"{k}={v!r}" for k, v in self.params.items()]
        return "(" + ", ".join(parts) + ")"


class arg:
    """A sample input: ``arg(shape, low, high)`` draws uniformly from the op's valid domain;
    ``arg(value=..., grad=False)`` is a fixed input (masks, conditions); ``distinct=True`` keeps
    values apart so max/min/abs/relu stay differentiable under finite differences."""

    def __init__(self, shape=(), low=None, high=None, value=None, grad=True, distinct=False):
        self.shape, self.low, self.high, self.value = shape, low, high, value
        self.grad, self.distinct = grad, distinct

    def make(self, rng):
        if self.value is not None:
            data = np.array(self.value)
            if data.dtype.kind == "f":
                data = data.astype(np.float64)
        elif self.distinct:
            n = int(np.prod(self.shape))
            data = (rng.permutation(n) - n / 2 + rng.uniform(0.1, 0.4, n)).reshape(self.shape) / max(n / 4, 1)
        elif self.low is not None:
            data = rng.uniform(self.low, self.high, self.shape)
        else:
            data = rng.standard_normal(self.shape)
        return Tensor(np.asarray(data), requires_grad=self.grad and data.dtype.kind == "f")

    def __repr__(self):
        return f"arg({self.shape})" if self.value is None else f"arg(value={self.value!r})"


def make_sample_inputs(sample, rng):
    """Turn a sample's input specs into concrete inputs: shapes and ``arg``s become tensors."""
    made = []
    for spec in sample.inputs:
        if isinstance(spec, tuple):
            spec = arg(spec)
        made.append(spec.make(rng) if isinstance(spec, arg) else spec)
    return made


# ---------------------------------------------------------------------------------------------- apply
def apply(op, *inputs, **params):
    """Run ``op`` forward on the inputs' arrays and, if recording, attach a node to the result."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    try:
        out = op.forward(xp, *arrays, **params)
    except (ValueError, TypeError) as error:
        raise _forward_error(op, arrays, error) from None
    if out.__class__ is not ndarray:
        out = _as_array(out)
    if out.dtype is _F64 and "dtype" not in params:  # an explicit dtype (cast to float64) is kept
        out = _keep_float32(out, arrays)
    for x in inputs:
        if isinstance(x, Tensor) and x._rg:
            if _grad_state.enabled:
                result = _record(op, inputs, params, out)
                break
            result = _unrecorded(out)
            if op.is_view:
                _share_version(result, inputs[0], out)
            break
    else:
        result = _plain(out, inputs)
        if op.is_view:
            _share_version(result, inputs[0], out)
    if _dual.active:
        forward_ad.propagate(op, inputs, params, result)
    return result


def apply1(op, x):
    """apply() for a one-input op without parameters (exp, neg, …): ``op.call1(x)``."""
    return op.call1(x)


def apply2(op, a, b):
    """apply() for a two-input op without parameters (add, mul, …): ``op.call2(a, b)``."""
    return op.call2(a, b)


# The hot path of every small op. Each op gets its own pair of these closures (Op.call1, Op.call2; Tensor's
# operators are Op.call2 itself), so what they read of the op is a closure variable, not an attribute, and
# they build the node and the result inline for ops that allow it (Op.fast): no _record/make_tensor call.
def _caller1(op):
    array_fn, forward, node_class = op.array_fn, op.forward, op.node_class
    fast, saves_any, saves_out = op.fast, op.saves_any, op.saves_out

    def call1(x):
        if x.__class__ is not Tensor and not isinstance(x, Tensor):  # arrays: a raw rule calling cos(x)
            return _on_array(op, x)
        data = x._data
        dtype = data.dtype
        try:
            if array_fn is not None and (dtype is _F32 or dtype is _F64):
                out = array_fn(data)
            else:
                out = forward(xp, data)
        except (ValueError, TypeError) as error:
            raise _forward_error(op, (data,), error) from None
        if out.__class__ is not ndarray:
            out = _as_array(out)
        if out.dtype is _F64 and dtype is not _F64:
            out = out.astype(np.float32)
        if x._rg:
            if _grad_state.enabled:
                if fast and not anomaly.enabled:
                    node = node_class()
                    fn = x.grad_fn
                    node.next = ((fn, x._nr) if fn is not None else (accumulator(x), 0),)
                    node.seq = next_seq()  # after the edges: see graph.Node.seq
                    node.epoch = epoch = inplace_count[0]
                    node.shape = out.shape
                    node.dtype = out.dtype
                    node.extras = None
                    node.params = _NO_PARAMS
                    if saves_any:
                        node.saved = saved = (x,)
                        node.arrays = (data,)
                        node.saved_versions = _versions(saved) if epoch else None
                    else:
                        node.saved = node.arrays = _NONE1
                        node.saved_versions = None
                    result = _new(Tensor)  # make_tensor(out, node, True), inline
                    result._data = out
                    result.grad_fn = node
                    result._rg = True
                    result._grad = result._acc = result._base = result._meta = None
                    result._nr = 0
                    if saves_out:
                        node.out_data = out
                        node.out_version = result._vc = [0]
                    else:
                        result._vc = None
                else:
                    result = _record(op, (x,), _NO_PARAMS, out, (data,), (edge(x),))
            else:
                result = _unrecorded(out)
        elif x._meta is not None:
            result = _plain(out, (x,))
        else:
            result = make_tensor(out)
        if _dual.active:  # forward mode (a dual level): one flag check otherwise
            forward_ad.propagate(op, (x,), _NO_PARAMS, result)
        return result

    return call1


def _caller2(op):
    array_fn, forward, node_class = op.array_fn, op.forward, op.node_class
    fast, saves_any, saves_out = op.fast, op.saves_any, op.saves_out

    def call2(a, b):
        if isinstance(a, Tensor):
            a_data = a._data
            a_rg = a._rg
        else:
            a_data = a
            a_rg = False
        if isinstance(b, Tensor):
            b_data = b._data
            b_rg = b._rg
            if a_data.__class__ is float:
                a_data = _weak_scalar(a_data, b_data)
        else:
            b_data = b
            b_rg = False
            if b.__class__ is float:
                b_data = _weak_scalar(b, a_data)
        try:
            if array_fn is not None:
                out = array_fn(a_data, b_data)
            else:
                out = forward(xp, a_data, b_data)
        except (ValueError, TypeError) as error:
            raise _forward_error(op, (a_data, b_data), error) from None
        if out.__class__ is not ndarray:
            out = _as_array(out)
        if out.dtype is _F64:
            out = _keep_float32(out, (a_data, b_data))
        if a_rg or b_rg:
            if _grad_state.enabled:
                if fast and not anomaly.enabled:
                    node = node_class()
                    if a_rg:
                        fn = a.grad_fn
                        edge_a = (fn, a._nr) if fn is not None else (accumulator(a), 0)
                    else:
                        edge_a = None
                    if b_rg:
                        fn = b.grad_fn
                        edge_b = (fn, b._nr) if fn is not None else (accumulator(b), 0)
                    else:
                        edge_b = None
                    node.next = (edge_a, edge_b)
                    node.seq = next_seq()  # after the edges: see graph.Node.seq
                    node.epoch = epoch = inplace_count[0]
                    node.shape = out.shape
                    node.dtype = out.dtype
                    node.extras = None
                    node.params = _NO_PARAMS
                    if saves_any:
                        node.saved = saved = (a, b)
                        node.arrays = (a_data, b_data)
                        node.saved_versions = _versions(saved) if epoch else None
                    else:
                        node.saved = node.arrays = _NONE2
                        node.saved_versions = None
                    result = _new(Tensor)  # make_tensor(out, node, True), inline
                    result._data = out
                    result.grad_fn = node
                    result._rg = True
                    result._grad = result._acc = result._base = result._meta = None
                    result._nr = 0
                    if saves_out:
                        node.out_data = out
                        node.out_version = result._vc = [0]
                    else:
                        result._vc = None
                else:
                    result = _record(op, (a, b), _NO_PARAMS, out, (a_data, b_data),
                                     (edge(a) if a_rg else None, edge(b) if b_rg else None))
            else:
                result = _unrecorded(out)
        elif (isinstance(a, Tensor) and a._meta is not None) or (isinstance(b, Tensor) and b._meta is not None):
            result = _plain(out, (a, b))
        else:
            result = make_tensor(out)
        if _dual.active:
            forward_ad.propagate(op, (a, b), _NO_PARAMS, result)
        return result

    return call2


_NO_PARAMS = {}
_NONE1, _NONE2 = (None,), (None, None)
_new = object.__new__
_F32 = np.dtype(np.float32)
_SCALARS32, _SCALARS64 = {}, {}  # Python float -> read-only 0-d float32/float64 array of it


def _weak_scalar(value, other):
    """A Python float combined with a float32/float64 array, as a 0-d array of the array's dtype.

    NumPy 2 casts such a "weak" Python float to the array's dtype anyway (NEP 50), but finding that out
    costs it about 0.3 µs a call; a cached 0-d array of the same value gives the same result in half the
    time, in the forward op and again in a rule that multiplies by it. Zeros (0.0 and -0.0 are equal keys),
    NaN, infinities and values outside float32's range are left to NumPy."""
    if other.__class__ is not ndarray:
        return value
    dtype = other.dtype
    if dtype is _F32:  # `is`, not a dict keyed by dtype: hashing a dtype costs more than the whole lookup
        cache = _SCALARS32
    elif dtype is _F64:
        cache = _SCALARS64
    else:
        return value
    array = cache.get(value)
    if array is None:
        if not 1e-30 < abs(value) < 1e30:
            return value
        if len(cache) >= 512:
            cache.clear()
        array = cache[value] = np.array(value, dtype=dtype)
        array.flags.writeable = False
    return array


def _on_array(op, x):
    """An op applied to a NumPy array gives a NumPy array: this is how raw-safe rules run on arrays. Objects
    that know chainrule's functions (symbolic expressions: ``chainrule.sin(x)`` builds ``sin(x)``) get the
    op by name. Only reached when ``x`` is not a Tensor, so tensors pay nothing for it."""
    if x.__class__ is ndarray:
        dtype = x.dtype
        fn = op.array_fn
        return fn(x) if fn is not None and (dtype is _F32 or dtype is _F64) else op.forward(xp, x)
    if isinstance(x, (ndarray, _generic)):
        return op.forward(xp, x)
    apply_function = getattr(x, "__chainrule_function__", None)
    if apply_function is not None:
        return apply_function(op.name)
    raise TypeError(f"{op.name}(): argument 'input' must be a Tensor, not {type(x).__name__}")


def _forward_error(op, arrays, error):
    """A NumPy error from ``op.forward`` as a chainrule error that names the op and its inputs (only ever
    called after a failure, so the hot path pays nothing). ShapeError/DTypeError are ValueError/TypeError
    and RuntimeError alike, so both PyTorch-style and NumPy-style ``except`` clauses catch them."""
    if isinstance(error, RuntimeError):  # already a chainrule error (ShapeError, DTypeError): keep it
        return error
    reason = str(error).strip()
    if isinstance(error, TypeError):
        dtypes = " and ".join(_describe_dtype(a) for a in arrays)
        return DTypeError(f"{op.name}: cannot be applied to inputs of dtype {dtypes} (NumPy: {reason}); convert "
                          "the inputs to a common dtype first, e.g. with .float() or .to(dtype)")
    shapes = " and ".join(_describe_shape(a) for a in arrays)
    if "broadcast" in reason:
        hint = ("sizes must match or be 1 in each dimension, aligned from the right; reshape/unsqueeze an input "
                "or expand it explicitly")
    else:
        hint = "check the shapes of the inputs"
    return ShapeError(f"{op.name}: inputs of shape {shapes} do not fit (NumPy: {reason}); {hint}")


def _describe_shape(a):
    return shape_str(a.shape) if isinstance(a, (ndarray, _generic)) else f"{type(a).__name__} {a!r}"


def _describe_dtype(a):
    if isinstance(a, (ndarray, _generic)):
        return str(a.dtype)
    return type(a).__name__


def _plain(out, inputs):
    """A result none of whose inputs requires grad. If an input carries the reason its graph was cut
    (no_grad, detach, a non-differentiable op), the result carries it too."""
    result = make_tensor(out)
    for x in inputs:
        meta = getattr(x, "_meta", None)
        if meta is not None and meta.cut is not None:
            result._meta = meta if meta.shared else _TensorMeta(cut=meta.cut, shared=True)
            break
    return result


def _unrecorded(out):
    """A result computed from tensors that require grad while recording was off: remember why, so an
    error about its missing gradient can say so (unless this is a backward pass running its rules)."""
    result = make_tensor(out)
    if not _grad_state.in_backward:
        block = _grad_state.off_block
        result._meta = NO_GRAD_META if block is None else (block._off_meta or _off_meta(block))
    return result


def _off_meta(block):
    """The meta all untracked results of a no_grad block share, made at its first one: the only place the
    block's file:line is resolved (see grad_mode._Mode.__enter__)."""
    block._off_meta = _TensorMeta(cut=Cut("no_grad", block._label, block._where()), shared=True)
    return block._off_meta


def _record(op, inputs, params, out, arrays=None, edges=None):
    """Attach a node to the result: edges to the inputs' nodes, what the rules need, the output's meta.
    apply1/apply2 pass the ``edges`` they built inline (their ops differentiate every input)."""
    node = op.node_class()
    if edges is None or not op.all_differentiable:
        edges = tuple(edge(x) if differentiable and isinstance(x, Tensor) and x._rg else None
                      for x, differentiable in zip(inputs, op.differentiable if not op.varargs else _repeat_true(inputs)))
    node.next = edges
    node.seq = next_seq()  # after the edges: see graph.Node.seq
    node.epoch = inplace_count[0]
    node.shape = out.shape
    node.dtype = out.dtype
    node.extras = None
    node.params = params
    if op.saves_all or (op.varargs and op.saves_any):
        saved = inputs
    elif op.saves_any:
        saved = _partial_save(op, inputs)
    else:
        saved = op.nothing_saved if not op.varargs else (None,) * len(inputs)
    node.saved = saved
    node.saved_versions = _versions(saved) if op.saves_any and inplace_count[0] else None
    if op.raw:  # the raw-mode backward reads arrays directly
        if saved is inputs and arrays is not None:
            node.arrays = arrays
        elif op.saves_any:
            node.arrays = tuple(getattr(x, "_data", x) for x in saved)
        else:
            node.arrays = saved  # all None
    result = make_tensor(out, node, True)
    if op.saves_out:
        node.out_data = out
        node.out_version = result._vc = [0]
    if op.is_view:
        _share_version(result, inputs[0], out)
    if anomaly.enabled:
        anomaly.record_creation(node)
    return result


def _partial_save(op, inputs):
    """Keep the inputs the rules read; for those read only for .shape/.dtype keep just that."""
    return tuple(x if keep else (TensorMeta(x) if meta and isinstance(x, Tensor) else None)
                 for x, keep, meta in zip(inputs, op.saves, op.meta_only))


class TensorMeta:
    """What a rule may ask of an input it does not save: shape, dtype, ndim."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, tensor):
        self.shape = tensor.shape
        self.dtype = tensor.dtype
        self.ndim = tensor._data.ndim


def _versions(saved):
    """The version of each saved tensor, or None when all are at version 0 (the common case)."""
    for x in saved:
        counter = x._vc if x.__class__ is Tensor else getattr(x, "_vc", None)
        if counter is not None and counter[0]:
            return [getattr(t, "_vc", None)[0] if getattr(t, "_vc", None) is not None else 0 for t in saved]
    return None


def edge(x):
    """The edge to a tensor that requires grad: (its node, output number); leaves via AccumulateGrad."""
    fn = x.grad_fn
    return (fn, x._nr) if fn is not None else (accumulator(x), 0)


def _repeat_true(inputs):
    return (True,) * len(inputs)


def _share_version(result, base, out):
    """A view shares its base's version counter, so in-place changes through either are seen by both."""
    if isinstance(base, Tensor) and out.base is not None:
        if base._vc is None:
            base._vc = [0]
        result._vc = base._vc
        result._base = base


def _as_array(value):
    # NumPy reductions and ufuncs on 0-d arrays return scalars; a tensor always holds an ndarray.
    return np.asarray(value)


def _keep_float32(out, arrays):
    """A float64 result where PyTorch's type promotion gives another dtype. NumPy makes float64 from
    int/bool arrays mixed with Python floats (and from int / int), where PyTorch makes float32, its
    default; and a 0-d float64 tensor does not widen a dimensioned float tensor in PyTorch (float32[3] +
    float64[] is float32). Only called for float64 results, so the common float32 path never gets here."""
    dimensioned = [a for a in arrays if isinstance(a, ndarray) and a.ndim]
    for a in dimensioned:
        if a.dtype is _F64:
            return out
    for a in dimensioned:
        if a.dtype.kind == "f":
            return out.astype(a.dtype)  # a dimensioned float tensor sets the dtype over 0-d ones
    for a in arrays:
        if isinstance(a, ndarray) and a.dtype is _F64:
            return out  # a 0-d float64 tensor with int/bool tensors: float64, as in PyTorch
    return out.astype(np.float32)


def _linear_jvp(op, position):
    def rule(t, out, *inputs, **params):
        args = [t if i == position else _zero_like(x, op, i) for i, x in enumerate(inputs)]
        return apply(op, *args, **params)

    return rule


def _zero_like(x, op, i):
    differentiable = op.varargs or op.differentiable[i]
    if not differentiable:
        return x
    return make_tensor(np.zeros_like(x._data)) if isinstance(x, Tensor) else 0


META_ATTRIBUTES = ("shape", "dtype", "ndim")


def _names_read(rules):
    """The argument names the rules read: (fully, only as .shape/.dtype/.ndim). A node saves the
    first kind and only the metadata of the second."""
    full, meta = set(), set()
    codes = [rule.__code__ for rule in rules]
    while codes:
        code = codes.pop()
        instructions = list(dis.get_instructions(code))
        for instruction, following in zip(instructions, instructions[1:] + [None]):
            if instruction.opname.startswith("LOAD_FAST") or instruction.opname in ("LOAD_DEREF", "LOAD_CLOSURE"):
                value = instruction.argval
                names = value if isinstance(value, tuple) else (value,)
                only_meta = (len(names) == 1 and following is not None and following.opname == "LOAD_ATTR"
                             and following.argval in META_ATTRIBUTES)
                (meta if only_meta else full).update(names)
        codes.extend(c for c in code.co_consts if hasattr(c, "co_code"))
    return full, meta


def _display_name(name):
    return "".join(part.capitalize() for part in name.split("_")) + "Backward0"
