"""chainrule.autograd: the reverse-mode engine and its tools, with PyTorch's names."""
from .engine import backward, grad  # noqa: F401
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,  # noqa: F401
                        is_inference_mode_enabled)
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled  # noqa: F401
from .graph import Node  # noqa: F401
from . import forward_ad  # noqa: F401
from . import functional  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
