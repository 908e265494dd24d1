"""Loss values kept as tensors where they were computed, read back to the host in batches.

Reading a CUDA tensor's value (``loss.item()``) waits for the GPU to finish everything queued before
it: one host-device synchronization per step would stall the training loop. So the loop tracker
keeps each step's loss tensor (detached: a view of its storage, no graph) in a :class:`LossBuffer`
and reads a whole batch at once:

- tensors on the CPU are read synchronously at the batch boundary (there is nothing to wait for:
  CPU operators have finished when they return), one ``torch.stack(...).tolist()`` per batch;
- tensors on an accelerator are stacked on their device and copied to the host with
  ``non_blocking=True`` behind a recorded event; the values are collected at a later batch
  boundary once the event has completed (``Event.query()`` never blocks), so the loop never waits.
  Only :meth:`LossBuffer.drain` with ``wait=True`` (``autotrack.flush()``, the end of the run, exit)
  blocks until the copies are done.

Nothing here imports torch at module level; the tracker passes the ``torch`` module in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: steps per host transfer (per optimizer); a batch is also read when it is older than MAX_AGE_S
BATCH = 64
MAX_AGE_S = 2.0

# One buffered step: (step, timestamp_ms, last loss tensor, sum of all backpropagated ones or None)
Entry = tuple[int, int, Any, Any]
Emit = Callable[[str, float, int, int], None]  # (key, value, timestamp_ms, step)


class LossBuffer:
    """Loss tensors of one optimizer in one run, turned into ``loss`` (and ``loss_total``) metrics."""

    __slots__ = ("torch", "entries", "in_flight", "started", "loss_key", "total_key")

    def __init__(self, torch: Any, loss_key: str, total_key: str) -> None:
        self.torch = torch
        self.entries: list[Entry] = []
        self.in_flight: list[tuple[list[Entry], Any, Any]] = []  # (entries, host tensor, event)
        self.started = 0.0  # monotonic time of the oldest entry not yet handed over
        self.loss_key = loss_key
        self.total_key = total_key

    def drain(self, emit: Emit, *, wait: bool) -> None:
        """Emit every value that is available; with ``wait`` also those still being copied."""
        entries, self.entries = self.entries, []
        if entries:
            self._hand_over(entries, emit)
        if self.in_flight:
            self._collect(emit, wait)

    # ------------------------------------------------------------------ internals
    def _hand_over(self, entries: list[Entry], emit: Emit) -> None:
        # One flat list per batch: every step's last loss, then the totals of the steps that had
        # several backward() calls (rare), so that one stack and one copy carry the whole batch.
        tensors = [e[2] for e in entries] + [e[3] for e in entries if e[3] is not None]
        device = getattr(tensors[0], "device", None)
        kind = getattr(device, "type", "cpu")
        if kind not in ("cpu", "meta"):
            try:
                stacked = self.torch.stack(tensors).reshape(-1)
                event = None
                if kind == "cuda":
                    host = stacked.to("cpu", non_blocking=True)
                    event = self.torch.cuda.Event()
                    event.record()
                else:  # other accelerators: a plain copy (their streams are not exposed uniformly)
                    host = stacked.to("cpu")
                self.in_flight.append((entries, host, event))
                return
            except Exception:  # noqa: BLE001 - mixed devices/shapes/dtypes: read one by one below
                pass
        self._emit_values(entries, self._values(tensors), emit)

    def _values(self, tensors: list[Any]) -> list[float | None]:
        try:
            with self.torch.no_grad():
                return self.torch.stack(tensors).reshape(-1).tolist()
        except Exception:  # noqa: BLE001 - different shapes ((), (1,)), dtypes or devices
            out: list[float | None] = []
            for tensor in tensors:
                try:
                    out.append(float(tensor.item()))
                except Exception:  # noqa: BLE001 - e.g. a meta tensor has no value
                    out.append(None)
            return out

    def _collect(self, emit: Emit, wait: bool) -> None:
        still: list[tuple[list[Entry], Any, Any]] = []
        for entries, host, event in self.in_flight:
            if event is not None and not event.query():
                if not wait:
                    still.append((entries, host, event))
                    continue
                event.synchronize()
            self._emit_values(entries, host.tolist(), emit)
        self.in_flight = still

    def _emit_values(self, entries: list[Entry], values: list[float | None], emit: Emit) -> None:
        totals = iter(values[len(entries):])
        for (step, timestamp, _last, total), value in zip(entries, values):
            if value is not None:
                emit(self.loss_key, value, timestamp, step)
            if total is not None:
                value = next(totals, None)
                if value is not None:
                    emit(self.total_key, value, timestamp, step)
