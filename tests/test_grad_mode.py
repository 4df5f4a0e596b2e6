"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled — as context
managers and decorators (with and without parentheses, on functions and generators), nested, restored
after exceptions, and thread-local."""
import threading

import pytest

import chainrule as cr
from chainrule.autograd import grad_mode


@pytest.fixture(autouse=True)
def restore_grad_mode():
    """A failing test must not leave recording switched off for the tests after it."""
    state = grad_mode.state
    before = state.enabled, state.inference
    yield
    assert (state.enabled, state.inference) == (True, False), "a grad mode leaked out of the test"
    state.enabled, state.inference = before


def records():
    """Whether an operation on a tensor that requires grad is recorded right now."""
    y = cr.tensor(1.0, requires_grad=True) * 2
    return y.requires_grad and y.grad_fn is not None


# ============================================================================ context managers
class TestContextManagers:
    def test_default_is_enabled(self):
        assert cr.is_grad_enabled() and records()
        assert not cr.is_inference_mode_enabled()

    def test_no_grad(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with cr.no_grad():
            assert not cr.is_grad_enabled()
            y = x * 2
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
        assert y.tolist() == [2.0, 4.0]
        assert cr.is_grad_enabled() and records()

    def test_no_grad_keeps_requires_grad_of_leaves(self):
        with cr.no_grad():
            x = cr.tensor([1.0], requires_grad=True)
        assert x.requires_grad

    def test_enable_grad_inside_no_grad(self):
        x = cr.tensor(2.0, requires_grad=True)
        with cr.no_grad():
            with cr.enable_grad():
                assert cr.is_grad_enabled()
                y = x * x
            assert not cr.is_grad_enabled()
        y.backward()
        assert x.grad.item() == 4.0

    def test_set_grad_enabled_as_context(self):
        with cr.set_grad_enabled(False):
            assert not cr.is_grad_enabled() and not records()
            with cr.set_grad_enabled(True):
                assert records()
            assert not records()
        assert records()

    def test_set_grad_enabled_as_a_function(self):
        cr.set_grad_enabled(False)
        try:
            assert not cr.is_grad_enabled() and not records()
        finally:
            cr.set_grad_enabled(True)
        assert cr.is_grad_enabled()

    def test_set_grad_enabled_accepts_truthy_values(self):
        with cr.set_grad_enabled(0):
            assert cr.is_grad_enabled() is False
        with cr.no_grad():
            with cr.set_grad_enabled(1):
                assert cr.is_grad_enabled() is True

    def test_inference_mode(self):
        x = cr.tensor([1.0], requires_grad=True)
        with cr.inference_mode():
            assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()
            y = x * 2
        assert not y.requires_grad
        assert not cr.is_inference_mode_enabled() and cr.is_grad_enabled()

    def test_inference_mode_false_turns_recording_on(self):
        with cr.no_grad():
            with cr.inference_mode(False):
                assert cr.is_grad_enabled() and not cr.is_inference_mode_enabled()
            assert not cr.is_grad_enabled()
        with cr.inference_mode():
            with cr.inference_mode(False):
                assert cr.is_grad_enabled() and not cr.is_inference_mode_enabled()
            assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()

    def test_deep_nesting(self):
        seen = []
        with cr.no_grad():
            seen.append(cr.is_grad_enabled())
            with cr.enable_grad():
                seen.append(cr.is_grad_enabled())
                with cr.set_grad_enabled(False):
                    seen.append(cr.is_grad_enabled())
                    with cr.inference_mode():
                        seen.append(cr.is_grad_enabled())
                        with cr.enable_grad():
                            seen.append(cr.is_grad_enabled())
                        seen.append(cr.is_grad_enabled())
                    seen.append(cr.is_grad_enabled())
                seen.append(cr.is_grad_enabled())
            seen.append(cr.is_grad_enabled())
        seen.append(cr.is_grad_enabled())
        assert seen == [False, True, False, False, True, False, False, True, False, True]

    def test_public_names_are_the_same_objects(self):
        assert cr.autograd.no_grad is cr.no_grad
        assert cr.autograd.enable_grad is cr.enable_grad
        assert cr.autograd.set_grad_enabled is cr.set_grad_enabled
        assert cr.autograd.inference_mode is cr.inference_mode
        assert cr.autograd.is_grad_enabled is cr.is_grad_enabled

    def test_same_instance_used_twice(self):
        mode = cr.no_grad()
        with mode:
            assert not records()
        assert records()
        with mode:
            assert not records()
        assert records()

    def test_backward_is_not_affected_by_no_grad(self):
        x = cr.tensor(3.0, requires_grad=True)
        y = x ** 2
        with cr.no_grad():
            y.backward()
        assert x.grad.item() == 6.0

    def test_create_graph_under_no_grad(self):
        x = cr.tensor(3.0, requires_grad=True)
        y = x ** 3
        with cr.no_grad():
            (g,) = cr.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad  # the backward pass records when create_graph=True
        (h,) = cr.autograd.grad(g, x)
        assert h.item() == 18.0  # 6x


# ============================================================================ exceptions
class TestExceptions:
    @pytest.mark.parametrize("mode", [cr.no_grad, cr.enable_grad, lambda: cr.set_grad_enabled(False),
                                      lambda: cr.set_grad_enabled(True), cr.inference_mode,
                                      lambda: cr.inference_mode(False)])
    def test_restored_after_exception(self, mode):
        with pytest.raises(KeyError):
            with mode():
                raise KeyError("boom")
        assert cr.is_grad_enabled() and not cr.is_inference_mode_enabled()

    def test_restored_after_exception_when_nested(self):
        with cr.no_grad():
            with pytest.raises(ValueError):
                with cr.enable_grad():
                    raise ValueError
            assert not cr.is_grad_enabled()
        assert cr.is_grad_enabled()

    def test_decorated_function_restores_after_exception(self):
        @cr.no_grad()
        def fails():
            assert not cr.is_grad_enabled()
            raise RuntimeError("inside")

        with pytest.raises(RuntimeError, match="inside"):
            fails()
        assert cr.is_grad_enabled()

    def test_exceptions_are_not_swallowed(self):
        for mode in (cr.no_grad(), cr.enable_grad(), cr.inference_mode()):
            mode.__enter__()
            assert mode.__exit__(ValueError, ValueError(), None) in (None, False)


# ============================================================================ decorators
class TestDecorators:
    def test_no_grad_decorator(self):
        @cr.no_grad()
        def double(x):
            """Doc."""
            return x * 2

        y = double(cr.tensor(1.0, requires_grad=True))
        assert not y.requires_grad
        assert double.__name__ == "double" and double.__doc__ == "Doc."
        assert records()

    def test_bare_decorators(self):
        @cr.no_grad
        def off():
            return cr.is_grad_enabled()

        @cr.enable_grad
        def on():
            return cr.is_grad_enabled()

        @cr.inference_mode
        def inference():
            return cr.is_grad_enabled(), cr.is_inference_mode_enabled()

        assert off() is False
        with cr.no_grad():
            assert on() is True
        assert inference() == (False, True)
        assert cr.is_grad_enabled() and not cr.is_inference_mode_enabled()

    def test_enable_grad_decorator(self):
        @cr.enable_grad()
        def square(x):
            return x * x

        x = cr.tensor(3.0, requires_grad=True)
        with cr.no_grad():
            y = square(x)
        assert y.requires_grad
        y.backward()
        assert x.grad.item() == 6.0

    def test_set_grad_enabled_decorator(self):
        @cr.set_grad_enabled(False)
        def off():
            return cr.is_grad_enabled()

        assert cr.is_grad_enabled()  # decorating must not switch the mode
        assert off() is False
        assert cr.is_grad_enabled()

    def test_inference_mode_decorator(self):
        @cr.inference_mode()
        def f():
            return cr.is_inference_mode_enabled(), cr.is_grad_enabled()

        assert f() == (True, False)

    def test_decorated_recursion(self):
        @cr.no_grad()
        def depth(n):
            assert not cr.is_grad_enabled()
            return 0 if n == 0 else 1 + depth(n - 1)

        assert depth(20) == 20
        assert cr.is_grad_enabled()

    def test_decorated_generator(self):
        @cr.no_grad()
        def gen():
            yield cr.is_grad_enabled()
            received = yield cr.is_grad_enabled()
            yield received, cr.is_grad_enabled()

        it = gen()
        assert next(it) is False
        assert cr.is_grad_enabled()  # the caller records between steps
        assert next(it) is False
        assert it.send("hi") == ("hi", False)
        assert cr.is_grad_enabled()
        it.close()

    def test_decorated_generator_return_value_and_exceptions(self):
        @cr.no_grad()
        def gen():
            try:
                yield 1
            except KeyError:
                yield ("caught", cr.is_grad_enabled())
            return "done"

        it = gen()
        assert next(it) == 1
        assert it.throw(KeyError("k")) == ("caught", False)
        with pytest.raises(StopIteration) as stop:
            next(it)
        assert stop.value.value == "done"
        assert cr.is_grad_enabled()

    def test_decorators_match_torch(self):
        torch = pytest.importorskip("torch")
        results = []
        for lib in (cr, torch):
            @lib.no_grad()
            def f(x):
                return (x * 2).requires_grad, lib.is_grad_enabled()

            @lib.no_grad
            def g(x):
                return (x * 2).requires_grad

            @lib.set_grad_enabled(False)
            def h():
                return lib.is_grad_enabled()

            @lib.inference_mode()
            def i():
                return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

            x = lib.tensor(1.0, requires_grad=True)
            with lib.no_grad():
                inner = lib.enable_grad()(lambda: (x * 2).requires_grad)()
                with lib.inference_mode(False):
                    after_false = lib.is_grad_enabled()
            results.append((f(x), g(x), h(), i(), inner, after_false, lib.is_grad_enabled()))
        assert results[0] == results[1]


# ============================================================================ threads
def run_in_thread(fn):
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as error:  # surface failures in the main thread
            out["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


class TestThreads:
    def test_thread_started_inside_no_grad_records(self):
        with cr.no_grad():
            assert run_in_thread(lambda: (cr.is_grad_enabled(), records())) == (True, True)
            assert not cr.is_grad_enabled()

    def test_thread_started_inside_inference_mode(self):
        with cr.inference_mode():
            assert run_in_thread(lambda: (cr.is_grad_enabled(), cr.is_inference_mode_enabled())) == (True, False)

    def test_setting_in_a_thread_does_not_leak(self):
        def switch_off():
            cr.set_grad_enabled(False)
            return cr.is_grad_enabled()

        assert run_in_thread(switch_off) is False
        assert cr.is_grad_enabled() and records()

    def test_concurrent_threads_keep_their_own_mode(self):
        barrier = threading.Barrier(2)
        results = {}

        def worker(name, mode):
            with mode():
                barrier.wait()  # both are inside their blocks at the same time
                results[name] = (cr.is_grad_enabled(), records())
                barrier.wait()

        threads = [threading.Thread(target=worker, args=("off", cr.no_grad)),
                   threading.Thread(target=worker, args=("on", cr.enable_grad))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {"off": (False, False), "on": (True, True)}

    def test_backward_in_a_thread(self):
        def work():
            x = cr.tensor(2.0, requires_grad=True)
            (x ** 3).backward()
            return x.grad.item()

        with cr.no_grad():
            assert run_in_thread(work) == 12.0  # 3x^2

    def test_threads_match_torch(self):
        torch = pytest.importorskip("torch")
        results = []
        for lib in (cr, torch):
            with lib.no_grad():
                results.append(run_in_thread(lib.is_grad_enabled))
        assert results == [True, True]
