"""Tensor printing that reproduces PyTorch 2.x's ``repr`` (torch/_tensor_str.py) on NumPy arrays.

Only ``math`` and ``numpy`` are imported, so the rest of the package can use this
module without import cycles. Values are formatted from Python scalars
(``ndarray.tolist()`` / ``.item()``), exactly as torch formats ``Tensor.tolist()``
values, so float16/float32 numbers print through their exact float64 value.
"""
import math

import numpy as np

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": dict(_DEFAULTS),
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# Module-wide print options, the counterpart of torch's PRINT_OPTS.
_OPTS = dict(_DEFAULTS, sci_mode=None)

_PREFIX = "tensor("
# Namespace shown in "dtype=<ns>.<name>". Its length matters: a longer suffix can be
# pushed onto its own line where torch's "dtype=torch.<name>" would still fit.
_DTYPE_NAMESPACE = "chainrule"


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """Set printing options, with the semantics of ``torch.set_printoptions``.

    A ``profile`` ("default", "short", "full") is applied first, then any explicit
    option overrides it. As in torch, ``sci_mode`` is always assigned, so omitting
    it resets it to automatic (None).
    """
    if profile in _PROFILES:  # unknown names are ignored, as in torch
        _OPTS.update(_PROFILES[profile])
    explicit = {"precision": precision, "threshold": threshold,
                "edgeitems": edgeitems, "linewidth": linewidth}
    _OPTS.update({k: v for k, v in explicit.items() if v is not None})
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """The current options as a dict that can be passed back to ``set_printoptions(**d)``."""
    return {k: _OPTS[k] for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


# --------------------------------------------------------------------------- formatter


class _Formatter:
    """Decides how every element is printed, from the (possibly summarized) data.

    Mirrors torch's ``_Formatter``: a common width, plus for floats an
    "int mode" (all finite values integral, printed as ``1.``) and a
    "sci mode" (exponent notation for wide or extreme magnitudes).
    """

    def __init__(self, data):
        self.floating = data.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = data.reshape(-1)
        if not self.floating:
            self._measure_integers(flat)
        else:
            self._measure_floats(flat)

    def _measure_integers(self, flat):
        # str() length of an int (or bool) grows with |v| on each side of zero,
        # so the widest string belongs to the minimum or the maximum.
        if flat.size:
            for v in (flat.min().item(), flat.max().item()):
                self.max_width = max(self.max_width, len(str(v)))

    def _measure_floats(self, flat):
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return  # only zeros / nan / inf: keep int mode, no sci mode, width 1
        absvals = np.abs(vals).astype(np.float64)  # float64 so float16 cannot overflow
        # Python floats: the ratio may overflow to inf, which NumPy would warn about.
        lo, hi = float(absvals.min()), float(absvals.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if _OPTS["sci_mode"] is None:
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = bool(_OPTS["sci_mode"])
        # In int mode the appended "." counts towards the width (not in sci mode).
        extra = 1 if (self.int_mode and not self.sci_mode) else 0
        for v in _extreme_values(vals):
            self.max_width = max(self.max_width, len(self._body(v)) + extra)

    def _body(self, value):
        """The unpadded text of a float, without int mode's trailing dot."""
        p = _OPTS["precision"]
        if self.sci_mode:
            return f"{value:.{p}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{p}f}"

    def width(self):
        return self.max_width

    def format(self, value):
        """Format one Python scalar, right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        else:
            text = self._body(value)
            if self.int_mode and not self.sci_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.max_width)


def _extreme_values(vals):
    """Values whose formatted text can be the longest: per sign, the largest and
    smallest magnitudes (fixed-point length grows with |v|; an exponent's digit
    count is largest at either end of the magnitude range)."""
    out = []
    for part in (vals[vals > 0], vals[vals < 0]):
        if part.size:
            out += [part.min().item(), part.max().item()]
    return out


# --------------------------------------------------------------------------- layout


def _summarized_data(data):
    """Only the elements that a summarized print shows (torch's get_summarized_data)."""
    edge = _OPTS["edgeitems"]
    if data.ndim == 0:
        return data
    if data.ndim == 1:
        if data.shape[0] > 2 * edge:
            # data[-0:] is the whole array, as in torch, when edgeitems == 0.
            return np.concatenate((data[:edge], data[-edge:]))
        return data
    if not edge:
        return np.empty((0,) * data.ndim, dtype=data.dtype)
    rows = _edge_indices(data.shape[0], edge) if data.shape[0] > 2 * edge else range(data.shape[0])
    return np.stack([_summarized_data(data[i]) for i in rows])


def _edge_indices(n, edge):
    return list(range(edge)) + list(range(n - edge, n))


def _vector_str(data, indent, summarize, fmt):
    """One bracketed row, wrapped so each line fits the line width."""
    edge = _OPTS["edgeitems"]
    element_length = fmt.width() + 2  # the element plus ", "
    per_line = max(1, math.floor((_OPTS["linewidth"] - indent) / element_length))
    if summarize and not edge:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * edge:
        items = ([fmt.format(v) for v in data[:edge].tolist()] + [" ..."]
                 + [fmt.format(v) for v in data[-edge:].tolist()])
    else:
        items = [fmt.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(data, indent, summarize, fmt):
    """Recursive bracketed text; blocks of dimension d are separated by d-1 newlines."""
    if data.ndim == 0:
        return fmt.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, fmt)
    edge = _OPTS["edgeitems"]
    n = data.shape[0]
    if summarize and n > 2 * edge:
        slices = ([_nested_str(data[i], indent + 1, summarize, fmt) for i in range(edge)]
                  + ["..."]
                  + [_nested_str(data[i], indent + 1, summarize, fmt) for i in range(n - edge, n)])
    else:
        slices = [_nested_str(data[i], indent + 1, summarize, fmt) for i in range(n)]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _tensor_str(data, indent):
    if data.size == 0:
        return "[]"
    summarize = data.size > _OPTS["threshold"]
    # The formatter sees only what is shown, so hidden elements do not affect widths/modes.
    fmt = _Formatter(_summarized_data(data) if summarize else data)
    return _nested_str(data, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    """Append ", suffix" items, moving one to a new line when the line would be too long."""
    parts = [text]
    # torch's measure of the last line (two more than its length); kept for identical wrapping.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# --------------------------------------------------------------------------- entry point


def tensor_repr(data, *, dtype_name, is_default_dtype, grad_fn_name=None, requires_grad=False):
    """``repr`` of a tensor holding ``data`` (a NumPy array), exactly as PyTorch prints it.

    ``is_default_dtype`` is torch's notion: True for the default float dtype, int64
    and bool, whose ``dtype=`` suffix is omitted. Empty tensors still show any
    dtype other than the default float one (torch does so because no element
    reveals it); they are recognised here as int64/bool by ``dtype_name``.
    """
    data = np.asarray(data)
    indent = len(_PREFIX)
    suffixes = []
    dtype_suffix = f"dtype={_DTYPE_NAMESPACE}.{dtype_name}"
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append("size=" + str(tuple(data.shape)))
        if not is_default_dtype or dtype_name in ("int64", "bool"):
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append("size=" + str(tuple(data.shape)))
        if not is_default_dtype:
            suffixes.append(dtype_suffix)
        body = _tensor_str(data, indent)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + body, suffixes, indent)
