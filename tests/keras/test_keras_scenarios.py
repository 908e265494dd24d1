"""Keras autologging scenarios that each need their own fit: entry points, runs, data types,
checkpoint resume, callback lists, fault injection. Tiny models, one or two epochs each."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autotrack
from autotrack.core.safety import AutotrackWarning
from keras_helpers import make_model


def only_run(client):
    runs = client.search_runs(["0"])
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0]


def values(client, run_id, key):
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


# ---------------------------------------------------------------- entry points
def test_tf_keras_entry_point_logs_epochs(data, client):
    import tensorflow as tf

    import autotrack.tensorflow

    X, y, Xv, yv = data
    autotrack.tensorflow.autolog(log_models=False)
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0)
    run = only_run(client)
    assert run.data.tags["autotrack.autologging"] == "keras"
    assert run.data.params["optimizer_name"] == "SGD" and run.data.params["loss"] == "sparse_categorical_crossentropy"
    for key, logged in history.history.items():
        assert values(client, run.info.run_id, key) == list(enumerate(logged))


@pytest.mark.parametrize("value", ["tensorflow", "keras", "1"])
def test_autolog_from_environment_value_arms_keras(value, data, client):
    from autotrack.core.autolog import autolog_from_environment

    X, y, _, _ = data
    assert "keras" in autolog_from_environment(value)
    model = make_model()
    history = model.fit(X, y, epochs=1, verbose=0)
    run = only_run(client)
    assert run.data.metrics["loss"] == history.history["loss"][0]


def test_autotrack_autolog_arms_keras(data, client):
    X, y, _, _ = data
    autotrack.autolog(log_models=False)
    make_model().fit(X, y, epochs=1, verbose=0)
    assert only_run(client).data.params["epochs"] == "1"


def test_import_of_the_facades_imports_no_keras():
    code = ("import sys, autotrack.keras, autotrack.tensorflow; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_options_are_validated_up_front():
    import autotrack.keras

    with pytest.raises(ValueError, match="log_every_n_steps=0"):
        autotrack.keras.autolog(log_every_n_steps=0)
    with pytest.raises(ValueError, match="checkpoint_mode='best'.*accepted: 'min', 'max'"):
        autotrack.keras.autolog(checkpoint_mode="best")
    with pytest.raises(ValueError, match="checkpoint_save_freq='batch'"):
        autotrack.keras.autolog(checkpoint_save_freq="batch")
    with pytest.raises(TypeError, match="checkpoint=1 must be True or False"):
        autotrack.keras.autolog(checkpoint=1)
    with pytest.raises(TypeError, match="unknown option 'log_every_steps'"):
        autotrack.keras.autolog(log_every_steps=3)


# ---------------------------------------------------------------- runs
def test_fit_inside_a_user_run_logs_into_it_and_leaves_it_open(data, client):
    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    with autotrack.start_run() as run:
        make_model().fit(X, y, epochs=1, verbose=0)
        assert autotrack.active_run().info.run_id == run.info.run_id
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
    got = only_run(client)
    assert got.info.run_id == run.info.run_id and "loss" in got.data.metrics and got.data.params["epochs"] == "1"


def test_exclusive_leaves_a_user_run_alone(data, client):
    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(exclusive=True, log_models=False)
    with autotrack.start_run() as run:
        make_model().fit(X, y, epochs=1, verbose=0)
    assert client.get_run(run.info.run_id).data.metrics == {}


def test_a_subclass_fit_calling_super_logs_once(data, client):
    import keras

    import autotrack.keras

    class Wrapped(keras.Sequential):
        def fit(self, *args, **kwargs):
            kwargs["epochs"] = 2
            return super().fit(*args, **kwargs)

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    model = Wrapped([keras.Input((8,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    run = only_run(client)  # keras.Model.fit is the patched call: the arguments it received are the params
    assert run.data.params["epochs"] == "2"
    assert [s for s, _ in values(client, run.info.run_id, "loss")] == [0, 1]


def test_a_fit_inside_an_autologged_fit_does_not_log(data, client):
    import keras

    import autotrack.keras

    X, y, _, _ = data
    inner = make_model(seed=3)

    class TrainsAnother(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            inner.fit(X, y, epochs=3, verbose=0)

    autotrack.keras.autolog(log_models=False)
    make_model().fit(X, y, epochs=1, verbose=0, callbacks=[TrainsAnother()])
    run = only_run(client)
    assert [s for s, _ in values(client, run.info.run_id, "loss")] == [0]
    assert run.data.params["epochs"] == "1"


def test_evaluate_of_a_model_not_trained_under_autologging_logs_nothing(data, client):
    import autotrack.keras

    X, y, _, _ = data
    model = make_model()
    model.fit(X, y, epochs=1, verbose=0)
    autotrack.keras.autolog()
    model.evaluate(X, y, verbose=0)
    assert client.search_runs(["0"]) == []


# ---------------------------------------------------------------- data types
def test_tf_data_dataset_batch_size_and_input_example(data, client):
    import tensorflow as tf

    import autotrack.keras
    from autotrack.models import load_model

    X, y, _, _ = data
    autotrack.keras.autolog()
    dataset = tf.data.Dataset.from_tensor_slices((X, y)).batch(16).prefetch(2)
    make_model().fit(dataset, epochs=1, verbose=0)
    run = only_run(client)
    assert run.data.params["batch_size"] == "16"
    model = load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(model.input_example, X[:5])


def test_python_generator_batch_size_and_every_batch_trained_on(data, client):
    import autotrack.keras

    X, y, _, _ = data
    served = []

    def batches():
        for start in range(0, 256, 16):
            served.append(start)
            yield X[start:start + 16], y[start:start + 16]

    autotrack.keras.autolog()
    history = make_model().fit(batches(), steps_per_epoch=16, epochs=1, verbose=0)
    run = only_run(client)
    assert run.data.params["batch_size"] == "16" and run.data.params["steps_per_epoch"] == "16"
    assert served == list(range(0, 256, 16))  # the peeked first batch was trained on, once
    assert run.data.metrics["loss"] == history.history["loss"][0]
    # the same training as without autotrack
    plain = make_model()
    served.clear()
    assert plain.fit(batches(), steps_per_epoch=16, epochs=1, verbose=0).history == history.history


def test_unbuilt_model_gets_its_size_and_summary_after_fit(data, client):
    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    make_model(built=False).fit(X, y, epochs=1, verbose=0)
    autotrack.flush()  # the summary is written in the background
    run = only_run(client)
    assert run.data.params["total_params"] == "90"
    assert "model_summary.txt" in [f.path for f in client.list_artifacts(run.info.run_id)]


def test_model_without_input_example_keeps_its_signature(data, client):
    import autotrack.keras
    from autotrack.models import load_model

    X, y, _, _ = data
    autotrack.keras.autolog(log_input_examples=False)
    make_model().fit(X, y, epochs=1, verbose=0)
    model = load_model(f"runs:/{only_run(client).info.run_id}/model")
    assert model.input_example is None and model.signature is not None


def test_log_models_false_logs_no_model(data, client):
    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    make_model().fit(X, y, epochs=1, verbose=0)
    assert "model" not in [f.path for f in client.list_artifacts(only_run(client).info.run_id)]


# ---------------------------------------------------------------- callbacks
@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_user_callbacks_are_untouched(kind, data, client):
    import keras

    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
    callbacks = [stopper] if kind == "list" else (stopper,)
    make_model().fit(X, y, epochs=1, verbose=0, callbacks=callbacks)
    assert len(callbacks) == 1 and callbacks[0] is stopper
    assert only_run(client).data.params["patience"] == "3"


def test_a_user_callback_list_object_is_used_as_is_and_history_still_logged(data, client):
    import keras

    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_models=False)
    model = make_model()
    user = keras.callbacks.CallbackList([keras.callbacks.History()], add_history=False, model=model)
    before = list(user.callbacks)
    history = model.fit(X, y, epochs=2, verbose=0, callbacks=user)
    assert user.callbacks == before
    assert values(client, only_run(client).info.run_id, "loss") == list(enumerate(history.history["loss"]))


def test_a_user_tensorboard_callback_behaves_as_without_autotrack(data, client, tmp_path):
    import importlib.util

    import keras

    import autotrack.tensorflow

    X, y, _, _ = data
    autotrack.tensorflow.autolog(log_models=False)
    board = keras.callbacks.TensorBoard(str(tmp_path / "tb"))
    if importlib.util.find_spec("tensorboard") is None:
        # Keras's TensorBoard callback needs the tensorboard package; without it the user's fit fails
        # the same way with or without autotrack, and the run says FAILED.
        with pytest.raises(Exception, match="TensorBoard is not installed"):
            make_model().fit(X, y, epochs=1, verbose=0, callbacks=[board])
        assert only_run(client).info.status == "FAILED"
    else:  # pragma: no cover - tensorboard is not installed on the development machine
        make_model().fit(X, y, epochs=1, verbose=0, callbacks=[board])
        assert os.listdir(tmp_path / "tb" / "train")
        assert "loss" in only_run(client).data.metrics


def test_autotrack_itself_never_needs_tensorboard(data, client):
    import sys as _sys

    import autotrack.tensorflow

    X, y, _, _ = data
    autotrack.tensorflow.autolog()
    make_model().fit(X, y, epochs=1, verbose=0)
    assert only_run(client).info.status == "FINISHED"
    assert "tensorboard" not in _sys.modules


# ---------------------------------------------------------------- checkpoints
def test_resume_from_the_latest_checkpoint(data, client):
    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(checkpoint=True, checkpoint_monitor="loss", log_models=False)
    model = make_model()
    model.fit(X, y, batch_size=32, epochs=2, verbose=0)
    first = only_run(client).info.run_id
    infos = autotrack.keras.list_checkpoints(first)
    assert [i["epoch"] for i in infos] == [0, 1]  # loss improves each epoch: both saved
    resumed = autotrack.keras.load_checkpoint(first)
    assert int(resumed.optimizer.iterations.numpy()) == 2 * 256 // 32
    np.testing.assert_array_equal(resumed.predict(X[:8], verbose=0), model.predict(X[:8], verbose=0))
    history = resumed.fit(X, y, batch_size=32, initial_epoch=infos[-1]["epoch"] + 1, epochs=3, verbose=0)
    assert history.epoch == [2]
    second = [r for r in client.search_runs(["0"]) if r.info.run_id != first][0]
    assert values(client, second.info.run_id, "loss") == [(2, history.history["loss"][0])]


def test_batch_frequency_weights_only_and_a_missing_monitor(data, client):
    import autotrack.keras
    from autotrack.exceptions import InvalidParameterError

    X, y, _, _ = data
    autotrack.keras.autolog(checkpoint=True, checkpoint_save_freq=4, checkpoint_save_weights_only=True,
                            log_models=False)  # monitor val_loss: absent without validation data
    with pytest.warns(UserWarning, match="checkpoint_monitor='val_loss' is not among the metrics"):
        model = make_model()
        model.fit(X, y, batch_size=32, epochs=1, verbose=0)
    run_id = only_run(client).info.run_id
    infos = autotrack.keras.list_checkpoints(run_id)
    assert [i["artifact_path"] for i in infos] == ["checkpoints/epoch_0000_step_000004", "checkpoints/epoch_0000_step_000008"]
    assert infos[-1]["weights_only"] and infos[-1]["step"] == 8
    with pytest.raises(InvalidParameterError, match="holds weights only"):
        autotrack.keras.load_checkpoint(run_id)
    fresh = autotrack.keras.load_checkpoint(run_id, model=make_model(seed=5))
    np.testing.assert_array_equal(fresh.predict(X[:4], verbose=0), model.predict(X[:4], verbose=0))


def test_user_model_checkpoint_files_not_logged_when_off(data, client, tmp_path):
    import keras

    import autotrack.keras

    X, y, _, _ = data
    autotrack.keras.autolog(log_checkpoints=False, log_models=False)
    saver = keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))
    make_model().fit(X, y, epochs=1, verbose=0, callbacks=[saver])
    assert (tmp_path / "m.keras").exists()
    assert "checkpoints" not in [f.path for f in client.list_artifacts(only_run(client).info.run_id)]


# ---------------------------------------------------------------- fault injection
def _train(data, seed=1):
    X, y, Xv, yv = data
    model = make_model(seed=seed)
    model.fit(X, y, batch_size=32, epochs=2, validation_data=(Xv, yv), verbose=0)
    return model.get_weights()


def _assert_same_weights(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def unpatched_weights(data):
    return _train(data)


def test_an_autotrack_callback_raising_leaves_training_unchanged(data, unpatched_weights, monkeypatch, client):
    import autotrack.keras
    from autotrack.integrations.keras import hooks

    def broken_sink(client, run_id):
        def sink(metrics, step, timestamp):
            raise RuntimeError("injected callback failure")
        return sink

    monkeypatch.setattr(hooks, "_metric_sink", broken_sink)
    autotrack.keras.autolog(log_every_n_steps=2, checkpoint=True)
    with pytest.warns(AutotrackWarning, match="injected callback failure"):
        weights = _train(data)
    _assert_same_weights(weights, unpatched_weights)
    assert only_run(client).info.status == "FINISHED"


def test_the_tracking_client_raising_leaves_training_unchanged(data, unpatched_weights, monkeypatch, client):
    import autotrack.keras
    from autotrack.tracking.client import TrackingClient

    def broken(*args, **kwargs):
        raise ConnectionError("injected store failure")

    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    monkeypatch.setattr(TrackingClient, "log_params", broken)
    monkeypatch.setattr(TrackingClient, "log_metric", broken)
    autotrack.keras.autolog()
    with pytest.warns(AutotrackWarning, match="injected store failure"):
        weights = _train(data)
    _assert_same_weights(weights, unpatched_weights)


def test_the_store_failing_every_write_leaves_training_unchanged(data, unpatched_weights, monkeypatch, client):
    import autotrack.keras

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise OSError("injected disk failure")

    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    client._pipeline.retry_delays = ()
    monkeypatch.setattr(client.store, "log_batch", broken)
    autotrack.keras.autolog(log_models=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = _train(data)
        client._pipeline.flush()
    _assert_same_weights(weights, unpatched_weights)
    assert calls  # the writes were attempted, and failed


# ---------------------------------------------------------------- other backends
_OTHER_BACKEND = r'''
import json, sys
import numpy as np
import autotrack, autotrack.keras
autotrack.keras.autolog(log_every_n_steps=2, checkpoint=True, checkpoint_monitor="loss")
import keras
assert keras.backend.backend() == sys.argv[1]
keras.utils.set_random_seed(0)
X = np.random.default_rng(0).normal(size=(64, 4)).astype("float32"); y = (X[:, 0] > 0).astype("int32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(X, y, batch_size=16, epochs=2, verbose=0)
autotrack.flush()
run_id = autotrack.last_active_run().info.run_id
client = autotrack.TrackingClient()
logged = {k: [m.value for m in client.get_metric_history(run_id, k)] for k in history.history}
steps = [m.step for m in client.get_metric_history(run_id, "batch_loss")]
generic = autotrack.models.load_model(f"runs:/{run_id}/model")
same = bool(np.allclose(generic.predict(X[:3]), keras.ops.convert_to_numpy(model(X[:3]))))
print(json.dumps({"equal": logged == history.history, "steps": steps, "predict": same,
                  "checkpoints": [c["epoch"] for c in autotrack.keras.list_checkpoints(run_id)]}))
'''


@pytest.mark.parametrize("backend", ["torch"])
def test_another_keras_backend(backend, tmp_path):
    import importlib.util
    import json

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"the {backend} backend is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env.update(KERAS_BACKEND=backend, AUTOTRACK_STRICT="1")
    proc = subprocess.run([sys.executable, "-c", _OTHER_BACKEND, backend], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"equal": True, "steps": [2, 4, 6, 8], "predict": True, "checkpoints": [0, 1]}
