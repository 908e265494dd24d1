"""Which process of a distributed job this is: only global rank 0 records anything.

``torch.distributed`` when a process group is initialised, else the launcher's environment
(``RANK``, then ``LOCAL_RANK`` with ``NODE_RANK``/``GROUP_RANK``): ``torchrun`` and Lightning set these
before the user's code runs. No collective operation is ever issued, so other ranks never wait on
rank 0 (or on autotrack) for anything.
"""

from __future__ import annotations

import os
import sys


def global_rank() -> int:
    """This process's global rank (0 outside distributed jobs)."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None:
        try:
            if dist.is_available() and dist.is_initialized():
                return int(dist.get_rank())
        except Exception:  # noqa: BLE001 - a half-initialised group: fall back to the environment
            pass
    for name in ("RANK", "SLURM_PROCID"):
        value = os.environ.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                pass
    local = os.environ.get("LOCAL_RANK")
    node = os.environ.get("NODE_RANK") or os.environ.get("GROUP_RANK") or "0"
    if local not in (None, ""):
        try:
            return int(local) + int(node)  # 0 exactly when both are 0, which is all that matters here
        except ValueError:
            pass
    return 0


def is_rank_zero() -> bool:
    """Whether this process may create runs and log."""
    return global_rank() == 0
