"""Zero-code bootstrap, run at interpreter start by the ``autotrack-autolog.pth`` line.

The ``.pth`` line itself only reads ``os.environ`` (``os`` is already imported by ``site``), so with
``AUTOTRACK_AUTOLOG`` unset every Python start-up pays one dict lookup. When it is set, this module
(stdlib only) arms the requested integrations: post-import hooks, no target library imported. It
never raises: an exception in a ``.pth`` line would print a traceback into every program.
"""

from __future__ import annotations

import os
import sys

_OFF = ("", "0", "false", "no", "off", "none")


def main() -> None:
    """Arm autologging as ``AUTOTRACK_AUTOLOG`` asks; report a bad value on stderr and carry on."""
    value = os.environ.get("AUTOTRACK_AUTOLOG", "")
    if value.strip().lower() in _OFF:
        return
    try:
        from autotrack.core.autolog import autolog_from_environment

        autolog_from_environment(value)
    except Exception as exc:  # noqa: BLE001 - start-up must go on whatever happens
        sys.stderr.write(f"autotrack: autologging not enabled: {exc}\n")
