"""Builds the models the serving tests serve, in a subprocess: ``python serving_models.py autotrack|mlflow OUT``.

``autotrack``: an iris random forest logged to a run (store from AUTOTRACK_TRACKING_URI), a python model
with columns of every scalar type that fails on purpose for ``name == "boom"``, and a tensor model.
``mlflow``: models written by the real mlflow package (a logged skops LogisticRegression, its default
format, and a saved XGBoost classifier). Prints one JSON object describing what it made.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris


class Mixed:
    """Prediction: x * 2 + n + i (+ 100 when flag), 32-bit f echoed; fails when a name is 'boom'."""

    def predict(self, data):
        if (data["name"] == "boom").any():
            raise ValueError("the model refuses the name 'boom'")
        return (data["x"] * 2 + data["n"] + data["i"] + data["flag"] * 100 + data["f"].astype("float64")).to_numpy()


class TensorSum:
    def predict(self, data):
        return data.sum(axis=1)


def build_autotrack(out: Path) -> dict:
    import autotrack
    import autotrack.pyfunc
    import autotrack.sklearn
    from autotrack.models import ModelSignature
    from autotrack.types import ColSpec, Schema, TensorSpec
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    with autotrack.start_run() as run:
        autotrack.sklearn.log_model(model, "model", input_example=X.iloc[:3])
    mixed_sig = ModelSignature(Schema([
        ColSpec("double", "x"), ColSpec("long", "n"), ColSpec("integer", "i"), ColSpec("boolean", "flag"),
        ColSpec("string", "name"), ColSpec("float", "f")]), Schema([ColSpec("double")]))
    example = pd.DataFrame({"x": [1.5], "n": [2], "i": np.array([3], dtype="int32"), "flag": [True],
                            "name": ["a"], "f": np.array([0.5], dtype="float32")})
    autotrack.pyfunc.save_model(Mixed(), out / "mixed", signature=mixed_sig, input_example=example)
    tensor_sig = ModelSignature(Schema([TensorSpec("float32", (-1, 3))]), Schema([TensorSpec("float32", (-1,))]))
    autotrack.pyfunc.save_model(TensorSum(), out / "tensor", signature=tensor_sig,
                                input_example=np.ones((2, 3), dtype="float32"))
    autotrack.flush()
    return {"run_id": run.info.run_id, "mixed": str(out / "mixed"), "tensor": str(out / "tensor")}


def build_mlflow(out: Path) -> dict:
    import mlflow
    import mlflow.sklearn
    import mlflow.xgboost
    import xgboost
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    warnings.simplefilter("ignore")
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    mlflow.set_experiment("serving-test")
    clf = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model", input_example=X.iloc[:2],
                                        signature=infer_signature(X, clf.predict(X)))
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(out / "mlflow-sklearn"))
    xgb = xgboost.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)
    mlflow.xgboost.save_model(xgb, str(out / "mlflow-xgboost"), signature=infer_signature(X, xgb.predict(X)))
    return {"sklearn": local, "xgboost": str(out / "mlflow-xgboost"), "mlflow_version": mlflow.__version__}


if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    print(json.dumps(build_autotrack(folder) if kind == "autotrack" else build_mlflow(folder)))
