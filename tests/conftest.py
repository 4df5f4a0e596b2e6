"""Shared fixtures."""
import os

import numpy as np
import pytest


class SeededGenerator(np.random.Generator):
    """A NumPy generator that remembers its seed (``seed_value``), so failures can name it."""


@pytest.fixture
def fresh_rng():
    """A generator with a fresh seed per run (or CHAINRULE_SEED to replay one); compare_with_torch puts
    the seed in every failure message."""
    seed = int(os.environ.get("CHAINRULE_SEED") or np.random.SeedSequence().entropy % 2**32)
    rng = SeededGenerator(np.random.PCG64(seed))
    rng.seed_value = seed
    return rng
