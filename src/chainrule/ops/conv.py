"""Convolution and pooling: conv1d/conv2d/conv_transpose2d through im2col (strided views plus one matrix
multiply), max/avg/adaptive pooling, unfold/fold, interpolate, pixel_shuffle. Public through
chainrule.nn.functional."""

__all__ = []
FUNCTIONAL = []
TENSOR_METHODS = []
