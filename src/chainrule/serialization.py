"""chainrule.save / chainrule.load: tensors, state dicts and optimizer state in the safetensors format.

A file is a plain safetensors file: every tensor is stored under a readable key (a flat state dict keeps its
own names, so other safetensors readers see exactly the state-dict names), and the structure around the
tensors (nested dicts, lists, ints, floats, strings, …) is JSON under the header's ``__metadata__["chainrule"]``.
A safetensors file without that entry (e.g. written by ``safetensors.torch.save_file``) loads as a dict
name -> Tensor. Nothing is ever unpickled: a pickle (``torch.save``) or damaged file is refused.

Writes are atomic: the bytes go to a temporary file in the target's directory, are flushed and fsync'd, and the
temporary file then replaces the target in one ``os.replace``; on any error the old file is left untouched."""
import collections
import json
import math
import os
import secrets
import stat
import struct

import numpy as np
import safetensors
import safetensors.numpy

from ._dtype import from_numpy_dtype
from ._tensor import Tensor, make_tensor

FORMAT_KEY = "chainrule"
FORMAT_VERSION = 1
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header
_CHUNK = 1 << 26
_NEVER_UNPICKLES = "chainrule never unpickles (unpickling can run arbitrary code)"
_CONVERT = ("convert it in PyTorch with safetensors.torch.save_file(torch.load(path, weights_only=True), "
            "'model.safetensors')")


class LoadError(ValueError):
    """A file chainrule.load refuses: not safetensors (e.g. a pickle), truncated, or corrupt."""


# ---------------------------------------------------------------------------------------------------- save

def save(obj, f):
    """Write ``obj`` — a Tensor, a (nested) dict/list/tuple of tensors, numbers, strings, bools and None, such
    as a state dict or ``{"model": sd, "optimizer": opt.state_dict(), "epoch": 3}`` — to ``f`` (a path or a
    binary file object) in the safetensors format. Writing to a path is atomic."""
    tensors, tree = _Encoder().encode(obj)
    metadata = {FORMAT_KEY: json.dumps({"version": FORMAT_VERSION, "tree": tree}, allow_nan=False,
                                       separators=(",", ":"))}
    data = safetensors.numpy.save(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"chainrule.save: f must be a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}")
    atomic_write(os.fspath(f), data)


class _Encoder:
    """Tensors go to a flat name -> array dict; everything else to a JSON tree that refers to them by name.

    Tree: JSON scalars stand for themselves; a list for a list; objects are markers: {"T": name} a Tensor,
    {"A": name} a NumPy array, {"D": [[key, value], ...], "o": 1?} a dict (OrderedDict with "o"), {"U": [...]}
    a tuple, {"F": "nan"|"inf"|"-inf"} a non-finite float."""

    def __init__(self):
        self.arrays = {}
        self.names_of = {}  # id(tensor) -> name: a tensor saved twice is stored once and loads as one object

    def encode(self, obj):
        return self.arrays, self.value(obj, [])

    def name(self, path):
        base = ".".join(path) or "tensor"
        name, n = base, 1
        while name in self.arrays:
            name, n = f"{base}#{n}", n + 1
        return name

    def array(self, obj, array, path):
        known = self.names_of.get(id(obj))
        if known is not None:
            return known
        from_numpy_dtype(array.dtype)  # a clear TypeError for dtypes chainrule cannot load back
        name = self.name(path)
        # safetensors reads raw memory, so it must be C-contiguous (np.ascontiguousarray would make 0-d 1-d).
        self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        self.names_of[id(obj)] = name
        return name

    def value(self, obj, path):
        if isinstance(obj, Tensor):
            return {"T": self.array(obj, obj._data, path)}
        if isinstance(obj, np.ndarray):
            return {"A": self.array(obj, obj, path)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic) and not isinstance(obj, (np.str_, np.bytes_, np.void)):
            obj = obj.item()  # NumPy scalars are stored as the Python number they hold
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"F": repr(obj)}
        if isinstance(obj, dict):
            items = [[self.key(k, path), self.value(v, path + [str(k)])] for k, v in obj.items()]
            return {"D": items, "o": 1} if isinstance(obj, collections.OrderedDict) else {"D": items}
        if isinstance(obj, (list, tuple)):
            values = [self.value(v, path + [str(i)]) for i, v in enumerate(obj)]
            return values if isinstance(obj, list) else {"U": values}
        raise TypeError(f"chainrule.save: cannot save a {type(obj).__name__} at {_where(path)}; chainrule saves "
                        "tensors, NumPy arrays, numbers, strings, bools, None and lists/tuples/dicts of them "
                        f"({_NEVER_UNPICKLES}, so it does not pickle arbitrary objects either)")

    @staticmethod
    def key(k, path):
        if k is None or isinstance(k, (str, bool)):
            return k
        if isinstance(k, (int, np.integer)):
            return int(k)
        if isinstance(k, (float, np.floating)) and math.isfinite(k):
            return float(k)
        raise TypeError(f"chainrule.save: dict key {k!r} ({type(k).__name__}) at {_where(path)} cannot be saved; "
                        "keys must be strings, ints, finite floats, bools or None")


def _where(path):
    return "the top level" if not path else "obj" + "".join(f"[{p!r}]" for p in path)


def atomic_write(path, data):
    """Write ``data`` to ``path`` so that ``path`` holds either its old content or all of ``data``, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as open() would for a new file.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_all(out, data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))  # keep an existing file's permissions
        except FileNotFoundError:
            pass
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_all(out, data):
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        out.write(view[start:start + _CHUNK])


def _fsync_directory(directory):
    """Make the rename itself durable; not every platform can open a directory (Windows cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------------- load

def load(f, map_location=None, *, weights_only=None, mmap=None):
    """Read what ``save`` wrote (or any safetensors file, as a dict name -> Tensor) from a path or binary file.

    ``map_location`` is accepted for PyTorch compatibility; chainrule tensors live on the CPU, so only None and
    "cpu" are valid. ``weights_only`` and ``mmap`` are accepted and ignored: nothing is ever unpickled."""
    _check_map_location(map_location)
    if hasattr(f, "read"):
        raw, name = f.read(), repr(getattr(f, "name", "<file object>"))
    elif isinstance(f, (str, os.PathLike)):
        name = repr(os.fspath(f))
        with open(f, "rb") as handle:
            raw = handle.read()
    else:
        raise TypeError(f"chainrule.load: f must be a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}")
    header = _parse_header(raw, name)
    try:
        arrays = safetensors.numpy.load(raw)
    except (safetensors.SafetensorError, ValueError, TypeError) as error:
        raise LoadError(f"chainrule.load: {name} is a corrupt safetensors file ({error})") from None
    tensors = {key: _tensor(key, array, name) for key, array in arrays.items()}
    metadata = header.get("__metadata__") or {}
    if FORMAT_KEY not in metadata:
        return {key: tensors[key] for key in header if key != "__metadata__"}  # the file's own order
    return _Decoder(tensors, arrays, name).decode(metadata[FORMAT_KEY])


def _check_map_location(map_location):
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        if callable(map_location) or isinstance(map_location, dict):
            raise ValueError("chainrule.load: map_location as a function or dict is not supported; chainrule "
                             "tensors live on the CPU: use map_location=None or 'cpu'")
        return
    if str(map_location) != "cpu":
        raise ValueError(f"chainrule.load: map_location={map_location!r} is not supported; chainrule tensors live "
                         "on the CPU: use map_location=None or 'cpu'")


def _parse_header(raw, name):
    """The safetensors JSON header, after checking that the bytes are a safetensors file at all."""
    if raw[:1] == b"\x80" or raw[:4] == b"PK\x03\x04":
        kind = "a zip archive (torch.save's format)" if raw[:2] == b"PK" else "a pickle (torch.save's legacy format)"
        raise LoadError(f"chainrule.load: {name} is not a safetensors file: it looks like {kind}. "
                        f"{_NEVER_UNPICKLES}; {_CONVERT}.")
    if len(raw) < 8:
        state = "empty" if not raw else f"only {len(raw)} bytes long"
        raise LoadError(f"chainrule.load: {name} is not a safetensors file: it is {state} (truncated?)")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > len(raw) - 8 or size > _MAX_HEADER or raw[8:9] != b"{":
        raise LoadError(f"chainrule.load: {name} is not a safetensors file or is truncated: its first 8 bytes do "
                        f"not give the length of a JSON header that fits in the file ({len(raw)} bytes). "
                        f"{_NEVER_UNPICKLES}.")
    try:
        header = json.loads(raw[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise LoadError(f"chainrule.load: {name} is a corrupt safetensors file: its header is not valid JSON "
                        f"({error})") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(header, dict) or (metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()))):
        raise LoadError(f"chainrule.load: {name} is a corrupt safetensors file: its header is not an object of "
                        "tensors with a string-to-string __metadata__")
    return header


def _tensor(key, array, name):
    try:
        from_numpy_dtype(array.dtype)
    except TypeError:
        raise LoadError(f"chainrule.load: {name}: tensor {key!r} has dtype {array.dtype}, which chainrule does not "
                        "support; convert it (e.g. to float32) before saving") from None
    if not array.flags.writeable:
        array = array.copy()
    return make_tensor(array)


class _Decoder:
    """The inverse of _Encoder: a JSON tree plus named tensors back to the saved object."""

    def __init__(self, tensors, arrays, name):
        self.tensors, self.arrays, self.name = tensors, arrays, name

    def decode(self, text):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise self.corrupt(f"its chainrule metadata is not valid JSON ({error})") from None
        if not isinstance(document, dict) or "tree" not in document:
            raise self.corrupt("its chainrule metadata has no 'tree'")
        if document.get("version") != FORMAT_VERSION:
            raise LoadError(f"chainrule.load: {self.name} was written in chainrule format version "
                            f"{document.get('version')!r}; this chainrule reads version {FORMAT_VERSION} (upgrade "
                            "chainrule)")
        return self.value(document["tree"])

    def corrupt(self, what):
        return LoadError(f"chainrule.load: {self.name} is a corrupt chainrule file: {what}")

    def value(self, node):
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "T" in node or "A" in node:
            key = node.get("T", node.get("A"))
            if key not in self.tensors:
                raise self.corrupt(f"its metadata refers to a tensor {key!r} that the file does not hold")
            return self.tensors[key] if "T" in node else self.tensors[key]._data
        if "D" in node:
            items = ((self.key(k), self.value(v)) for k, v in node["D"])
            return collections.OrderedDict(items) if node.get("o") else dict(items)
        if "U" in node:
            return tuple(self.value(v) for v in node["U"])
        if "F" in node and node["F"] in ("nan", "inf", "-inf"):
            return float(node["F"])
        raise self.corrupt(f"unknown entry {json.dumps(node)[:80]} in its metadata")

    def key(self, k):
        if isinstance(k, (list, dict)):
            raise self.corrupt(f"a dict key in its metadata is {json.dumps(k)[:80]}")
        return k
