"""Grad modes: whether new operations are recorded. The state is thread-local, as in PyTorch."""
import functools
import inspect
import sys
import threading

from . import cut as _cut


class _GradState(threading.local):
    enabled = True  # class attribute: every new thread starts with recording on
    inference = False
    in_backward = False  # set by the engine while rules run, so their results are not marked "no_grad"
    # (targets, capture) of the backward pass running now (None outside one): a node's backward may need to know
    # whether it runs in a plain backward() (targets None, not capture: every leaf reached gets its .grad).
    backward_pass = None
    # The innermost block that switched recording off (a _Mode), for "cut by no_grad() at file:line": it keeps
    # its frame cheaply at __enter__; the place is resolved only if the block computes something untracked.
    off_block = None


state = _GradState()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator, with or without
    parentheses (``@no_grad`` and ``@no_grad()``), on functions and on generator functions."""

    _bare_decorator = False  # no_grad, enable_grad, inference_mode: ``@mode`` without parentheses

    def __new__(cls, *args, **kwargs):
        if cls._bare_decorator and len(args) == 1 and not kwargs and callable(args[0]):
            return cls()(args[0])  # used as @mode: the argument is the decorated function
        return super().__new__(cls)

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, fn):
        """The mode holds while the generator's own code runs (each step), not while its caller runs."""

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with self.__class__(*self._args):
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.__class__(*self._args):
                            gen.close()
                        raise
                    except BaseException as error:
                        with self.__class__(*self._args):
                            response = gen.throw(error)
                    else:
                        with self.__class__(*self._args):
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    _args = ()

    _label = "no_grad()"  # how a "recording was off" message names the mode
    _frame = _site = _off_meta = None

    def __enter__(self):
        self._prev = (state.enabled, state.inference, state.off_block)
        self._set()
        if not state.enabled:
            self._frame = frame = sys._getframe(1)
            self._lasti = frame.f_lasti  # the `with` line, decoded only when needed (f_lineno costs more)
            self._off_meta = None
            state.off_block = self
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference, state.off_block = self._prev
        self._frame = None  # hold no frame past the block
        return False

    def _where(self):
        """(filename, lineno) of the user's line that switched recording off (called inside the block)."""
        if self._frame is None:
            return self._site
        return _cut.block_site(self._frame, self._lasti)


class no_grad(_Mode):
    """Do not record operations: results have requires_grad=False."""

    _bare_decorator = True

    def _set(self):
        state.enabled = False


class enable_grad(_Mode):
    """Record operations again inside a no_grad block."""

    _bare_decorator = True

    def _set(self):
        state.enabled = True


class set_grad_enabled(_Mode):
    """Turn recording on or off. Takes effect at once (as a function call) and also works with `with`."""

    _label = "set_grad_enabled(False)"

    def __init__(self, mode):
        self._args = (bool(mode),)
        self._prev = (state.enabled, state.inference, state.off_block)
        state.enabled = bool(mode)
        if not mode:  # the mode may last past this frame (a plain call): keep the resolved place, not the frame
            self._site = _cut.user_site()
            self._off_meta = None
        state.off_block = None if mode else self

    def __enter__(self):
        return self

    def __call__(self, fn):
        # Used as a decorator the constructor must not leave the mode switched: undo it.
        state.enabled, state.inference, state.off_block = self._prev
        return super().__call__(fn)

    def _set(self):
        state.enabled = self._args[0]


class inference_mode(_Mode):
    """Like no_grad (NumPy has no cheaper path to switch on). As in PyTorch, `inference_mode(False)`
    turns inference mode off and recording on, even inside no_grad."""

    _bare_decorator = True

    def __init__(self, mode=True):
        self._args = (bool(mode),)

    _label = "inference_mode()"

    def _set(self):
        mode = self._args[0]
        state.enabled = not mode
        state.inference = mode
