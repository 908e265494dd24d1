"""Patch and revert, on wrapt (imported only once something is patched): every patch is a :class:`AutotrackFunctionWrapper` with a recorded handle.

An integration patches through a :class:`Patcher`. A patch pairs a target attribute with a *hook*: a
generator function that receives a :class:`Call`, runs its "before" code, yields once (the original
runs there, outside any autotrack ``try``), receives the result, and runs its "after" code::

    def on_fit(call):
        autotrack.log_params(call.instance.get_params())   # before
        result = yield                                     # the user's fit runs here
        log_model(call.instance)                           # after (only if fit succeeded)

If the user's call raises, the hook is closed at its ``yield`` (``GeneratorExit``: ``finally`` blocks
run) and the user's exception propagates unchanged.

Nested calls: a patched call made while another autologged call is running (``Pipeline.fit`` ->
``step.fit``) is a pass-through by default (``nested="pass"``): only the outermost call logs. A patch
made with ``nested="join"`` still runs its hook when nested, inside the outer call's session: the
hook's :class:`Call` has ``joined=True``, the outer session (``call.session``, whose ``state`` the
outer hook may have filled) and its run (``call.run_id``); the joined call creates and ends no run.
(XGBoost: ``XGBClassifier.fit`` opens the run, the inner ``xgboost.train`` joins it to add per-round
metrics.) A joined hook of a ``creates_run=True`` patch is skipped when the outer session has no run.
"""

from __future__ import annotations

import sys
import threading
from types import GeneratorType, ModuleType

from autotrack import config as _config
from autotrack.core import safety, session
from autotrack.core.integration import AutologConfig

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Generator
    from typing import Any

    Hook = Callable[["Call"], Generator[None, Any, None]]


class IntegrationState:
    """The live state of one configured integration: its config, its handles, and the enabled flag.

    ``enabled`` is what every wrapper of the integration asks before doing anything; flipping
    ``active`` to False turns all its patches into pass-throughs without unpatching.
    """

    def __init__(self, name: str, config: AutologConfig) -> None:
        self.name = name
        self.config = config
        self.active = True
        self.handles: list[PatchHandle] = []

    def enabled(self) -> bool:
        return self.active


def is_autotrack_wrapper(obj: object) -> bool:
    """Whether ``obj`` is a wrapper autotrack installed (and not, say, the target library's own)."""
    wrappers = sys.modules.get("autotrack.core._wrappers")
    return wrappers is not None and isinstance(obj, wrappers.AutotrackFunctionWrapper)


class PatchHandle:
    """Record of one installed patch, enough to revert it (``wrapper`` is the installed wrapt proxy)."""

    __slots__ = ("owner", "attribute", "wrapper", "integration")

    def __init__(self, owner: Any, attribute: str, wrapper: Any, integration: str) -> None:
        self.owner = owner
        self.attribute = attribute
        self.wrapper = wrapper
        self.integration = integration


_lock = threading.RLock()
_handles: list[PatchHandle] = []  # every live patch, oldest first
# (owner, attribute) ever patched in this process; the test fixture checks they are all clean again.
_ever_patched: list[tuple[Any, str]] = []


class Call:
    """What a hook sees of one patched call. ``args``/``kwargs`` are the user's, untouched; a hook
    that must pass something different (an injected callback) uses :meth:`set_arg`/:meth:`set_kwarg`."""

    __slots__ = ("integration", "config", "target", "instance", "args", "kwargs", "run_id", "session",
                 "wrapped", "joined", "_new_args", "_new_kwargs")

    def __init__(self, integration: str, config: AutologConfig, target: str, instance: Any,
                 args: tuple, kwargs: dict, sess: session.Session, wrapped: Any = None, joined: bool = False) -> None:
        self.integration = integration
        self.config = config
        self.target = target
        self.instance = instance
        self.args = args
        self.kwargs = kwargs
        self.session = sess
        self.run_id: str | None = sess.run_id
        #: the original callable being called (bound to ``instance`` for a method): its signature is
        #: what argument lookup by name binds against (``autotrack.integrations.kit.calls``)
        self.wrapped = wrapped
        #: True when this is a nested call of a ``nested="join"`` patch, running in an outer session
        self.joined = joined
        self._new_args: dict[int, Any] = {}
        self._new_kwargs: dict[str, Any] = {}

    def set_arg(self, index: int, value: Any) -> None:
        """Pass ``value`` as positional argument ``index`` to the original instead of the user's."""
        if not 0 <= index < len(self.args):
            raise IndexError(f"set_arg({index}): the call has {len(self.args)} positional arguments")
        self._new_args[index] = value

    def set_kwarg(self, name: str, value: Any) -> None:
        """Pass ``name=value`` to the original (replacing or adding a keyword argument)."""
        self._new_kwargs[name] = value

    def final_arguments(self) -> tuple[tuple, dict]:
        """The arguments the original receives."""
        if not self._new_args and not self._new_kwargs:
            return self.args, self.kwargs
        args = tuple(self._new_args.get(i, a) for i, a in enumerate(self.args))
        return args, {**self.kwargs, **self._new_kwargs}

    def check_unchanged(self, original_args: tuple, original_kwargs: dict, args: tuple, kwargs: dict) -> None:
        """Strict mode: every user argument the hook did not explicitly replace (:meth:`set_arg`,
        :meth:`set_kwarg`) reaches the original as the very same object."""
        if len(args) != len(original_args):
            raise AssertionError(f"autotrack changed the number of positional arguments of {self.target}")
        for i, value in enumerate(original_args):
            if i not in self._new_args and args[i] is not value:
                raise AssertionError(f"autotrack changed positional argument {i} of {self.target}")
        for key, value in original_kwargs.items():
            if key not in self._new_kwargs and kwargs.get(key, _MISSING) is not value:
                raise AssertionError(f"autotrack changed keyword argument {key!r} of {self.target}")
        extra = set(kwargs) - set(original_kwargs) - set(self._new_kwargs)
        if extra:
            raise AssertionError(f"autotrack added keyword arguments {sorted(extra)} to {self.target}")


_MISSING = object()


def _describe(owner: Any, attribute: str) -> str:
    """``module.Class.attribute`` or ``module.function``, for messages and ``Call.target``."""
    if isinstance(owner, ModuleType):
        return f"{owner.__name__}.{attribute}"
    return f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', type(owner).__qualname__)}.{attribute}"


NESTED_MODES = ("pass", "join")


def _make_wrapper(state: IntegrationState, hook: Hook, target: str, creates_run: bool, join: bool = False):
    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        outer = session.current()
        if outer is not None:
            if join:
                return _joined_call(state, hook, outer, target, wrapped, instance, args, kwargs, creates_run)
            # Nested inside another autologged call: the outermost call logs, this one only runs.
            return wrapped(*args, **kwargs)
        sess = session.Session(state.name, target)
        token = session.enter(sess)
        try:
            return _outermost_call(state, hook, sess, wrapped, instance, args, kwargs, creates_run)
        finally:
            session.leave(token)

    return wrapper


def _outermost_call(state: IntegrationState, hook: Hook, sess: session.Session, wrapped: Callable,
                    instance: Any, args: tuple, kwargs: dict, creates_run: bool) -> Any:
    config = state.config
    silent = config.silent
    gen = None
    call_args, call_kwargs = args, kwargs
    # --- autotrack's code before the call: any Exception here still lets the user's call run.
    try:
        with safety.quiet(silent):
            if creates_run:
                sess.run_id, sess.created_run = session.open_run(state.name, config.exclusive, config.extra_tags)
            else:
                from autotrack.tracking import fluent

                run = fluent.active_run()
                sess.run_id = run.info.run_id if run is not None else None
            if sess.run_id is not None or not creates_run:
                call = Call(state.name, config, sess.target, instance, args, dict(kwargs), sess, wrapped)
                gen = hook(call)
                if not isinstance(gen, GeneratorType):
                    raise TypeError(f"autolog hook {hook!r} must be a generator function (yield once)")
                next(gen)
                call_args, call_kwargs = call.final_arguments()
                if _config.strict():
                    call.check_unchanged(args, kwargs, call_args, call_kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own code only
        _discard(state, gen, sess, "FINISHED", ending=False)
        gen = None
        call_args, call_kwargs = args, kwargs
        if _config.strict() and sess.created_run:
            _end_created_run(state, sess, "FAILED")
        safety.report(state.name, f"{sess.target} (before the call)", exc, silent=silent)
    # --- the user's call, outside every autotrack try: it runs exactly once.
    try:
        result = wrapped(*call_args, **call_kwargs)
    except BaseException as user_error:
        # Observe only: close the hook, end our run, then re-raise the very same exception object.
        status = "KILLED" if isinstance(user_error, (KeyboardInterrupt, SystemExit)) else "FAILED"
        _discard(state, gen, sess, status, ending=True)
        raise
    # --- autotrack's code after the call: any Exception here still returns the user's result.
    try:
        with safety.quiet(silent):
            if gen is not None:
                try:
                    gen.send(result)
                except StopIteration:
                    pass
                else:
                    gen.close()
                    raise RuntimeError(f"autolog hook for {sess.target} yielded more than once")
    except Exception as exc:  # noqa: BLE001 - autotrack's own code only
        _end_created_run(state, sess, "FINISHED")
        safety.report(state.name, f"{sess.target} (after the call)", exc, silent=silent)
        return result
    _end_created_run(state, sess, "FINISHED")
    return result


def _joined_call(state: IntegrationState, hook: Hook, outer: session.Session, target: str, wrapped: Callable,
                 instance: Any, args: tuple, kwargs: dict, creates_run: bool) -> Any:
    """A nested call of a ``nested="join"`` patch: the hook runs in the outer session and its run;
    the three phases are those of :func:`_outermost_call`, but no run is opened or ended here."""
    if creates_run and outer.run_id is None:
        return wrapped(*args, **kwargs)  # the outer call logs nowhere (worker, exclusive...): neither do we
    config = state.config
    silent = config.silent
    gen = None
    call_args, call_kwargs = args, kwargs
    try:
        with safety.quiet(silent):
            call = Call(state.name, config, target, instance, args, dict(kwargs), outer, wrapped, joined=True)
            gen = hook(call)
            if not isinstance(gen, GeneratorType):
                raise TypeError(f"autolog hook {hook!r} must be a generator function (yield once)")
            next(gen)
            call_args, call_kwargs = call.final_arguments()
            if _config.strict():
                call.check_unchanged(args, kwargs, call_args, call_kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own code only
        _discard(state, gen, outer, "FINISHED", ending=False)
        gen = None
        call_args, call_kwargs = args, kwargs
        safety.report(state.name, f"{target} (before the nested call)", exc, silent=silent)
    try:
        result = wrapped(*call_args, **call_kwargs)
    except BaseException:
        _discard(state, gen, outer, "FAILED", ending=False)  # the outer call ends the run
        raise
    try:
        with safety.quiet(silent):
            if gen is not None:
                try:
                    gen.send(result)
                except StopIteration:
                    pass
                else:
                    gen.close()
                    raise RuntimeError(f"autolog hook for {target} yielded more than once")
    except Exception as exc:  # noqa: BLE001 - autotrack's own code only
        safety.report(state.name, f"{target} (after the nested call)", exc, silent=silent)
    return result


def _discard(state: IntegrationState, gen: Any, sess: session.Session, status: str, *, ending: bool) -> None:
    """Close a hook without its "after" part and, when ``ending``, end the run autotrack created.
    Never raises: this runs while the user's exception is propagating."""
    if gen is not None:
        try:
            with safety.quiet(state.config.silent):
                gen.close()
        except Exception as exc:  # noqa: BLE001
            safety.report(state.name, f"{sess.target} (closing the hook)", exc,
                          silent=state.config.silent, allow_raise=False)
    if ending:
        _end_created_run(state, sess, status, allow_raise=False)


def _end_created_run(state: IntegrationState, sess: session.Session, status: str, *, allow_raise: bool = True) -> None:
    if not sess.created_run or sess.run_id is None:
        return
    sess.created_run = False  # end it once, whatever happens below
    try:
        with safety.quiet(state.config.silent):
            session.close_run(sess.run_id, status)
    except Exception as exc:  # noqa: BLE001
        safety.report(state.name, f"{sess.target} (ending run {sess.run_id})", exc,
                      silent=state.config.silent, allow_raise=allow_raise)


def patch(state: IntegrationState, owner: Any, attribute: str, hook: Hook, *, creates_run: bool = True,
          nested: str = "pass") -> PatchHandle | None:
    """Install ``hook`` on ``owner.attribute`` (function, method, classmethod, staticmethod, property
    or descriptor such as scikit-learn's ``available_if``) and record the handle.

    ``nested``: ``"pass"`` (a call nested in another autologged call only runs) or ``"join"`` (its
    hook runs in the outer call's session; see the module docstring). Patching the same attribute
    twice for one integration is a no-op returning None.
    """
    if nested not in NESTED_MODES:
        raise ValueError(f"patch(nested={nested!r}): accepted values: {', '.join(map(repr, NESTED_MODES))}")
    join = nested == "join"
    import wrapt

    from autotrack.core._wrappers import AutotrackFunctionWrapper

    with _lock:
        current = wrapt.resolve_path(owner, attribute)[2]
        if wrapt.find_wrapper(current, predicate=lambda w: is_autotrack_wrapper(w)
                              and w._self_autotrack_integration == state.name) is not None:
            return None
        target = _describe(owner, attribute)

        def factory(original: Any) -> Any:
            wrapper = AutotrackFunctionWrapper(original, _make_wrapper(state, hook, target, creates_run, join),
                                               enabled=state.enabled)
            # _self_ attributes live on the proxy itself, not on the wrapped function.
            wrapper._self_autotrack_owner = owner
            wrapper._self_autotrack_attribute = attribute
            wrapper._self_autotrack_integration = state.name
            return wrapper

        installed = wrapt.wrap_object(owner, attribute, factory)
        handle = PatchHandle(owner, attribute, installed, state.name)
        _handles.append(handle)
        state.handles.append(handle)
        if not any(o is owner and a == attribute for o, a in _ever_patched):
            _ever_patched.append((owner, attribute))
        return handle


def revert(state: IntegrationState, since: int = 0) -> None:
    """Remove the patches of ``state`` (those from index ``since`` on), newest first. A patch that a
    third party already replaced is skipped."""
    if not state.handles[since:]:
        return
    import wrapt

    with _lock:
        for handle in reversed(state.handles[since:]):
            try:
                wrapt.unwrap_object(handle.owner, handle.attribute, handle.wrapper, missing_ok=True)
            except Exception as exc:  # noqa: BLE001 - e.g. buried under a non-wrapt wrapper
                safety.report(state.name, f"reverting {_describe(handle.owner, handle.attribute)}", exc,
                              allow_raise=False)
            if handle in _handles:
                _handles.remove(handle)
        del state.handles[since:]


def _make_observer(state: IntegrationState, after: Callable[[Any, tuple, dict, Any], None], target: str):
    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        result = wrapped(*args, **kwargs)  # the user's call: once, outside every autotrack try
        try:
            after(instance, args, kwargs, result)
        except Exception as exc:  # noqa: BLE001 - autotrack's own code only
            safety.report(state.name, f"{target} (observer)", exc, silent=state.config.silent)
        return result

    return wrapper


def observe(state: IntegrationState, owner: Any, attribute: str, after: Callable[[Any, tuple, dict, Any], None]
            ) -> PatchHandle | None:
    """Install a light observer on ``owner.attribute``: after each successful call,
    ``after(instance, args, kwargs, result)`` runs (errors reported as for hooks); nothing else.

    For calls made once per training step (``torch.autograd.backward``), where a hook's session,
    run lookup and generator (several microseconds) cost too much: an observer opens no session,
    looks up no run, cannot change arguments and always runs, nested or not (``after`` checks
    ``autotrack.core.session.active()`` itself when it should stand aside). The wrapper is the same
    :class:`AutotrackFunctionWrapper`, recorded and reverted like every patch.
    """
    import wrapt

    from autotrack.core._wrappers import AutotrackFunctionWrapper

    with _lock:
        current = wrapt.resolve_path(owner, attribute)[2]
        if wrapt.find_wrapper(current, predicate=lambda w: is_autotrack_wrapper(w)
                              and w._self_autotrack_integration == state.name) is not None:
            return None
        target = _describe(owner, attribute)

        def factory(original: Any) -> Any:
            wrapper = AutotrackFunctionWrapper(original, _make_observer(state, after, target), enabled=state.enabled)
            wrapper._self_autotrack_owner = owner
            wrapper._self_autotrack_attribute = attribute
            wrapper._self_autotrack_integration = state.name
            return wrapper

        installed = wrapt.wrap_object(owner, attribute, factory)
        handle = PatchHandle(owner, attribute, installed, state.name)
        _handles.append(handle)
        state.handles.append(handle)
        if not any(o is owner and a == attribute for o, a in _ever_patched):
            _ever_patched.append((owner, attribute))
        return handle


def live_handles() -> list[PatchHandle]:
    """Patches currently installed, oldest first."""
    with _lock:
        return list(_handles)


def leftover_wrappers() -> list[str]:
    """Attributes ever patched in this process that still carry an autotrack wrapper (should be none
    after ``autolog(disable=True)``)."""
    found: list[str] = []
    if not _ever_patched:
        return found
    import wrapt

    with _lock:
        for owner, attribute in _ever_patched:
            try:
                value = wrapt.resolve_path(owner, attribute)[2]
            except Exception:  # noqa: BLE001 - attribute gone entirely: nothing of ours left
                continue
            if wrapt.find_wrapper(value, predicate=is_autotrack_wrapper) is not None:
                found.append(_describe(owner, attribute))
    return found


class Patcher:
    """What an integration's ``apply`` receives: patch, defer work to a later import, guard callbacks."""

    def __init__(self, state: IntegrationState, subscribe: Callable[[IntegrationState, str, Callable], None]) -> None:
        self._state = state
        self._subscribe = subscribe

    @property
    def config(self) -> AutologConfig:
        """The integration's effective options."""
        return self._state.config

    def patch(self, owner: Any, attribute: str, hook: Hook, *, creates_run: bool = True,
              nested: str = "pass") -> PatchHandle | None:
        """Patch ``owner.attribute`` with the generator ``hook`` (see the module docstring).

        With ``creates_run=False`` the hook runs whether or not a run is active (``call.run_id`` may be
        None) and no run is created, e.g. for ``predict``. With ``nested="join"`` the hook also runs
        when the call is nested in another autologged call, in that call's session and run
        (``call.joined`` is True); by default a nested call only runs.
        """
        return patch(self._state, owner, attribute, hook, creates_run=creates_run, nested=nested)

    def observe(self, owner: Any, attribute: str, after: Callable[[Any, tuple, dict, Any], None]) -> PatchHandle | None:
        """Observe ``owner.attribute`` with ``after(instance, args, kwargs, result)`` after each
        successful call: the light patch for per-step calls (see :func:`observe`)."""
        return observe(self._state, owner, attribute, after)

    def on_import(self, module_name: str, callback: Callable[[ModuleType], None]) -> None:
        """Run ``callback(module)`` when ``module_name`` is imported (now, if it already is); its
        errors are reported, never raised into the import."""
        self._subscribe(self._state, module_name, callback)

    def guard(self, fn: Callable, default: Any = None) -> Callable:
        """``fn`` made unable to raise into training (for callbacks injected into the library)."""
        return safety.guard(self._state.name, fn, silent=self._state.config.silent, default=default)

    def guard_methods(self, cls: type) -> type:
        """Class decorator form of :meth:`guard` for callback classes."""
        return safety.guard_methods(self._state.name, silent=self._state.config.silent)(cls)
