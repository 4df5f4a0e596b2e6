"""BatchNorm1d/2d/3d, InstanceNorm1d/2d, LayerNorm, GroupNorm (PyTorch's signatures, parameter and buffer
names, initialisation and repr). Running statistics are updated in place by F.batch_norm (under no_grad,
with the unbiased batch variance)."""
import numbers

from ... import _dtype, _factories
from ..._errors import ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import _factory

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm",
           "GroupNorm"]

def _add_affine(module, affine, bias, shape, dtype):
    """The norms' learnable scale (``weight``, ones) and shift (``bias``, zeros) of ``shape``, or None each."""
    module.register_parameter("weight", Parameter(_factories.empty(*shape, dtype=dtype)) if affine else None)
    module.register_parameter("bias", Parameter(_factories.empty(*shape, dtype=dtype)) if affine and bias else None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)



class _NormBase(Module):
    """weight (ones) and bias (zeros) when affine; running_mean (zeros), running_var (ones) and
    num_batches_tracked (int64 0) buffers when track_running_stats."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = _factory(device, dtype)
        _add_affine(self, affine, bias, (num_features,), dtype)
        if track_running_stats:
            self.register_buffer("running_mean", _factories.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", _factories.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", _factories.zeros((), dtype=_dtype.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        ndim = input.ndim
        if ndim not in self._ndims:
            raise ShapeError(f"{type(self).__name__}: expected {self._ndims_text} input (got {ndim}D input); the "
                             f"input has shape {list(input.shape)}")
        channel_dim = 1 if ndim == self._ndims[-1] or not self._unbatched else 0
        if input.shape[channel_dim] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}): expected {self.num_features} channels in "
                             f"dim {channel_dim}, got input of shape {list(input.shape)} (running_mean should contain "
                             f"{input.shape[channel_dim]} elements not {self.num_features})")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _unbatched = False

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average over the batches seen
                factor = 1.0 / float(self.num_batches_tracked.item())
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        # The running buffers are passed only when they are read (eval) or updated (training and tracked).
        pass_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if pass_running else None,
                            self.running_var if pass_running else None, self.weight, self.bias, use_batch, factor,
                            self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) over the batch (and length) per channel."""
    _ndims, _ndims_text = (2, 3), "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel."""
    _ndims, _ndims_text = (4,), "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) per channel."""
    _ndims, _ndims_text = (5,), "5D"


class _InstanceNorm(_NormBase):
    """Per-sample, per-channel normalisation over the spatial dims; affine and track_running_stats default
    to False (as PyTorch); an unbatched input (C, ...) is accepted."""
    _unbatched = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._ndims[0]
        if unbatched:
            input = input.unsqueeze(0)
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L)."""
    _ndims, _ndims_text = (2, 3), "2D (unbatched) or 3D (batched)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W)."""
    _ndims, _ndims_text = (3, 4), "3D (unbatched) or 4D (batched)"


class LayerNorm(Module):
    """Normalise over the last len(normalized_shape) dims; weight (ones) and bias (zeros) of that shape when
    elementwise_affine."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = _factory(device, dtype)
        _add_affine(self, elementwise_affine, bias, self.normalized_shape, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        k = len(self.normalized_shape)
        if tuple(input.shape[input.ndim - k:]) != self.normalized_shape or input.ndim < k:
            raise ShapeError(f"LayerNorm: Given normalized_shape={list(self.normalized_shape)}, expected input with "
                             f"shape [*, {', '.join(map(str, self.normalized_shape))}], but got input of size "
                             f"{list(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels of (N, C, ...) into num_groups groups and normalise each group per sample; weight
    (ones) and bias (zeros) per channel when affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        dtype = _factory(device, dtype)
        _add_affine(self, affine, bias, (num_channels,), dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input (N, C, ...) with "
                             f"C={self.num_channels}, got input of shape {list(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
