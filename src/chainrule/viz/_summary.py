"""Short text for values shown in graphs and reports: numbers for scalars, a compact list for small
tensors, a summary (shape, norm, min, max) for larger ones; and byte counts for humans."""
import numpy as np


def number(value, digits=4):
    """A number with ``digits`` significant digits and no trailing zeros: 42.0 -> '42', log 3 -> '1.099'."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return str(complex(value))
    return f"{float(value):.{digits}g}"


def shape_text(shape):
    """(3, 4) for a shape; () for a scalar."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def summary(value, max_elements=6, digits=4):
    """Text for a tensor or array value: '42', '[1, 2.5]' or '(64, 3, 7, 7) norm 3.2 min -0.1 max 0.1'."""
    if value is None:
        return ""
    array = np.asarray(getattr(value, "_data", value))
    if array.ndim == 0:
        return number(array.item(), digits)
    if array.size <= max_elements:
        return _nested(array.tolist(), digits)
    if array.dtype.kind not in "biuf":
        return f"{shape_text(array.shape)} {array.dtype}"
    data = array.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        norm = float(np.sqrt(np.sum(data * data)))
        low, high = data.min(), data.max()
    return f"{shape_text(array.shape)} norm {number(norm, digits)} min {number(low, digits)} max {number(high, digits)}"


def _nested(items, digits):
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item, digits) for item in items) + "]"
    return number(items, digits)


def nbytes_text(n):
    """1536 -> '1.5 KiB'; small counts stay exact: '24 B'."""
    n = int(n)
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024.0
        if n < 1024 or unit == "GiB":
            return f"{n:.3g} {unit}"
    return f"{n} B"  # not reached
