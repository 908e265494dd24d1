"""The integration kit: what every autologging integration needs, one job per module.

Integrations (``autotrack/integrations/<library>/`` and third parties) reach tracking only through
this kit, the engine (:mod:`autotrack.core`) and the tracking client -- never a store or an
artifact repository class. The contract, the rules and a worked example are in
``docs/writing-an-integration.md``.

==================  ======================================================================
module              job
==================  ======================================================================
:mod:`.runs`        the tag policy; start-or-join, child runs, incremental runs that outlive a call
:mod:`.params`      flatten, to text, fit the store's limits; one bad param never drops the others
:mod:`.metrics`     scalar coercion (numpy, 0-d/1-item arrays, tensors when asked); a dict at one step
:mod:`.datasets`    description and digest, ``mlflow.datasets`` tag, MLflow's log-inputs shape
:mod:`.models`      log a model by run id: flavor writer, signature, input example, background upload
:mod:`.calls`       argument lookup by name/position on the original signature; caller's variable name
:mod:`.artifacts`   bytes/text/JSON/files through the tracking client, the background writer
:mod:`.callbacks`   add a callback to the user's list without mutating it; make it unable to raise
==================  ======================================================================

Importing the kit imports no ML library, no numpy and no SQLAlchemy (each function imports what
it needs when called).
"""

from autotrack.integrations.kit import artifacts, callbacks, calls, datasets, metrics, models, params, runs

__all__ = ["artifacts", "callbacks", "calls", "datasets", "metrics", "models", "params", "runs"]
