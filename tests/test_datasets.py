"""Datasets as first-class records: autotrack.data.from_pandas / from_numpy, log_input with a context,
the run's inputs read back, and datasets.name / datasets.digest / datasets.context filters on every backend."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import autotrack
import autotrack.data
from autotrack.entities.errors import InvalidParameterError
from autotrack.entities.search import DATASET, Comparison, parse_filter, parse_order_by


def test_from_pandas_describes_the_frame():
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan], "label": [0, 1, 0]})
    dataset = autotrack.data.from_pandas(df, source="data/train.csv", targets="label", name="train")
    assert (dataset.name, dataset.targets, dataset.source) == ("train", "label", "data/train.csv")
    assert len(dataset.digest) == 8 and int(dataset.digest, 16) >= 0
    assert dataset.digest == autotrack.data.from_pandas(df.copy()).digest  # same data, same digest
    assert dataset.digest != autotrack.data.from_pandas(df.assign(x=[1.0, 2.0, 3.0])).digest
    assert dataset.profile == {"num_rows": 3, "num_elements": 6}
    assert dataset.schema == {"mlflow_colspec": [
        {"type": "double", "name": "x", "required": False}, {"type": "long", "name": "label", "required": True}]}
    record = dataset.to_dict()
    assert record["source_type"] == "local" and json.loads(record["source"]) == {"uri": "data/train.csv"}
    with pytest.raises(InvalidParameterError, match="targets='y' is not a column"):
        autotrack.data.from_pandas(df, targets="y")
    with pytest.raises(InvalidParameterError, match="needs a pandas DataFrame"):
        autotrack.data.from_pandas(np.zeros(3))


def test_from_numpy_describes_features_and_targets():
    features, targets = np.zeros((4, 3), dtype=np.float32), np.array([0, 1, 1, 0])
    dataset = autotrack.data.from_numpy(features, targets=targets, source="s3://bucket/x.npy")
    assert dataset.name == "dataset" and dataset.to_dict()["source_type"] == "s3"
    assert dataset.profile == {"features_shape": [4, 3], "features_size": 12, "features_nbytes": 48,
                               "targets_shape": [4], "targets_size": 4, "targets_nbytes": 32}
    assert json.loads(dataset.schema["mlflow_tensorspec"]["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]
    assert dataset.to_dict()["source_type"] == "s3"
    with pytest.raises(InvalidParameterError, match="features must be a numpy array"):
        autotrack.data.from_numpy([1, 2, 3])


def test_dataset_filters_parse():
    assert parse_filter("datasets.name = 'train'") == [Comparison(DATASET, "name", "=", "train")]
    assert parse_filter("`datasets`.digest IN ('a', 'b')") == [Comparison(DATASET, "digest", "IN", ("a", "b"))]
    assert parse_filter("dataset.context LIKE 'ev%'") == [Comparison(DATASET, "context", "LIKE", "ev%")]
    with pytest.raises(InvalidParameterError, match="unknown dataset field 'size'; accepted: name, digest, context"):
        parse_filter("datasets.size = '3'")
    with pytest.raises(InvalidParameterError, match="invalid comparator '>'"):
        parse_filter("datasets.name > 'a'")
    with pytest.raises(InvalidParameterError, match="cannot be sorted by datasets"):
        parse_order_by(["datasets.name"])


def _log(name: str, inputs: list[tuple]) -> str:
    with autotrack.start_run(run_name=name) as run:
        for dataset, context in inputs:
            autotrack.log_input(dataset, context=context)
    return run.info.run_id


def test_log_input_and_search_by_dataset(store_uri):
    train = autotrack.data.from_pandas(pd.DataFrame({"a": [1, 2, 3]}), name="train")
    holdout = autotrack.data.from_numpy(np.arange(6.0).reshape(3, 2), name="holdout")
    both = _log("both", [(train, "training"), (holdout, "eval")])
    only_train = _log("only-train", [(train, "training")])
    neither = _log("neither", [])

    run = autotrack.get_run(both)
    found = sorted((i.dataset.name, i.dataset.digest, {t.key: t.value for t in i.tags}["mlflow.data.context"])
                   for i in run.inputs.dataset_inputs)
    assert found == [("holdout", holdout.digest, "eval"), ("train", train.digest, "training")]

    def ids(text):
        return {r.info.run_name for r in autotrack.search_runs(filter_string=text, output_format="list")}

    assert ids("datasets.name = 'train'") == {"both", "only-train"}
    assert ids(f"datasets.digest = '{holdout.digest}'") == {"both"}
    assert ids("datasets.context = 'eval'") == {"both"}
    assert ids("datasets.context IN ('training', 'eval') AND datasets.name = 'holdout'") == {"both"}
    assert ids("datasets.name LIKE 'tr%' AND status = 'FINISHED'") == {"both", "only-train"}
    assert ids("datasets.name ILIKE 'TRAIN'") == {"both", "only-train"}
    assert ids("datasets.name = 'nope'") == set()
    assert neither not in {r.info.run_id for r in autotrack.search_runs(filter_string="datasets.name != 'x'", output_format="list")}


def test_a_dataset_logged_twice_is_one_record_and_the_client_takes_records():
    train = autotrack.data.from_pandas(pd.DataFrame({"a": [1]}), name="train")
    with autotrack.start_run() as run:
        autotrack.log_input(train, context="training")
        autotrack.log_input(train, context="training")
        autotrack.log_inputs([autotrack.data.from_pandas(pd.DataFrame({"b": [2]}), name="extra")], contexts=["eval"])
    names = sorted(i.dataset.name for i in autotrack.MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs)
    assert names == ["extra", "train"]
    with pytest.raises(InvalidParameterError, match="Invalid dataset"):
        autotrack.MlflowClient().log_inputs(run.info.run_id, ["not a dataset"])
