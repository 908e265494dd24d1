"""The tracking store contract as tests: any store passes them unchanged.

A test module runs the suite for its backend by subclassing :class:`StoreContract` and providing a
``store_factory`` fixture: a callable returning a fresh, empty store (one whose only experiment is
the default ``"0"``). ``tests/test_store.py`` runs it for the SQL store on SQLite, PostgreSQL and
MariaDB; a REST store runs it against a server started on such a store.
"""

from __future__ import annotations

import math

import pytest

from autotrack.entities import Dataset, DatasetInput, InputTag, LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType
from autotrack.entities.errors import InvalidParameterError, InvalidStateError, ResourceExistsError, ResourceNotFoundError
from autotrack.stores.base import BatchLimits, PagedList, TrackingStore


def _run(store, experiment_id="0", **kw):
    return store.create_run(experiment_id, user_id="tester", start_time=kw.pop("start_time", 1000), tags=kw.pop("tags", []), run_name=kw.pop("run_name", None), **kw)


class StoreContract:
    """Tests of the meanings ``autotrack.stores.base.TrackingStore`` documents."""

    @pytest.fixture
    def store(self, store_factory) -> TrackingStore:
        return store_factory()

    # ------------------------------------------------------------------ the contract's data
    def test_is_a_tracking_store_with_uri_limits_and_close(self, store):
        assert isinstance(store, TrackingStore)
        assert isinstance(store.uri, str) and ":" in store.uri
        limits = store.batch_limits
        assert isinstance(limits, BatchLimits)
        for name in ("max_metrics_per_batch", "max_params_per_batch", "max_tags_per_batch", "max_request_bytes", "max_entities_per_batch"):
            assert isinstance(getattr(limits, name), int) and getattr(limits, name) > 0, name

    def test_a_batch_at_the_limits_is_written_whole(self, store):
        limits = store.batch_limits
        run_id = _run(store).info.run_id
        n_metrics = min(limits.max_metrics_per_batch, limits.max_entities_per_batch - limits.max_params_per_batch - limits.max_tags_per_batch)
        metrics = [Metric("m", float(i), 1, i) for i in range(n_metrics)]
        params = [Param(f"p{i}", "v") for i in range(limits.max_params_per_batch)]
        tags = [RunTag(f"t{i}", "v") for i in range(limits.max_tags_per_batch)]
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        run = store.get_run(run_id)
        assert len(run.data.params) == limits.max_params_per_batch
        assert sum(1 for k in run.data.tags if k.startswith("t")) == limits.max_tags_per_batch
        assert len(store.get_metric_history(run_id, "m")) == n_metrics

    # ------------------------------------------------------------------ experiments
    def test_default_experiment_exists(self, store):
        exp = store.get_experiment("0")
        assert (exp.experiment_id, exp.name, exp.lifecycle_stage) == ("0", "Default", "active")

    def test_create_get_rename_delete_restore_experiment(self, store):
        eid = store.create_experiment("exp-a", tags={"team": "ml"})
        assert isinstance(eid, str) and eid != "0"
        exp = store.get_experiment(eid)
        assert exp.name == "exp-a" and exp.tags == {"team": "ml"}
        assert store.get_experiment_by_name("exp-a").experiment_id == eid
        assert store.get_experiment_by_name("nope") is None
        with pytest.raises(ResourceExistsError, match="exp-a"):
            store.create_experiment("exp-a")
        store.rename_experiment(eid, "exp-b")
        assert store.get_experiment(eid).name == "exp-b"
        store.set_experiment_tag(eid, "team", "research")
        assert store.get_experiment(eid).tags == {"team": "research"}
        store.delete_experiment(eid)
        assert store.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
        assert eid not in [e.experiment_id for e in store.search_experiments()]
        assert eid in [e.experiment_id for e in store.search_experiments(view_type=ViewType.DELETED_ONLY)]
        store.restore_experiment(eid)
        assert store.get_experiment(eid).lifecycle_stage == LifecycleStage.ACTIVE
        assert [e.name for e in store.search_experiments(filter_string="name = 'exp-b'")] == ["exp-b"]
        assert [e.name for e in store.search_experiments(filter_string="name LIKE 'exp%'")] == ["exp-b"]

    def test_search_experiments_pages(self, store):
        for i in range(3):
            store.create_experiment(f"paged-{i}")
        names, token, pages = [], None, 0
        while True:
            page = store.search_experiments(max_results=2, page_token=token)
            assert isinstance(page, PagedList) and len(page) <= 2
            names += [e.name for e in page]
            pages += 1
            token = page.token
            if not token:
                break
        assert sorted(names) == ["Default", "paged-0", "paged-1", "paged-2"] and pages >= 2

    def test_bad_experiment_ids_and_names(self, store):
        with pytest.raises(ResourceNotFoundError, match="'12345'"):
            store.get_experiment("12345")
        with pytest.raises(InvalidParameterError, match="experiment_id 'abc'"):
            store.get_experiment("abc")
        with pytest.raises(InvalidParameterError, match="experiment name"):
            store.create_experiment("")
        with pytest.raises(InvalidParameterError, match="default experiment"):
            store.delete_experiment("0")

    # ------------------------------------------------------------------ runs
    def test_run_lifecycle(self, store):
        run = _run(store, run_name="first", tags=[RunTag("k", "v")])
        assert len(run.info.run_id) == 32 and run.info.status == RunStatus.RUNNING
        got = store.get_run(run.info.run_id)
        assert got.info.run_name == "first" and got.data.tags == {"k": "v", "mlflow.runName": "first"}
        assert got.info.artifact_uri.endswith(f"/{run.info.run_id}/artifacts")
        store.update_run_info(run.info.run_id, status=RunStatus.FINISHED, end_time=2000)
        info = store.get_run(run.info.run_id).info
        assert (info.status, info.end_time) == ("FINISHED", 2000)
        store.delete_run(run.info.run_id)
        assert store.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
        store.restore_run(run.info.run_id)
        assert store.get_run(run.info.run_id).info.lifecycle_stage == "active"
        with pytest.raises(InvalidParameterError, match="status 'DONE'"):
            store.update_run_info(run.info.run_id, status="DONE")

    def test_client_chosen_run_id_and_retried_creation(self, store):
        run_id = "ab" * 16
        run = _run(store, run_id=run_id, run_name="mine")
        assert run.info.run_id == run_id and store.get_run(run_id).info.run_name == "mine"
        again = _run(store, run_id=run_id, run_name="mine")  # a retried creation returns the run
        assert again.info.run_id == run_id
        other = store.create_experiment("other")
        with pytest.raises(ResourceExistsError, match=run_id):
            _run(store, other, run_id=run_id)
        with pytest.raises(InvalidParameterError, match="run_id 'XYZ'"):
            _run(store, run_id="XYZ")

    def test_generated_run_name(self, store):
        run = _run(store)
        assert run.info.run_name and store.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name

    # ------------------------------------------------------------------ data
    def test_log_batch_reads_back(self, store):
        run_id = _run(store).info.run_id
        metrics = [Metric("loss", 1.0 / (s + 1), 100 + s, s) for s in range(10)]
        metrics += [Metric("nan", math.nan, 1, 0), Metric("pinf", math.inf, 1, 0), Metric("ninf", -math.inf, 1, 0)]
        store.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1"), Param("name", "ünïcødé ✓")], tags=[RunTag("t", "1")])
        run = store.get_run(run_id)
        assert run.data.params == {"lr": "0.1", "name": "ünïcødé ✓"}
        assert run.data.tags["t"] == "1"
        assert run.data.metrics["loss"] == pytest.approx(0.1)
        assert math.isnan(run.data.metrics["nan"])
        assert run.data.metrics["pinf"] == math.inf and run.data.metrics["ninf"] == -math.inf
        history = store.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(10))
        assert history == metrics[:10]
        assert store.get_metric_history(run_id, "nan") == [metrics[10]]

    def test_latest_metric_is_highest_step_then_time(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, metrics=[Metric("m", 5.0, 10, 3)])
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 99, 2)])  # older step, newer time: not latest
        assert store.get_run(run_id).data.metrics["m"] == 5.0
        store.log_batch(run_id, metrics=[Metric("m", 7.0, 11, 3)])  # same step, newer time
        assert store.get_run(run_id).data.metrics["m"] == 7.0
        assert len(store.get_metric_history(run_id, "m")) == 3

    def test_params_are_write_once(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, params=[Param("depth", "5")])
        store.log_batch(run_id, params=[Param("depth", "5")])  # same value: fine
        with pytest.raises(InvalidParameterError) as err:
            store.log_batch(run_id, params=[Param("depth", "10")])
        assert run_id in str(err.value) and "'depth'" in str(err.value) and "'5'" in str(err.value) and "'10'" in str(err.value)
        assert store.get_run(run_id).data.params == {"depth": "5"}

    def test_failed_batch_writes_nothing(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, params=[Param("p", "a")])
        with pytest.raises(InvalidParameterError):
            store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "b")])
        assert store.get_metric_history(run_id, "m") == []

    def test_tags_overwrite_and_delete(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, tags=[RunTag("a", "1"), RunTag("b", "2")])
        store.log_batch(run_id, tags=[RunTag("a", "3")])
        assert {k: v for k, v in store.get_run(run_id).data.tags.items() if k in "ab"} == {"a": "3", "b": "2"}
        store.delete_tag(run_id, "a")
        assert "a" not in store.get_run(run_id).data.tags
        with pytest.raises(ResourceNotFoundError, match="'a'"):
            store.delete_tag(run_id, "a")

    def test_logging_to_deleted_or_unknown_run(self, store):
        # (logging to a finished run is refused by the client, see test_fluent; the store accepts late
        # records of a finished run so that a drained buffer or a replayed spool loses nothing)
        run_id = _run(store).info.run_id
        store.delete_run(run_id)
        with pytest.raises(InvalidStateError, match="deleted"):
            store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
        with pytest.raises(ResourceNotFoundError, match="0" * 32):
            store.log_batch("0" * 32, metrics=[Metric("m", 1.0, 1, 0)])
        with pytest.raises(InvalidParameterError, match="run_id 'nope'"):
            store.get_run("nope")

    def test_long_values_within_limits(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, params=[Param("long", "p" * 6000)], tags=[RunTag("long", "t" * 8000)])
        run = store.get_run(run_id)
        assert run.data.params["long"] == "p" * 6000 and run.data.tags["long"] == "t" * 8000

    def test_keys_are_case_sensitive(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0), Metric("ACC", 2.0, 1, 0)], params=[Param("lr", "a"), Param("LR", "b")])
        data = store.get_run(run_id).data
        assert data.metrics == {"acc": 1.0, "ACC": 2.0} and data.params == {"lr": "a", "LR": "b"}

    # ------------------------------------------------------------------ datasets
    def test_log_inputs_reads_back_once_per_dataset(self, store):
        run_id = _run(store).info.run_id
        train = Dataset("train", "d1g3st", "local", '{"uri": "/data/train.csv"}', '{"mlflow_colspec": []}', '{"num_rows": 10}')
        evals = Dataset("eval", "e1", "code", "{}")
        store.log_inputs(run_id, [DatasetInput(train, (InputTag("mlflow.data.context", "training"),)), DatasetInput(evals)])
        store.log_inputs(run_id, [DatasetInput(train, (InputTag("mlflow.data.context", "training"),))])  # again: stored once
        inputs = store.get_run(run_id).inputs.dataset_inputs
        assert sorted(i.dataset.name for i in inputs) == ["eval", "train"]
        got = next(i for i in inputs if i.dataset.name == "train")
        assert got.dataset == train and got.tags == (InputTag("mlflow.data.context", "training"),)
        with pytest.raises(ResourceNotFoundError):
            store.log_inputs("0" * 32, [DatasetInput(evals)])

    # ------------------------------------------------------------------ reads
    def test_metric_history_pages(self, store):
        run_id = _run(store).info.run_id
        store.log_batch(run_id, metrics=[Metric("m", float(s), 10 + s, s) for s in range(25)])
        pages, token = [], None
        while True:
            page = store.get_metric_history(run_id, "m", max_results=10, page_token=token)
            assert isinstance(page, PagedList) and len(page) <= 10
            pages.append(page)
            token = page.token
            if not token:
                break
        assert [len(p) for p in pages] == [10, 10, 5]
        assert [m.step for p in pages for m in p] == list(range(25))
        with pytest.raises(ResourceNotFoundError):
            store.get_metric_history("0" * 32, "m")
        with pytest.raises(InvalidParameterError, match="max_results"):
            store.get_metric_history(run_id, "m", max_results=0)

    def test_bulk_history_samples_evenly_keeping_ends(self, store):
        a, b = _run(store).info.run_id, _run(store).info.run_id
        store.log_batch(a, metrics=[Metric("loss", float(s), 1, s) for s in range(1000)])
        store.log_batch(b, metrics=[Metric("loss", float(s), 1, s) for s in range(5)])
        full = store.get_metric_history_bulk([a, b], "loss")
        assert [m.step for m in full[a]] == list(range(1000)) and [m.step for m in full[b]] == list(range(5))
        sampled = store.get_metric_history_bulk([a, b], "loss", max_results=50)
        steps = [m.step for m in sampled[a]]
        assert len(steps) <= 50 and steps[0] == 0 and steps[-1] == 999 and steps == sorted(steps)
        gaps = [y - x for x, y in zip(steps, steps[1:-1])]
        assert max(gaps) - min(gaps) <= 1  # evenly spread
        assert [m.step for m in sampled[b]] == list(range(5))  # short histories stay whole
        window = store.get_metric_history_bulk([a], "loss", start_step=100, end_step=199)
        assert [m.step for m in window[a]] == list(range(100, 200))
        assert store.get_metric_history_bulk([a], "missing") == {a: []}

    def test_search_runs_filter_and_order(self, store):
        eid = store.create_experiment("search")
        ids = []
        for i, acc in enumerate([0.7, 0.9, 0.8]):
            run_id = _run(store, eid, start_time=1000 + i).info.run_id
            store.log_batch(run_id, metrics=[Metric("acc", acc, 1, 0)], params=[Param("depth", str(5 * (i + 1)))])
            ids.append(run_id)
        runs = store.search_runs([eid], "metrics.acc > 0.75", order_by=["metrics.acc DESC"])
        assert [r.info.run_id for r in runs] == [ids[1], ids[2]]
        runs = store.search_runs([eid], "params.depth = '5'")
        assert [r.info.run_id for r in runs] == [ids[0]]
        page = store.search_runs([eid], "", max_results=2)
        assert [r.info.run_id for r in page] == [ids[2], ids[1]] and page.token
        rest = store.search_runs([eid], "", max_results=2, page_token=page.token)
        assert [r.info.run_id for r in rest] == [ids[0]] and rest.token is None
