"""The tag policy of the runs autotrack creates while autologging, in one place.

Every run an integration creates (the run of an autologged call, a child run, an incremental run
that outlives one call) carries, later entries winning:

1. ``mlflow.user``, ``mlflow.source.name``, ``mlflow.source.type`` (:func:`fluent.default_run_tags`);
2. ``autotrack.autologging=<integration>``;
3. the integration's own tags for that run (``tags``);
4. the user's ``extra_tags`` autolog option;
5. for a child run, ``mlflow.parentRunId`` and ``autotrack.parentRunId`` (never overridden).

The engine (``autotrack.core``) and the integration kit (``autotrack.integrations.kit.runs``) both
build tags here, so MLflow tools read every autologged run the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autotrack.entities import tags as tag_names

AUTOLOG_TAG = tag_names.AUTOLOGGING
PARENT_TAGS = (tag_names.PARENT_RUN_ID, tag_names.AUTOTRACK_PARENT_RUN_ID)


def autolog_run_tags(integration: str, extra_tags: Mapping[str, Any] | None = None, *,
                     parent_run_id: str | None = None, tags: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The tags of a new run created by ``integration`` (see the module docstring for the order)."""
    from autotrack.tracking.fluent import default_run_tags

    result = default_run_tags()
    result[AUTOLOG_TAG] = integration
    if tags:
        result.update({k: str(v) for k, v in tags.items()})
    if extra_tags:
        result.update({k: str(v) for k, v in extra_tags.items()})
    if parent_run_id:
        for key in PARENT_TAGS:
            result[key] = parent_run_id
    return result
