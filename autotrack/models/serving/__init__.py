"""The scoring server: any autotrack model (and MLflow scikit-learn/XGBoost models) behind MLflow's protocol.

``autotrack models serve -m URI`` runs it; :func:`autotrack.models.serving.app.create_app` builds the
Starlette app for a loaded model. The modules here import Starlette, numpy and pandas, so nothing
imports this package until a model is served (``import autotrack`` stays light).

- :mod:`.protocol`: request bodies (MLflow's JSON formats and CSV) to model input, predictions to JSON;
- :mod:`.fastpath`: single-row requests straight to the model's input, skipping pandas where it can;
- :mod:`.app`: the endpoints, body limits, error answers;
- :mod:`.server`: uvicorn, one model per worker process.
"""
