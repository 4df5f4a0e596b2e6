"""CosineSimilarity as a module."""
from .. import functional as F
from ..module import Module

__all__ = ["CosineSimilarity"]


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along dim (norms clamped below at eps)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
