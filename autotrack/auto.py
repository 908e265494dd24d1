"""``import autotrack.auto`` turns autologging on, exactly as ``AUTOTRACK_AUTOLOG=1`` does.

``AUTOTRACK_AUTOLOG`` narrows it when set to a list of integrations (``sklearn,xgboost``);
``AUTOTRACK_DISABLED_INTEGRATIONS`` is honoured. Unlike the start-up hook, a bad value raises here.
"""

from __future__ import annotations

import os

from autotrack.core.autolog import autolog_from_environment
from autotrack.core.environment import parse_autolog_value

_value = os.environ.get("AUTOTRACK_AUTOLOG", "").strip()
# Importing this module is the request to autolog: an unset or "off" variable means "everything".
autolog_from_environment(_value if parse_autolog_value(_value) else "1")
