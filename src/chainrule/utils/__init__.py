"""Utilities around training: ``chainrule.utils.data`` (datasets, samplers, DataLoader)."""
from . import data  # noqa: F401
from . import checkpoint  # noqa: F401
