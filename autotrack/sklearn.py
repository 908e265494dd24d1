"""``autotrack.sklearn``: save, log and load scikit-learn models (``import autotrack.sklearn`` imports no scikit-learn).

Model functions come from :mod:`autotrack.integrations.sklearn.flavor`.
"""

from __future__ import annotations

from autotrack.integrations.sklearn.flavor import FLAVOR_NAME, load_model, log_model, save_model

# --- autologging: autotrack.sklearn.autolog is added here by the scikit-learn autologging issue ---

__all__ = ["FLAVOR_NAME", "save_model", "log_model", "load_model"]
