"""Plain PyTorch training loops, recorded through PyTorch's public hooks (no user code is read).

What is recorded, and the exact rules (docs/pytorch.md repeats them for users):

- **Steps.** A global optimizer step hook (``torch.optim.optimizer.register_optimizer_step_post_hook``)
  counts the ``step()`` calls of every optimizer. Step ``k`` of a run is the ``k``-th ``step()`` of
  that optimizer since it first stepped in that run, from 0.
- **Loss.** ``torch.autograd.backward`` (which ``Tensor.backward`` calls) is patched; each call on a
  tensor with one element is *captured* (a list of tensors counts each one-element tensor, in order).
  At step ``k`` the metric ``loss`` is the value of the **last** tensor captured since the previous
  ``step()`` of any optimizer, i.e. exactly ``loss.item()`` of the last ``loss.backward()`` before
  that step. When more than one was captured since the previous step (several losses, gradient
  accumulation over micro-batches), ``loss_total`` is also logged: the sum of all of them, which
  for ``(loss / n).backward()`` over ``n`` micro-batches is the mean loss of the step. A step with no
  backward before it logs no loss; a capture is consumed by the first ``step()`` after it, so with
  two optimizers each step logs the loss backpropagated just before it.
- **Params** on a run's first step of an optimizer: ``optimizer_name``, every hyperparameter of its
  first param group (``lr``, ``momentum``, ``betas``, ``weight_decay``, ...), ``num_param_groups``,
  and, where the module owning the parameters was called before the step (a global forward
  pre-hook watches module calls until the first step), ``model_class``, ``total_params`` and
  ``trainable_params``.
- **lr** at step 0 and whenever it changes (per param group as ``lr-group<i>`` when there are
  several); **epoch** at the first step after the training ``DataLoader`` (the one most recently
  started when the optimizer first stepped) starts an iteration again (0 for the first).
- Metrics of the second and later optimizers (in the order they first step) carry ``-opt<j>``:
  ``loss-opt1``, ``lr-opt1``; their params are prefixed ``opt<j>_``.
- **No host-device synchronization per step**: loss tensors are kept (detached) and read back in
  batches (see :mod:`.losses`). ``log_every_n_steps`` records every n-th step (default 1: all).
- **Runs.** With no active run, the first step starts one, tagged ``autotrack.autologging=pytorch``;
  it is the active run until the user ends it or the process exits. Inside a user's run everything
  goes into it (nothing with ``exclusive=True``). Only global rank 0 records (see
  :mod:`.distributed`). Inside another autologged call (Lightning's ``Trainer.fit``) these hooks
  stand aside: that integration records the training.

Every hook body catches its own errors: a failing hook is reported (one ``AutotrackWarning``) and
training goes on; no hook changes an argument, a gradient or a result.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import Any

from autotrack.core import safety
from autotrack.core import session as _session
from autotrack.integrations.pytorch.distributed import is_rank_zero
from autotrack.integrations.pytorch import losses as _losses
from autotrack.integrations.pytorch.losses import MAX_AGE_S, LossBuffer

NAME = "pytorch"
_monotonic = time.monotonic
_time = time.time
_MAX_WATCHED_MODULES = 20_000
_in_session = _session.active
# optimizer -> (run id, next step, optimizer index) left by a tracker that was removed (autolog()
# called again to reconfigure): the next tracker continues the run's step count instead of
# starting at 0 again in the same run
_carried: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _OptimizerRun:
    """What is tracked of one optimizer inside one run."""

    __slots__ = ("run", "run_id", "client", "off", "step", "every", "lrs", "losses", "suffix",
                 "loader", "loader_base", "epoch", "generation")

    def __init__(self, run: Any) -> None:
        self.run = run
        self.run_id: str | None = None
        self.client: Any = None
        self.off = True
        self.step = 0
        self.every = 1
        self.lrs: list[Any] = []
        self.losses: LossBuffer | None = None
        self.suffix = ""
        self.loader: Any = None  # weakref to the training DataLoader
        self.loader_base = 0
        self.epoch = -1
        self.generation = -1


class LoopTracker:
    """The hooks of plain-loop autologging and their state; one per applied configuration."""

    def __init__(self, torch: Any, config: Any) -> None:
        self.torch = torch
        self.config = config
        self.every = int(config.get("log_every_n_steps", 1))
        self.enabled = True
        # the loss captured since the last step (any optimizer), and the sum when several were
        self.pending: Any = None
        self.pending_total: Any = None
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # optimizer -> _OptimizerRun
        self._order: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # optimizer -> index j
        self._owners: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # optimizer -> params dict
        self._live: list[_OptimizerRun] = []  # states with a buffer, for flush / end of run
        self._lock = threading.RLock()
        # DataLoader iterations: count per loader, the one started last, and a change counter
        self._iterations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._last_loader: Any = None
        self.loader_generation = 0
        # modules called before the first step (to find the model that owns an optimizer's params)
        self._modules: dict[int, Any] = {}
        self._handles: list[Any] = []
        self._forward_handle: Any = None
        self._atexit_registered = False

    # ------------------------------------------------------------------ install / remove
    def install(self) -> None:
        import importlib

        optim = importlib.import_module("torch.optim.optimizer")
        self._handles.append(optim.register_optimizer_step_post_hook(self._after_step))
        module_hooks = importlib.import_module("torch.nn.modules.module")
        self._forward_handle = module_hooks.register_module_forward_pre_hook(self._module_called)
        from autotrack.tracking import fluent

        self._active_run = fluent.active_run
        fluent.register_flush_hook(self.flush)
        fluent.register_end_run_hook(self._run_ending)

    def remove(self) -> None:
        """Take every global hook out (optimizer and module hooks) and write what is buffered."""
        self.enabled = False
        for optimizer, state in list(self._states.items()):
            if not state.off and state.run_id is not None:
                _carried[optimizer] = (state.run_id, state.step, self._order.get(optimizer, 0))
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._stop_watching_modules()
        from autotrack.tracking import fluent

        fluent.unregister_flush_hook(self.flush)
        fluent.unregister_end_run_hook(self._run_ending)
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001
            self._report("writing buffered losses on disable", exc)

    def _stop_watching_modules(self) -> None:
        if self._forward_handle is not None:
            self._forward_handle.remove()
            self._forward_handle = None

    # ------------------------------------------------------------------ hooks called by torch
    def _module_called(self, module: Any, args: Any) -> None:
        # What torch calls (the body is a separate method, so that a fault injected there is caught).
        try:
            self._remember_module(module)
        except Exception as exc:  # noqa: BLE001 - never into the user's forward
            self._report("watching module calls", exc)
        return None

    def _remember_module(self, module: Any) -> None:
        key = id(module)
        if key not in self._modules and len(self._modules) < _MAX_WATCHED_MODULES:
            self._modules[key] = weakref.ref(module)

    def captured(self, tensor: Any) -> None:
        """A one-element tensor was backpropagated (called by the ``torch.autograd.backward`` hook)."""
        if self.pending is None:
            self.pending = tensor
            return
        try:
            total = self.pending_total if self.pending_total is not None else self.pending
            self.pending_total = total + tensor  # on the tensors' device: no synchronization
        except Exception:  # noqa: BLE001 - different devices: no total for this step
            self.pending_total = None
        self.pending = tensor

    def loader_started(self, loader: Any) -> None:
        """``DataLoader.__iter__`` was called (called by its hook)."""
        self._iterations[loader] = self._iterations.get(loader, 0) + 1
        self._last_loader = weakref.ref(loader)
        self.loader_generation += 1

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        # What torch calls after every optimizer.step(); never raises into it.
        try:
            if self.enabled and not _in_session():  # inside Trainer.fit, Lightning's hooks record
                self._record_step(optimizer)
        except Exception as exc:  # noqa: BLE001 - never into the user's optimizer.step()
            self._report("recording an optimizer step", exc)

    def _record_step(self, optimizer: Any) -> None:
        # The per-step path: a handful of attribute reads, one list append, no tensor operation.
        run = self._active_run()
        state = self._states.get(optimizer)
        if state is None or state.run is not run:
            state = self._begin(optimizer, run)
        if state.off:
            self.pending = self.pending_total = None
            return
        step = state.step
        state.step = step + 1
        loss = self.pending
        buffer = state.losses
        if loss is not None:
            total = self.pending_total
            self.pending = self.pending_total = None
            if step % state.every == 0:
                entries = buffer.entries
                if not entries:
                    buffer.started = _monotonic()
                entries.append((step, int(_time() * 1000), loss, total))
        groups = optimizer.param_groups
        lrs = state.lrs
        if len(groups) != len(lrs):
            self._log_lrs(state, groups, step)
        else:
            for i, group in enumerate(groups):
                if group.get("lr") != lrs[i]:
                    self._log_lrs(state, groups, step)
                    break
        if self.loader_generation != state.generation:
            self._check_epoch(state, step)
        if buffer.entries and (len(buffer.entries) >= _losses.BATCH or _monotonic() - buffer.started > MAX_AGE_S):
            self._drain(state, wait=False)

    # ------------------------------------------------------------------ first step in a run
    def _begin(self, optimizer: Any, run: Any) -> _OptimizerRun:
        old = self._states.get(optimizer)
        if old is not None and not old.off:
            self._drain(old, wait=True)
        state = _OptimizerRun(run)
        self._states[optimizer] = state
        if not is_rank_zero() or _session.in_worker_process():
            return state  # other ranks and worker processes record nothing
        created = False
        if run is None:
            run = self._start_run()
            created = True
            state.run = run
        elif self.config.exclusive:
            return state  # exclusive: nothing goes into a run the user started
        state.run_id = run.info.run_id
        from autotrack.tracking.client import TrackingClient
        from autotrack.tracking import fluent

        state.client = TrackingClient(fluent.get_tracking_uri())
        carried = _carried.pop(optimizer, None)
        index = self._order.get(optimizer)
        if carried is not None and carried[0] == state.run_id:
            state.step = carried[1]  # the same run, after autolog() was called again: continue its steps
            index = self._order[optimizer] = carried[2]
        elif index is None:
            index = self._order[optimizer] = len(self._order)
        state.suffix = f"-opt{index}" if index else ""
        state.every = max(1, self.every)
        state.losses = LossBuffer(self.torch, "loss" + state.suffix, "loss_total" + state.suffix)
        last = self._last_loader() if self._last_loader is not None else None
        if last is not None:
            state.loader = weakref.ref(last)
            state.loader_base = self._iterations.get(last, 1) - 1
        state.off = False
        with self._lock:
            self._live = [s for s in self._live if not s.off and s.losses is not None and s.run_id is not None]
            self._live.append(state)
        self._log_params(state, optimizer, f"opt{index}_" if index else "")
        if created and not self._atexit_registered:
            # Registered after the run's pipeline exists, so it runs before the pipeline's own exit
            # hook (atexit is last-in, first-out) and the buffered losses are written at exit.
            atexit.register(self._at_exit)
            self._atexit_registered = True
        return state

    def _start_run(self) -> Any:
        from autotrack.tracking import fluent

        tags = {_session.RUN_TAG: NAME}
        if self.config.extra_tags:
            tags.update(self.config.extra_tags)
        return fluent.start_run(tags=tags)

    def _log_params(self, state: _OptimizerRun, optimizer: Any, prefix: str) -> None:
        params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
        groups = optimizer.param_groups
        if groups:
            for key, value in groups[0].items():
                if key != "params":
                    params[key] = _param_value(value)
        params["num_param_groups"] = len(groups)
        owner = self._owners.get(optimizer)
        if owner is None:
            owner = self._find_owner(optimizer)
            self._owners[optimizer] = owner
        params.update(owner)
        state.client.log_params(state.run_id, {prefix + k: v for k, v in params.items()}, keep_existing=True)

    def _find_owner(self, optimizer: Any) -> dict[str, Any]:
        """Params of the module that owns every parameter of ``optimizer``: among the modules called
        so far that are not inside another called module, the smallest one holding them all."""
        wanted = {id(p) for group in optimizer.param_groups for p in group["params"]}
        modules = [m for m in (ref() for ref in list(self._modules.values())) if m is not None]
        self._stop_watching_modules()  # module calls cost nothing again from the first step on
        if not wanted or not modules:
            return {}
        inner: set[int] = set()
        for module in modules:
            for child in module.modules():
                if child is not module:
                    inner.add(id(child))
        best = None
        for module in modules:
            if id(module) in inner:
                continue
            own = list(module.parameters())
            if wanted <= {id(p) for p in own} and (best is None or len(own) < best[1]):
                best = (module, len(own), own)
        if best is None:
            return {}
        module, _, own = best
        return {
            "model_class": type(module).__name__,
            "total_params": sum(p.numel() for p in own),
            "trainable_params": sum(p.numel() for p in own if p.requires_grad),
        }

    # ------------------------------------------------------------------ lr and epoch
    def _log_lrs(self, state: _OptimizerRun, groups: Any, step: int) -> None:
        lrs = [group.get("lr") for group in groups]
        previous = state.lrs
        state.lrs = lrs
        timestamp = int(_time() * 1000)
        for i, lr in enumerate(lrs):
            if i < len(previous) and previous[i] == lr and len(previous) == len(lrs):
                continue
            value = _float_or_none(lr)
            if value is None:
                continue
            key = ("lr" if len(lrs) == 1 else f"lr-group{i}") + state.suffix
            self._emit(state, key, value, timestamp, step)

    def _check_epoch(self, state: _OptimizerRun, step: int) -> None:
        state.generation = self.loader_generation
        loader = state.loader() if state.loader is not None else None
        if loader is None:
            if state.loader is None and self._last_loader is not None:
                # the optimizer stepped before any DataLoader was iterated; bind to the next one started
                last = self._last_loader()
                if last is not None:
                    state.loader = weakref.ref(last)
                    state.loader_base = self._iterations.get(last, 1) - 1
                    loader = last
            if loader is None:
                return
        epoch = self._iterations.get(loader, 0) - state.loader_base - 1
        if epoch > state.epoch:
            state.epoch = epoch
            self._emit(state, "epoch" + state.suffix, float(epoch), int(_time() * 1000), step)

    # ------------------------------------------------------------------ writing
    def _emit(self, state: _OptimizerRun, key: str, value: float, timestamp: int, step: int) -> None:
        from autotrack.exceptions import InvalidStateError

        try:
            state.client.log_metric(state.run_id, key, value, timestamp, step)
        except InvalidStateError:
            # the run ended before this buffered value was read back: it still belongs to the run
            state.client.log_late_metric(state.run_id, key, value, step, timestamp)

    def _drain(self, state: _OptimizerRun, *, wait: bool) -> None:
        if state.losses is None or state.run_id is None:
            return
        with self._lock:
            state.losses.drain(lambda k, v, t, s: self._emit(state, k, v, t, s), wait=wait)

    def flush(self) -> None:
        """Read back and log every buffered loss (waits for copies still on their way)."""
        for state in list(self._live):
            try:
                self._drain(state, wait=True)
            except Exception as exc:  # noqa: BLE001
                self._report("writing buffered losses", exc)

    def _run_ending(self, run_id: str) -> None:
        for state in list(self._live):
            if state.run_id == run_id:
                try:
                    self._drain(state, wait=True)
                except Exception as exc:  # noqa: BLE001
                    self._report("writing buffered losses at the end of the run", exc)

    def _at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - exit must not raise
            pass

    def _report(self, where: str, exc: Exception) -> None:
        safety.report(NAME, where, exc, silent=self.config.silent, allow_raise=False)


def _param_value(value: Any) -> Any:
    if hasattr(value, "numel") and hasattr(value, "item"):  # a tensor hyperparameter (capturable lr)
        try:
            return value.item() if value.numel() == 1 and value.device.type == "cpu" else str(value.tolist())
        except Exception:  # noqa: BLE001
            return str(value)
    return value


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "numel") and hasattr(value, "device"):
        # a tensor lr: read it only on the CPU (on an accelerator that would be a synchronization)
        try:
            if value.numel() == 1 and value.device.type == "cpu":
                return float(value.item())
        except Exception:  # noqa: BLE001
            return None
    return None
