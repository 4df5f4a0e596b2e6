"""Why a graph was cut, and where: the reason a tensor has no grad_fn, with the user's file:line.

A ``Cut`` is made only where a cut happens (``.detach()``, ``.data``, a non-differentiable op, an integer
cast, the first untracked result of a no_grad block, a tensor rebuilt from ``.numpy()``), never per op:
everything computed from a cut tensor shares its Cut (ops/_registry.py ``_plain``). The engine's errors
and ``chainrule.viz.why_no_grad`` both word it with ``Cut.text()``.
"""
import collections
import os
import sys
import weakref

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../chainrule/


def user_site(depth=1):
    """(filename, lineno) of the innermost calling frame outside the chainrule package, or None."""
    return _outside(sys._getframe(depth + 1))


def block_site(frame, lasti):
    """Where a grad-mode block was entered, from the frame and instruction offset kept at ``__enter__``
    (cheap); the frame is still running, so if it is chainrule's own (a decorator, an optimizer), its
    callers are the user's code on the line that is running now."""
    code = frame.f_code
    if not code.co_filename.startswith(_PACKAGE):
        for start, end, lineno in code.co_lines():
            if start <= lasti < end and lineno is not None:
                return code.co_filename, lineno
        return code.co_filename, frame.f_lineno
    return _outside(frame.f_back)


def _outside(frame):
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_PACKAGE):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def where(site):
    """``file:line`` as a user reads it: relative to the working directory when inside it."""
    if site is None:
        return "an unknown place"
    filename, lineno = site
    try:
        relative = os.path.relpath(filename)
        if not relative.startswith(".."):
            filename = relative
    except ValueError:  # another drive (Windows)
        pass
    return f"{filename}:{lineno}"


class Cut:
    """One place where a graph was cut. ``kind``: detach, data, nondiff, cast, no_grad, numpy, copy;
    ``what``: the op or mode named in the text; ``site``: (filename, lineno) of the user's line;
    ``source``: a weak reference to the tensor or node it was cut from (for why_no_grad(t, output=))."""

    __slots__ = ("kind", "what", "site", "source", "inner")

    def __init__(self, kind, what=None, site=None, source=None, inner=None):
        self.kind = kind
        self.what = what
        self.site = site
        self.source = source
        self.inner = inner  # the Cut of the tensor whose values were taken (numpy, copy)

    def text(self):
        at = where(self.site)
        kind = self.kind
        if kind == "detach":
            return f"the graph was cut by .detach() at {at} (its result is outside the graph); use the original tensor."
        if kind == "data":
            return (f"the graph was cut by .data at {at} (it shares the values but is outside the graph); use the "
                    "tensor itself, or .detach() where cutting the graph is meant.")
        if kind == "nondiff":
            return (f"the graph was cut by {self.what} at {at}, which is not differentiable (its result never "
                    "requires grad); differentiate the values that went into it instead.")
        if kind == "cast":
            return (f"the graph was cut by a conversion to {self.what} (.to/.long/.int) at {at}: integers carry no "
                    "gradient.")
        if kind == "no_grad":
            like = "" if self.what == "no_grad()" else ", which works like no_grad()"
            return (f"the graph was cut where it was computed with gradient recording off: inside {self.what}{like}, "
                    f"entered at {at}. No graph connects it to its inputs; compute it with grad enabled.")
        if kind == "numpy":
            text = (f"it was rebuilt at {at} from a NumPy array that .numpy() returned: values taken out of a graph "
                    "(.numpy(), .item(), .tolist()) and put into a new tensor have no history; compute with the "
                    "original tensor instead.")
        elif kind == "copy":
            text = (f"it was copied from another tensor by tensor() at {at}, which copies only the values and leaves "
                    "the graph behind; use .clone() to copy within the graph.")
        else:
            return str(self.what)
        inner = self.inner
        if isinstance(inner, str):  # a reason recorded without a place (recording switched off directly)
            text += " Before that, " + inner
        elif inner is not None and inner.kind not in ("numpy", "copy"):
            text += " Before that, " + inner.text()
        return text

    __str__ = text

    def __repr__(self):
        return f"<Cut {self.kind} at {where(self.site)}>"


# Recent cuts that know what they were cut from: why_no_grad(t, output=) looks here for a value computed
# from t that was cut. Bounded, and holding their sources weakly, so nothing is kept alive by it.
recent = collections.deque(maxlen=256)


def cut_here(kind, what=None, source=None, inner=None, depth=1):
    """A Cut at the user's line that called into chainrule (only at a cut, never on the per-op path)."""
    if source is None:
        return Cut(kind, what, user_site(depth + 1), None, inner)
    # What it was cut from, held weakly: its node (a non-leaf; temporaries may die) or the leaf itself.
    cut = Cut(kind, what, user_site(depth + 1), weakref.ref(source.grad_fn or source), inner)
    recent.append(cut)
    return cut


# Arrays handed out by .numpy() of a tensor that was in a graph or cut from one: id -> (weakref, that tensor's
# Cut or None). tensor()/as_tensor()/from_numpy() look an array up here and, only then, record where the
# values were put back into a tensor (a Cut of kind "numpy" at that line).
handed_out = {}


def remember_array(array, cut):
    key = id(array)
    entry = handed_out.get(key)
    if entry is not None and entry[0]() is array:
        if entry[1] is not cut:
            handed_out[key] = (entry[0], cut)
        return
    try:
        ref = weakref.ref(array, lambda _, key=key: handed_out.pop(key, None))
    except TypeError:
        return
    handed_out[key] = (ref, cut)


GENERIC = ("it is a leaf created with requires_grad=False, or was computed only from tensors that do not require "
           "grad; call .requires_grad_() on it (or on the inputs it was computed from) before the operations you "
           "want to differentiate. If an input did require grad, the graph was cut on the way: inside no_grad() "
           "(or inference_mode()), by .detach() or .data, by a non-differentiable op (argmax/argmin, a comparison, "
           "an integer cast), or by rebuilding a tensor from plain values (torch.tensor(y.item()), "
           "torch.tensor(y.tolist()): Python numbers carry no record of where they came from).")


def reason(tensor):
    """Why ``tensor`` (which does not require grad) has no graph: its Cut's text, or the generic reasons."""
    meta = tensor._meta
    cut = None if meta is None else meta.cut
    if cut is None:
        return GENERIC
    return cut if isinstance(cut, str) else cut.text()
