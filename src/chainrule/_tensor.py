"""Tensor: an array, the node that made it, and the methods PyTorch users expect.

Storage and metadata live here; every computation is delegated to an op in ``chainrule.ops`` (bound at
the bottom of this file, after the ops are loaded). The raw NumPy array is ``_data``; ``.data`` gives a
Tensor that shares it, as in PyTorch.
"""
import warnings

import numpy as np

from . import _dtype
from ._backend import CPU, ndarray
from ._errors import DTypeError, GraphError, ShapeError, shape_str
from .autograd import cut as _cuts, forward_ad, grad_mode
from .autograd import graph as _graph

_grad_state = grad_mode.state
_dual = forward_ad.state
_new = object.__new__


class Size(tuple):
    """A tensor's shape: a tuple that prints as PyTorch's torch.Size([2, 3])."""

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


class _TensorMeta:
    """Rarely used per-tensor state, kept out of the hot path: hooks, why the graph was cut, name."""

    __slots__ = ("hooks", "cut", "retains_grad", "shared")

    def __init__(self, cut=None, shared=False):
        self.hooks = None
        self.cut = cut
        self.retains_grad = False
        self.shared = shared  # one instance stands for many tensors: copy before changing it


NO_GRAD_META = _TensorMeta(
    cut="the graph was cut where it was computed with gradient recording off (inside no_grad(), "
        "inference_mode() or set_grad_enabled(False)): no graph connects it to its inputs; compute it with grad enabled.",
    shared=True)


class Tensor:
    """A multi-dimensional array that records the operations applied to it when it requires grad."""

    # _grad: .grad; _vc: version counter [version, last in-place op] shared with views (None = version 0);
    # _nr: which output of grad_fn this is; _acc: weakref to a leaf's AccumulateGrad; _base: the tensor this
    # one views; _meta: hooks, retain_grad, why the graph was cut (_TensorMeta).
    __slots__ = ("_data", "grad_fn", "_rg", "_grad", "_vc", "_nr", "_acc", "_base", "_meta", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer: np.float64(2) * t calls Tensor.__rmul__
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        array = _to_array(data, dtype)
        self._data = array
        self.grad_fn = None
        self._rg = False
        self._grad = self._vc = self._acc = self._base = self._meta = None
        self._nr = 0
        if isinstance(data, Tensor) or id(data) in _cuts.handed_out:
            _note_rebuilt(self, data)
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return CPU

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return False

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None and not value:
            raise GraphError("you can only change requires_grad flags of leaf variables. If you want to use a "
                             "computed variable in a subgraph that doesn't require differentiation use "
                             "var_no_grad = var.detach().")
        if value:
            _check_differentiable_dtype(self._data.dtype)
        self._rg = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def data(self):
        """A tensor sharing this one's memory but outside the graph (changes to it are not tracked)."""
        out = make_tensor(self._data)
        if self._rg:
            out._cut = _cuts.cut_here("data", source=self)
        return out

    @data.setter
    def data(self, value):
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = array

    @property
    def grad(self):
        if self.grad_fn is not None and self._grad is None and not self._retains_grad():
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise ShapeError(f"assigned grad has data of a different size: grad shape {shape_str(value.shape)}, "
                                 f"tensor shape {shape_str(self.shape)}")
            if value._data.dtype != self._data.dtype:
                raise DTypeError(f"assigned grad has data of a different type ({value.dtype}) than the tensor "
                                 f"({self.dtype})")
        self._grad = value

    def size(self, dim=None):
        if dim is None:
            return self.shape
        from .ops._shape_utils import normalize_dim
        return self._data.shape[normalize_dim("size", dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else self.clone()

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._data.size != 1:
            raise ShapeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                             f"(shape {shape_str(self.shape)}); index it or reduce it first")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        if self._rg and not force:
            raise GraphError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._rg or (self._meta is not None and self._meta.cut is not None):  # values leaving a graph
            _cuts.remember_array(self._data, self._cut)
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            raise GraphError("Can't convert a Tensor that requires grad to a NumPy array (np.asarray(t)). "
                             "Use t.detach().numpy() or np.asarray(t.detach()) instead.")
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous (shape "
                               f"{shape_str(self.shape)}); use .any() or .all()")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index "
                            f"(got {self.dtype}, shape {shape_str(self.shape)})")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    __hash__ = object.__hash__

    def __repr__(self):
        from ._format import tensor_repr
        grad_fn = self.grad_fn
        return tensor_repr(self._data, dtype_name=self.dtype.name,
                           is_default_dtype=self._data.dtype in _DEFAULT_DTYPES,
                           grad_fn_name=grad_fn.name() if grad_fn is not None else None,
                           requires_grad=self._rg)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        raise TypeError("chainrule tensors are not pickled (pickle runs code on load); use chainrule.save / "
                        "chainrule.load, or t.detach().numpy() for the values")

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise GraphError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                             "protocol at the moment; use .detach().clone()")
        copy = make_tensor(self._data.copy(), None, self._rg)
        if self._grad is not None:
            copy._grad = make_tensor(self._grad._data.copy())
        memo[id(self)] = copy
        return copy

    # ------------------------------------------------------------------ graph handling
    def detach(self):
        """The same values (shared memory and version counter), outside the graph."""
        out = make_tensor(self._data)
        if self._vc is None:
            self._vc = [0]
        out._vc = self._vc
        if self._rg:
            out._cut = _cuts.cut_here("detach", source=self)
        return out

    def detach_(self):
        if self._base is not None:
            raise GraphError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        return self

    def clone(self):
        return ops.clone(self)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad after backward (leaves always keep theirs)."""
        if not self._rg:
            raise GraphError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad():
            self._meta_object().retains_grad = True
            self.grad_fn.retain(self._nr, self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self._retains_grad()

    def _retains_grad(self):
        return self._meta is not None and self._meta.retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._rg:
            raise GraphError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_prehook(self._nr, hook)
        meta = self._meta_object()
        if meta.hooks is None:
            meta.hooks = {}
        return _graph.HookHandle(meta.hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor with respect to the graph leaves into their ``.grad``."""
        from .autograd.engine import backward
        backward(self, gradient, retain_graph, create_graph, inputs)

    def _meta_object(self):
        if self._meta is None or self._meta.shared:
            self._meta = _TensorMeta()
        return self._meta

    @property
    def _hooks(self):
        return None if self._meta is None else self._meta.hooks

    @property
    def _cut(self):
        return None if self._meta is None else self._meta.cut

    @_cut.setter
    def _cut(self, reason):
        # A cut-only meta is shared with everything computed from this tensor (copy-on-write: see
        # _meta_object), so an error far downstream can still say where the graph was cut.
        if self._meta is None or self._meta.shared:
            self._meta = _TensorMeta(cut=reason, shared=True)
        else:
            self._meta.cut = reason

    @property
    def _version(self):
        return 0 if self._vc is None else self._vc[0]

    # ------------------------------------------------------------------ dtype and device
    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """to(dtype), to(device), to(device, dtype) or to(other_tensor), as in PyTorch."""
        from ._backend import device as _device
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _device) or (isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "meta")):
                device = a
            elif a is not None:
                dtype = a
        if device is not None:
            _device(str(device))  # raises for anything but the CPU
        if dtype is None:
            return self.clone() if copy else self
        target = _dtype.to_numpy_dtype(dtype)
        if target == self._data.dtype:
            return self.clone() if copy else self
        return ops.cast(self, target)

    def type(self, dtype=None):
        if dtype is None:
            return "chainrule." + _TYPE_NAMES.get(self._data.dtype.name, self._data.dtype.name)
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("chainrule runs on the CPU only (NumPy); there is no CUDA device")

    # ------------------------------------------------------------------ in-place machinery
    def _inplace(self, name, compute):
        """Run ``compute(source)`` out of place, then write the result into this tensor's memory and make
        this tensor the result in the graph (bumping its version, as PyTorch does)."""
        recording = _grad_state.enabled
        if recording and self._rg:
            if self.grad_fn is None:
                raise GraphError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation. "
                                 "Do it under `with chainrule.no_grad():` (e.g. a parameter update), or on a clone().")
            if self._base is not None:
                index = _view_index(self)
                if index is not None:
                    return self._inplace_through_base(name, compute, index)
                raise GraphError(f"{name}: in-place changes of a view ({self.grad_fn.name()}) of a tensor that requires "
                                 "grad are not supported; apply the operation out of place, or to a clone().")
        if recording and self._base is not None and self._base._rg and self._base.grad_fn is None:
            raise GraphError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                             "operation. Do it under no_grad(), or on a clone().")
        # If a graph is recorded it may save the old values, and self's memory is overwritten below: then the
        # graph gets a copy. (Plain tensors skip the copy; if another input turns out to need grad, redo.)
        result = compute(self._source_copy() if recording and self._rg else self)
        if result.grad_fn is not None and not self._rg:
            result = compute(self._source_copy())
        if _dual.active:  # forward mode: self now holds the result, so it carries the result's tangent
            forward_ad.set_tangent(self, forward_ad.tangent_of(result))
        data = result._data
        if data.shape != self._data.shape:
            raise ShapeError(f"{name}: output with shape {shape_str(self.shape)} doesn't match the broadcast shape "
                             f"{shape_str(data.shape)}")
        if data.dtype != self._data.dtype and not _can_store(data.dtype, self._data.dtype):
            raise DTypeError(f"{name}: result type {_dtype.from_numpy_dtype(data.dtype).name} can't be cast to the "
                             f"desired output type {self.dtype.name}")
        if not self._data.flags.writeable:
            raise GraphError(f"{name}: unsupported operation: more than one element of the written-to tensor refers "
                             "to a single memory location (it was made by expand/broadcast_to). Please clone() the "
                             "tensor before performing the operation.")
        np.copyto(self._data, data, casting="unsafe")
        self._bump_version(name)
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
            self._nr = result._nr
            self._rg = True
        return self

    def _source_copy(self):
        source = make_tensor(self._data.copy(), self.grad_fn, self._rg)
        source._nr = self._nr
        if _dual.active:
            forward_ad.set_tangent(source, forward_ad.tangent_of(self))
        return source

    def _inplace_through_base(self, name, compute, index):
        """An in-place op on ``view = base[index]`` of a non-leaf base, done as ``base[index] = op(base[index])``
        on the base, so the gradient flows through the base's graph (PyTorch's CopySlices); the view then
        reads its values (and grad_fn) from the updated base."""
        base = self._base
        if base._rg and base.grad_fn is None:
            raise GraphError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                             "operation. Do it under no_grad(), or on a clone().")
        base._inplace(name, lambda s: ops.index_put(s, compute(s[index]), index))
        self.grad_fn = base[index].grad_fn
        self._nr = 0
        return self

    def _bump_version(self, name):
        _graph.inplace_count[0] += 1
        if self._vc is None:
            self._vc = [1, name]
        else:
            self._vc[0] += 1
            self._vc[1:] = [name]

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._inplace("fill_", lambda s: ops.index_put(s, _same_dtype(value, s), Ellipsis))

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            src = as_tensor(src)
        return self._inplace("copy_", lambda s: ops.index_put(s, _same_dtype(src, s), Ellipsis))

    def __setitem__(self, index, value):
        self._inplace("__setitem__", lambda s: ops.index_put(s, _same_dtype(value, s), index))

    def add_(self, other, *, alpha=1):
        return self._inplace("add_", lambda s: ops.add(s, other, alpha=alpha))

    def sub_(self, other, *, alpha=1):
        return self._inplace("sub_", lambda s: ops.sub(s, other, alpha=alpha))

    def mul_(self, other):
        return self._inplace("mul_", lambda s: s * other)

    def div_(self, other, *, rounding_mode=None):
        return self._inplace("div_", lambda s: ops.div(s, other, rounding_mode=rounding_mode))

    def pow_(self, exponent):
        return self._inplace("pow_", lambda s: s ** exponent)

    def neg_(self):
        return self._inplace("neg_", lambda s: -s)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda s: ops.clamp(s, min, max))

    clip_ = clamp_

    def relu_(self):
        return self._inplace("relu_", ops.relu)

    def exp_(self):
        return self._inplace("exp_", ops.exp)

    def log_(self):
        return self._inplace("log_", ops.log)

    def sqrt_(self):
        return self._inplace("sqrt_", ops.sqrt)

    def sigmoid_(self):
        return self._inplace("sigmoid_", ops.sigmoid)

    def tanh_(self):
        return self._inplace("tanh_", ops.tanh)

    def abs_(self):
        return self._inplace("abs_", ops.abs)

    def __iadd__(self, other):
        return self._inplace("add_ (+=)", lambda s: s + other)

    def __isub__(self, other):
        return self._inplace("sub_ (-=)", lambda s: s - other)

    def __imul__(self, other):
        return self._inplace("mul_ (*=)", lambda s: s * other)

    def __itruediv__(self, other):
        return self._inplace("div_ (/=)", lambda s: s / other)

    def __ipow__(self, other):
        return self._inplace("pow_ (**=)", lambda s: s ** other)

    def __ifloordiv__(self, other):
        return self._inplace("floor_divide_ (//=)", lambda s: s // other)

    def __imod__(self, other):
        return self._inplace("remainder_ (%=)", lambda s: s % other)

    # ------------------------------------------------------------------ operators (bound to ops below)
    # __add__, __sub__, __mul__, __truediv__, __neg__ and __abs__ are the ops' own call functions (set at the
    # bottom of this file: Op.call2/call1), one Python frame less per operator.
    def __radd__(self, other):
        return _ADD.call2(other, self)

    def __rsub__(self, other):
        return _SUB.call2(other, self)

    def __rmul__(self, other):
        return _MUL.call2(other, self)

    def __rtruediv__(self, other):
        return _DIV.call2(other, self)

    def __floordiv__(self, other):
        return ops.div(self, other, rounding_mode="floor")

    def __rfloordiv__(self, other):
        return ops.div(other, self, rounding_mode="floor")

    def __mod__(self, other):
        # Python's (and PyTorch's) remainder, sign of the divisor; d/da = 1, d/db = -floor(a / b).
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __rpow__(self, base):
        return ops.pow(base, self)

    def __matmul__(self, other):
        return ops.matmul(self, _as_operand(other))

    def __rmatmul__(self, other):
        return ops.matmul(_as_operand(other), self)

    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __and__(self, other):
        return ops.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __invert__(self):
        return ops.bitwise_not(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    @property
    def T(self):
        return ops.permute(self, *range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)

    # ------------------------------------------------------------------ methods with arguments
    def view(self, *shape):
        return ops.reshape(self, *shape)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    reshape_as = view_as

    def expand(self, *sizes):
        return ops.expand(self, *sizes)

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def sum_to_size(self, *size):
        from .ops._shape_utils import as_shape
        return ops.sum_to(self, as_shape("sum_to_size", size))

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.min(self, dim, keepdim)


_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def make_tensor(data, grad_fn=None, requires_grad=False):
    """Wrap an ndarray without copying or checking (the ops' constructor; users call tensor())."""
    t = _new(Tensor)
    t._data = data
    t.grad_fn = grad_fn
    t._rg = requires_grad
    t._grad = t._vc = t._acc = t._base = t._meta = None
    t._nr = 0
    return t


def _check_differentiable_dtype(np_dtype):
    if np_dtype.kind not in "fc":
        raise DTypeError(f"Only Tensors of floating point and complex dtype can require gradients (got "
                         f"{_dtype.from_numpy_dtype(np_dtype)}); convert with .float() or create it with "
                         "dtype=chainrule.float32")


def _view_index(view):
    """The index that made ``view`` from its base when it is a basic-indexing view (x[1], x[:, 2:]), else None."""
    node = view.grad_fn
    op = getattr(node, "op", None)
    if op is not None and op.name in ("select", "slice"):
        return node.params.get("index")
    return None


def _can_store(source, target):
    """In-place results may narrow within a kind (float64 -> float32) but never float -> int or int -> bool."""
    order = "biuf"
    return order.index(source.kind if source.kind != "u" else "i") <= order.index(target.kind if target.kind != "u" else "i")


def _same_dtype(value, like):
    """Values written into a tensor (setitem, fill_, copy_) take the tensor's dtype, as in PyTorch."""
    if isinstance(value, Tensor):
        if value._data.dtype == like._data.dtype:
            return value
        return value.to(like._data.dtype) if value._rg else make_tensor(value._data.astype(like._data.dtype))
    return make_tensor(np.asarray(value, dtype=like._data.dtype))


def _as_operand(value):
    return value if isinstance(value, Tensor) else as_tensor(value)


def _to_array(data, dtype=None):
    """Copy ``data`` (nested lists, scalars, arrays, tensors) into a new array with PyTorch's dtype rules."""
    if isinstance(data, Tensor):
        array = np.array(data._data, copy=True)
    else:
        try:
            array = np.array(data, copy=True)
        except GraphError:  # a list holding tensors that require grad: take their values, as torch.tensor does
            array = np.array(_nested_values(data), copy=True)
        except ValueError as error:
            raise ValueError(f"tensor(): could not build a tensor from {type(data).__name__}: {error}") from None
        if array.dtype == object:
            raise TypeError(f"tensor(): could not infer a numeric dtype from {type(data).__name__} data; "
                            "use numbers, bools, nested lists of equal length, or arrays")
        if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and array.dtype == np.float64:
            array = array.astype(np.float32)  # Python floats become float32, PyTorch's default dtype
    if dtype is not None:
        return array.astype(_dtype.to_numpy_dtype(dtype), copy=False)
    _dtype.from_numpy_dtype(array.dtype)  # a clear error for dtypes chainrule does not have (complex, uint32, …)
    return array


def _nested_values(data):
    if isinstance(data, Tensor):
        return data._data.tolist()
    if isinstance(data, (list, tuple)):
        return [_nested_values(x) for x in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``. Python floats give float32, ints int64, bools bool."""
    if device is not None:
        from ._backend import device as _device
        _device(device)
    out = make_tensor(_to_array(data, dtype))
    if isinstance(data, Tensor) or id(data) in _cuts.handed_out:
        _note_rebuilt(out, data)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _note_rebuilt(out, data):
    """A new tensor made from values that left a graph (.numpy() of a cut tensor, or a tensor that was in one)
    remembers it, for the error or why_no_grad that asks why it has no gradient."""
    if isinstance(data, Tensor):
        if data._rg or data._cut is not None:
            out._cut = _cuts.cut_here("copy", inner=data._cut, depth=2)
        return
    entry = _cuts.handed_out.get(id(data))
    if entry is not None and entry[0]() is data:
        out._cut = _cuts.cut_here("numpy", inner=entry[1], depth=2)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with a NumPy array or returns a tensor itself when no copy is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, ndarray) and (dtype is None or _dtype.to_numpy_dtype(dtype) == data.dtype):
        _dtype.from_numpy_dtype(data.dtype)
        out = make_tensor(data)
        if id(data) in _cuts.handed_out:
            _note_rebuilt(out, data)
        return out
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array (changes to either show in both)."""
    if not isinstance(array, ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    out = make_tensor(array)
    if id(array) in _cuts.handed_out:
        _note_rebuilt(out, array)
    return out


def is_tensor(obj):
    return isinstance(obj, Tensor)


# Ops are loaded last (they import this module); the operators above look these names up at call time.
from . import ops  # noqa: E402

# Methods that are the op functions themselves (their first argument is the tensor): see ops/__init__.py.
for _name in ops.TENSOR_METHODS:
    setattr(Tensor, _name, getattr(ops, _name))
Tensor.where = lambda self, condition, other: ops.where(condition, self, other)
Tensor.where.__doc__ = "x.where(condition, y) is where(condition, x, y)."

_ADD, _SUB, _MUL, _DIV = ops.ADD, ops.SUB, ops.MUL, ops.DIV
_NEG, _ABS = ops.NEG, ops.ABS
Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = _ADD.call2, _SUB.call2, _MUL.call2, _DIV.call2
Tensor.__neg__, Tensor.__abs__ = _NEG.call1, _ABS.call1
_graph.make_tensor = make_tensor
