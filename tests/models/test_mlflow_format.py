"""Model folders in MLflow's layout (YAML ``MLmodel``): what is read, what is refused and how.

Folders written by the real mlflow package are served in ``test_serving.py``; these tests write the
YAML by hand to pin the translation and the errors.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import autotrack.models
import autotrack.sklearn
from autotrack.models import ModelFormatError, SchemaEnforcementError

MLMODEL = """\
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict_proba
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: 1.0.0
mlflow_version: 3.17.2
model_uuid: 5e351ab80ca14df3b0f5f5bafed8edda
utc_time_created: '2026-12-01 23:30:45.546798'
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "double", "name": "sepal width (cm)", "required": true}, {"type": "double", "name": "petal length (cm)", "required": true}, {"type": "double", "name": "petal width (cm)", "required": true}]'
  outputs: null
  params: null
"""


def test_mlflow_sklearn_folder_loads_with_its_predict_fn_and_signature(tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = LogisticRegression(max_iter=300).fit(X, y)
    (tmp_path / "MLmodel").write_text(MLMODEL)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    with pytest.warns(UserWarning, match="saved with sklearn 1.0.0"):
        model = autotrack.models.load_model(tmp_path)
    assert model.metadata.autotrack_version == "(MLflow 3.17.2)"
    assert model.metadata.flavors["python_function"]["loader_module"] == "autotrack.integrations.sklearn.flavor"
    np.testing.assert_allclose(model.predict(X.iloc[:5]), clf.predict_proba(X.iloc[:5]))  # predict_fn kept
    with pytest.raises(SchemaEnforcementError, match="expected double, got string"):
        model.predict(X.iloc[:1].astype(str))
    assert type(autotrack.sklearn.load_model(tmp_path)) is LogisticRegression


def test_unreadable_mlflow_flavor_is_refused_naming_the_readable_ones(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors:\n  python_function: {loader_module: mlflow.pytorch}\n"
                                      "  pytorch: {pytorch_version: 2.1.0}\nmlflow_version: 2.9.0\n")
    with pytest.raises(ModelFormatError, match="has flavors python_function, pytorch; autotrack reads MLflow models "
                                               "of the flavors sklearn, xgboost"):
        autotrack.models.load_model(tmp_path)


def test_damaged_metadata_files(tmp_path):
    (tmp_path / "MLmodel").write_text('{"format_version": 1,')
    with pytest.raises(ModelFormatError, match="is not valid JSON"):
        autotrack.models.load_model(tmp_path)
    (tmp_path / "MLmodel").write_text("flavors: [unclosed\n")
    with pytest.raises(ModelFormatError, match="neither JSON nor valid YAML"):
        autotrack.models.load_model(tmp_path)
    (tmp_path / "MLmodel").write_text("just: yaml\n")
    with pytest.raises(ModelFormatError, match="neither autotrack's JSON nor an MLflow model's YAML"):
        autotrack.models.load_model(tmp_path)
