"""The Optimizer base class: parameter groups, per-parameter state, state_dict round trips, zero_grad.

Subclasses implement ``_step_group(group)``; the update works on each parameter's ndarray in place
(NumPy ufuncs with ``out=``) and then bumps the parameter's version counter once, so autograd still
notices that a tensor saved for backward was changed, while the step costs a few array passes only.
"""
import copy
import warnings
from collections import defaultdict

import numpy as np

from .._tensor import Tensor, make_tensor
from ..autograd.grad_mode import enable_grad


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must give (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else module + "." + type(obj).__qualname__


class Optimizer:
    """Base class of all optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter groups,
    each with a ``"params"`` entry and optional per-group hyper-parameters that override ``defaults``).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_buffers = {}
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional hyper-parameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        if "params" not in param_group:
            raise KeyError("param_group must have a 'params' entry with the tensors to optimize")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not p.is_floating_point():
                raise TypeError(f"optimizer can only optimize floating-point Tensors, but parameter {i} of the group "
                                f"has dtype {p.dtype}; convert it with .float() or .double() first")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none=True):
        """Clear the gradients: set them to None (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                elif grad.grad_fn is not None or not grad._data.flags.writeable:
                    # a gradient built with create_graph (drop its graph), or read-only memory: new zeros
                    p._grad = make_tensor(np.zeros_like(grad._data))
                else:
                    grad._rg = False
                    grad._data.fill(0)
                    grad._bump_version("zero_")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if a closure is given
        (it is evaluated first, with grad enabled, as in PyTorch)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} must implement step() (or _step_group(group))")

    # ------------------------------------------------------------------ helpers for the updates
    def _scratch(self, like, slot):
        """A temporary array shaped like ``like``: one reusable flat buffer per (dtype, slot), so a step
        allocates nothing after the first."""
        key = (like.dtype, slot)
        buffer = self._scratch_buffers.get(key)
        if buffer is None or buffer.size < like.size:
            buffer = self._scratch_buffers[key] = np.empty(like.size, like.dtype)
        return buffer[:like.size].reshape(like.shape)

    def _effective_grad(self, x, g, weight_decay, maximize):
        """``-g`` if maximizing, then ``+ weight_decay * x`` (PyTorch's order); g itself when neither applies.
        The result lives in scratch slot 0 (slot 1 is used while making it)."""
        if not maximize and weight_decay == 0:
            return g
        out = self._scratch(x, 0)
        if maximize:
            np.negative(g, out=out)
            g = out
        if weight_decay != 0:
            decay = np.multiply(x, weight_decay, out=self._scratch(x, 1))
            np.add(g, decay, out=out)
        return out

    @staticmethod
    def _lerp(start, end, weight, scratch):
        """``start.lerp_(end, weight)`` in place, with PyTorch's two formulas (exact at both ends)."""
        np.subtract(end, start, out=scratch)
        if abs(weight) < 0.5:
            scratch *= weight
            start += scratch
        else:
            scratch *= start.dtype.type(1) - start.dtype.type(weight)
            np.subtract(end, scratch, out=start)

    @staticmethod
    def _next_step(state):
        """Add one to the step counter (a 0-d float32 tensor, as PyTorch keeps it) and return its value."""
        step = state["step"]
        if isinstance(step, Tensor):
            step._data += 1
            return float(step._data)
        state["step"] = step = float(step) + 1
        return step

    @staticmethod
    def _new_step():
        return make_tensor(np.array(0.0, dtype=np.float32))

    # ------------------------------------------------------------------ state dicts
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, as PyTorch packs it.
        State tensors are the optimizer's own (not copies), as in PyTorch: save them before stepping again."""
        index_of = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): dict(v) for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` returned (possibly from another optimizer of the same layout); the
        values are copied, and state tensors are cast to their parameter's dtype."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                             f"(what optimizer.state_dict() returns), got {keys}")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups: it has "
                             f"{len(saved_groups)}, the optimizer has {len(groups)}")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(saved['params'])} parameters in the state "
                                 f"dict and {len(group['params'])} in the optimizer")
        id_map = {}
        for group, saved in zip(groups, saved_groups):
            id_map.update(zip(saved["params"], group["params"]))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            index = int(key) if isinstance(key, str) and key.isdigit() else key  # JSON turns int keys into str
            if index not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which none of its "
                                 f"param_groups lists (they list {sorted(id_map, key=str)})")
            param = id_map[index]
            state[param] = {k: _copy_state_value(param, k, v, index) for k, v in value.items()}
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"


def _copy_state_value(param, key, value, index):
    """A copy of one state entry: tensors (or arrays) become tensors of the parameter's dtype and shape;
    the step counter keeps its own dtype (a plain number becomes a float32 tensor, as PyTorch does)."""
    if isinstance(value, np.ndarray):
        value = make_tensor(value)
    if key == "step":
        if isinstance(value, Tensor):
            return make_tensor(np.array(value._data, copy=True))
        return make_tensor(np.array(float(value), dtype=np.float32))
    if isinstance(value, Tensor):
        if value._data.shape != param._data.shape:
            raise ValueError(f"loaded state dict has state {key!r} of shape {list(value._data.shape)} for parameter "
                             f"{index}, whose shape is {list(param._data.shape)}: the state dict belongs to other "
                             "parameters")
        return make_tensor(np.array(value._data, dtype=param._data.dtype, copy=True))
    return copy.deepcopy(value)


def _tensor_copy(array):
    return make_tensor(np.array(array, copy=True))


def _zeros_like(array, fill=0):
    return make_tensor(np.full_like(array, fill) if fill else np.zeros_like(array))


def _refuse_unsupported(name, **flags):
    """PyTorch's GPU/graph-only switches: accepted when off, refused when on (NumPy has no fused kernels)."""
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"{name}: {flag}=True is not supported by chainrule (NumPy on the CPU); "
                                      f"leave {flag} at its default")


def _floats(group, *keys):
    """Hyper-parameters as Python floats: NumPy then treats them as weak scalars (float32 stays float32),
    and a 0-d tensor learning rate works too."""
    return [float(group[key]) for key in keys]
