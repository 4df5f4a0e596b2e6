"""The random generator a sampler or split draws from: the one given, or chainrule's global one."""
import numpy as np

from ... import _factories


def resolve_generator(generator, who):
    """``generator`` if it is a NumPy Generator; chainrule's seeded default (``manual_seed``) if None.

    The default is looked up at each call, not stored, so ``chainrule.manual_seed`` after construction counts."""
    if generator is None:
        return _factories.default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{who}: generator must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)) or None "
                    f"for chainrule's global generator seeded by chainrule.manual_seed; got {type(generator).__name__}")
