"""Grad modes: whether new operations are recorded. The state is thread-local, as in PyTorch."""
import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True  # class attribute: every new thread starts with recording on
    inference = False
    in_backward = False  # set by the engine while rules run, so their results are not marked "no_grad"


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

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        self._set()
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False


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

    def __init__(self, mode):
        self._args = (bool(mode),)
        self._prev = (state.enabled, state.inference)
        state.enabled = bool(mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        # Used as a decorator the constructor must not leave the mode switched: undo it.
        state.enabled, state.inference = self._prev
        return super().__call__(fn)

    def _set(self):
        state.enabled = self._args[0]


class inference_mode(_Mode):
    """Like no_grad (NumPy has no cheaper path to switch on). As in PyTorch, `inference_mode(False)`
    turns inference mode off and recording on, even inside no_grad."""

    _bare_decorator = True

    def __init__(self, mode=True):
        self._args = (bool(mode),)

    def _set(self):
        mode = self._args[0]
        state.enabled = not mode
        state.inference = mode
