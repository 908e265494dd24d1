"""save_model / load_model round trips for every flavor, input examples, and the model folder's errors."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import xgboost as xgb
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import autotrack.models
import autotrack.pyfunc
import autotrack.sklearn
import autotrack.xgboost
from autotrack.exceptions import InvalidParameterError, ResourceExistsError
from autotrack.models import FORMAT_VERSION, MissingModelLibraryError, ModelFormatError, SchemaEnforcementError
from autotrack.models.signature import ModelSignature, infer_signature
from autotrack.types import ColSpec, DataType, Schema


@pytest.fixture(scope="module")
def iris():
    data = load_iris(as_frame=True)
    return data.data, data.target


@pytest.fixture(scope="module")
def clf(iris):
    X, y = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X, y)


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"])
def test_sklearn_round_trip(tmp_path, iris, clf, fmt):
    X, _ = iris
    info = autotrack.sklearn.save_model(clf, tmp_path / "m", serialization_format=fmt)
    assert info.model_uri == str((tmp_path / "m").resolve())
    loaded = autotrack.sklearn.load_model(tmp_path / "m")
    assert type(loaded) is type(clf)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    generic = autotrack.models.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(generic.predict(X), clf.predict(X))
    assert generic.signature is None
    meta = json.loads((tmp_path / "m" / "MLmodel").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["flavors"]["sklearn"]["serialization_format"] == fmt
    assert meta["flavors"]["python_function"]["loader_module"] == "autotrack.integrations.sklearn.flavor"
    assert meta["model_size_bytes"] > 0
    requirements = (tmp_path / "m" / "requirements.txt").read_text().split()
    import sklearn

    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert any(r.startswith("numpy==") for r in requirements) and any(r.startswith("autotrack==") for r in requirements)


def test_sklearn_signature_inferred_from_input_example(tmp_path, iris, clf):
    X, _ = iris
    example = X.head(5)
    info = autotrack.sklearn.save_model(clf, tmp_path / "m", input_example=example)
    expected = infer_signature(example, clf.predict(example))
    assert info.signature == expected
    model = autotrack.models.load_model(tmp_path / "m")
    assert model.signature == expected
    pd.testing.assert_frame_equal(model.input_example, example.reset_index(drop=True))
    # columns in any order are put back in the signature's order before predicting
    shuffled = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(model.predict(shuffled), clf.predict(X))
    with pytest.raises(SchemaEnforcementError, match=r"missing required column\(s\) \['petal width \(cm\)'\]"):
        model.predict(X.drop(columns=["petal width (cm)"]))


def test_sklearn_predict_proba_as_pyfunc_method(tmp_path, iris, clf):
    X, _ = iris
    autotrack.sklearn.save_model(clf, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    np.testing.assert_allclose(autotrack.models.load_model(tmp_path / "m").predict(X), clf.predict_proba(X))
    with pytest.raises(InvalidParameterError, match="pyfunc_predict_fn='predict_probas' is not supported; accepted: predict"):
        autotrack.sklearn.save_model(clf, tmp_path / "n", pyfunc_predict_fn="predict_probas")


def test_tutorial_manual_signature_is_enforced_after_loading(tmp_path):
    X = pd.DataFrame({"age": [25, 30, 35], "salary": [50000, 60000, 70000]})
    y = pd.Series([52000.0, 61000.0, 73000.0])
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    signature = ModelSignature(inputs=Schema([ColSpec(DataType.integer, "age"), ColSpec(DataType.double, "salary")]),
                               outputs=Schema([ColSpec(DataType.double, "predicted_salary")]))
    autotrack.sklearn.save_model(model, tmp_path / "m", signature=signature)
    loaded = autotrack.models.load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict(X[["salary", "age"]]), model.predict(X))
    with pytest.raises(SchemaEnforcementError, match="Input column 'age': expected integer, got string"):
        loaded.predict(pd.DataFrame({"age": ["old"], "salary": [1.0]}))


def test_xgboost_sklearn_api_round_trip_native_format(tmp_path, iris):
    X, y = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    autotrack.xgboost.save_model(model, tmp_path / "m", input_example=X.head(3))
    assert (tmp_path / "m" / "model.ubj").is_file() and not list((tmp_path / "m").glob("*.pkl"))
    loaded = autotrack.xgboost.load_model(tmp_path / "m")
    assert isinstance(loaded, xgb.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(autotrack.models.load_model(tmp_path / "m").predict(X), model.predict(X))


def test_xgboost_booster_round_trip_json(tmp_path, iris):
    X, y = iris
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=y), num_boost_round=4)
    autotrack.xgboost.save_model(booster, tmp_path / "b", model_format="json")
    json.loads((tmp_path / "b" / "model.json").read_text())  # the native JSON format
    loaded = autotrack.xgboost.load_model(tmp_path / "b")
    assert isinstance(loaded, xgb.Booster)
    np.testing.assert_allclose(loaded.predict(xgb.DMatrix(X)), booster.predict(xgb.DMatrix(X)))
    np.testing.assert_allclose(autotrack.models.load_model(tmp_path / "b").predict(X), booster.predict(xgb.DMatrix(X)))


def test_xgboost_rejects_other_objects(tmp_path):
    with pytest.raises(InvalidParameterError, match="xgb_model of type LogisticRegression is not supported"):
        autotrack.xgboost.save_model(LogisticRegression(), tmp_path / "m")


class Doubler(autotrack.pyfunc.PythonModel):
    def load_context(self, context):
        self.factor = 2

    def predict(self, context, model_input):
        return model_input["x"].to_numpy() * self.factor


class PlainModel:
    def predict(self, data):
        return np.asarray(data).sum(axis=1)


def test_pyfunc_python_model_round_trip_with_enforcement(tmp_path):
    example = pd.DataFrame({"x": [1.0, 2.0]})
    info = autotrack.pyfunc.save_model(Doubler(), tmp_path / "p", input_example=example)
    assert info.signature.outputs == Schema([autotrack.types.TensorSpec(np.float64, (-1,))])
    model = autotrack.pyfunc.load_model(tmp_path / "p")
    assert model.predict([{"x": 3.0}, {"x": 4}]).tolist() == [6.0, 8.0]
    assert isinstance(model.unwrap_python_model(), Doubler)
    with pytest.raises(SchemaEnforcementError, match="Input column 'x': expected double, got string"):
        model.predict({"x": "three"})


def test_pyfunc_plain_object_function_and_array_examples(tmp_path):
    example = np.arange(6, dtype=np.float64).reshape(3, 2)
    autotrack.pyfunc.save_model(PlainModel(), tmp_path / "plain", input_example=example)
    assert (tmp_path / "plain" / "input_example.npy").is_file()
    model = autotrack.models.load_model(tmp_path / "plain")
    np.testing.assert_array_equal(model.input_example, example)
    assert model.predict(example).tolist() == [1.0, 5.0, 9.0]
    with pytest.raises(SchemaEnforcementError, match=r"expected shape \(-1, 2\)"):
        model.predict(np.zeros((2, 3)))
    autotrack.pyfunc.save_model(lambda d: d["a"] + 1, tmp_path / "fn", input_example={"a": np.arange(3)})
    assert (tmp_path / "fn" / "input_example.npz").is_file()
    assert autotrack.models.load_model(tmp_path / "fn").predict({"a": np.arange(3)}).tolist() == [1, 2, 3]
    with pytest.raises(InvalidParameterError, match="python_model of type int has no predict method"):
        autotrack.pyfunc.save_model(3, tmp_path / "bad")


def test_sparse_input_example(tmp_path):
    X = scipy.sparse.random(20, 5, density=0.3, format="csr", random_state=0)
    y = np.arange(20) % 2
    model = LogisticRegression().fit(X, y)
    autotrack.sklearn.save_model(model, tmp_path / "m", input_example=X[:3])
    loaded = autotrack.models.load_model(tmp_path / "m")
    assert (loaded.input_example != X[:3]).nnz == 0
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_saving_into_non_empty_folder_needs_overwrite(tmp_path, clf):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("keep me")
    with pytest.raises(ResourceExistsError, match="already exists and is not empty; choose a new path or pass overwrite=True"):
        autotrack.sklearn.save_model(clf, tmp_path / "m")
    assert (tmp_path / "m" / "notes.txt").read_text() == "keep me"
    autotrack.sklearn.save_model(clf, tmp_path / "m", overwrite=True)
    assert not (tmp_path / "m" / "notes.txt").exists() and (tmp_path / "m" / "MLmodel").is_file()


def test_loading_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(ModelFormatError, match="is not a model folder: it has no MLmodel file"):
        autotrack.models.load_model(tmp_path / "plain")
    with pytest.raises(ModelFormatError, match="is not a model folder: it does not exist"):
        autotrack.sklearn.load_model(tmp_path / "nowhere")


def test_loading_a_newer_format_version(tmp_path, clf):
    autotrack.sklearn.save_model(clf, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "MLmodel").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "m" / "MLmodel").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match=f"uses model format version {FORMAT_VERSION + 1}.*reads versions up to "
                                               f"{FORMAT_VERSION}. Upgrade autotrack"):
        autotrack.models.load_model(tmp_path / "m")


def test_loading_with_the_wrong_flavor(tmp_path, clf):
    autotrack.sklearn.save_model(clf, tmp_path / "m")
    with pytest.raises(ModelFormatError, match="has no 'xgboost' flavor; it has: python_function, sklearn"):
        autotrack.xgboost.load_model(tmp_path / "m")


def test_flavor_library_not_installed_names_the_extra(tmp_path, iris, monkeypatch):
    X, y = iris
    autotrack.xgboost.save_model(xgb.XGBRegressor(n_estimators=2).fit(X, y), tmp_path / "m")
    monkeypatch.setitem(sys.modules, "xgboost", None)  # makes `import xgboost` fail as if absent
    with pytest.raises(MissingModelLibraryError, match=r"needs xgboost==.*not installed; install it with: "
                                                       r"pip install 'autotrack\[xgboost\]'"):
        autotrack.models.load_model(tmp_path / "m")
    with pytest.raises(MissingModelLibraryError, match=r"autotrack\[xgboost\]"):
        autotrack.xgboost.load_model(tmp_path / "m")


def test_bad_signature_argument(tmp_path, clf):
    with pytest.raises(InvalidParameterError, match="signature must be a ModelSignature or None; got dict"):
        autotrack.sklearn.save_model(clf, tmp_path / "m", signature={"inputs": []})
    assert not (tmp_path / "m").exists()


def test_example_not_matching_signature_warns(tmp_path, clf, iris):
    X, _ = iris
    signature = infer_signature(X)
    with pytest.warns(UserWarning, match="input example does not match the signature's inputs"):
        autotrack.sklearn.save_model(clf, tmp_path / "m", signature=signature, input_example=X.head(2).astype(str))


def test_failed_save_leaves_no_folder(tmp_path):
    model = LogisticRegression()
    model.unpicklable = lambda: None  # plain pickle cannot store a lambda
    with pytest.raises(Exception):
        autotrack.sklearn.save_model(model, tmp_path / "m", serialization_format="pickle")
    assert not (tmp_path / "m").exists()


def test_input_example_keeps_datetime_binary_and_string_columns(tmp_path):
    example = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-02-01"]), "raw": [b"\x00\x01", b"xy"],
                            "s": ["a", "b"], "f": np.array([1.5, 2.5], dtype=np.float32)})
    autotrack.pyfunc.save_model(lambda d: d["f"], tmp_path / "m", input_example=example)
    loaded = autotrack.models.load_model(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.input_example, example, check_dtype=False)
    assert loaded.input_example["f"].dtype == np.float32
    assert [s.type for s in loaded.signature.inputs] == [DataType.datetime, DataType.binary, DataType.string, DataType.float]


def test_failed_overwrite_keeps_the_old_model(tmp_path, clf, iris):
    X, _ = iris
    autotrack.sklearn.save_model(clf, tmp_path / "m")
    broken = LogisticRegression()
    broken.unpicklable = lambda: None
    with pytest.raises(Exception):
        autotrack.sklearn.save_model(broken, tmp_path / "m", serialization_format="pickle", overwrite=True)
    np.testing.assert_array_equal(autotrack.sklearn.load_model(tmp_path / "m").predict(X), clf.predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
