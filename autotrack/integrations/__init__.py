"""Per-library integrations (sklearn, xgboost, ...). Modules here never import their library at import time."""
