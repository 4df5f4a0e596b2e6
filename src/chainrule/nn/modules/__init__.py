"""chainrule.nn's layers, activations and losses (PyTorch's torch.nn classes of the same names)."""
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from . import (activation, conv, distance, dropout, flatten, linear, loss, normalization, padding, pixelshuffle,
               pooling, sparse)

__all__ = [name for m in (activation, conv, distance, dropout, flatten, linear, loss, normalization, padding,
                          pixelshuffle, pooling, sparse)
           for name in m.__all__]
