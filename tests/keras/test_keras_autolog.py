"""One fully featured autologged fit (validation, early stopping, a learning-rate schedule, per-step
metrics, checkpoints, the user's ModelCheckpoint, two evaluations), read back from the store by many
small tests. The fit runs once per module: TensorFlow makes every fit cost about a second."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from keras_helpers import make_model

EPOCHS = 5
BATCH = 32


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    import keras

    import autotrack
    import autotrack.keras
    from autotrack.integrations.keras import uploads
    from autotrack.tracking import fluent

    X, y, Xv, yv = data
    root = tmp_path_factory.mktemp("keras-trained")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOTRACK_ARTIFACT_ROOT", str(root / "artifacts"))
        mp.chdir(root)
        uri = f"sqlite:///{root}/tracking.db"
        autotrack.set_tracking_uri(uri)
        autotrack.keras.autolog(log_every_n_steps=3, checkpoint=True, checkpoint_save_best_only=False)
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=4, decay_rate=0.5)
        model = make_model(optimizer=keras.optimizers.Adam(schedule))
        # min_delta=10: no epoch after the first counts as an improvement, so training stops at
        # epoch `patience` and the weights of epoch 0 are restored.
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=10, patience=2, restore_best_weights=True)
        saver = keras.callbacks.ModelCheckpoint(str(root / "mine" / "ck-{epoch:02d}.keras"))
        callbacks = [stopper, saver]
        history = model.fit(X, y, batch_size=BATCH, epochs=EPOCHS, validation_data=(Xv, yv), callbacks=callbacks,
                            verbose=0)
        run_id = autotrack.last_active_run().info.run_id
        first = model.evaluate(Xv, yv, verbose=0, return_dict=True)
        second = model.evaluate(X, y, verbose=0)
        weights = [w.copy() for w in model.get_weights()]
        assert uploads.wait(timeout=60)
        autotrack.flush()
        autotrack.autolog(disable=True)
        fluent._tracking_uri = None
        client = autotrack.TrackingClient(uri)
        yield types.SimpleNamespace(
            client=client, run_id=run_id, run=client.get_run(run_id), history=history, model=model,
            callbacks=callbacks, originals=[stopper, saver], first=first, second=second, weights=weights,
            X=X, root=root, uri=uri)


@pytest.fixture(autouse=True)
def read_the_trained_store(trained, monkeypatch):
    """runs:/ URIs and autotrack.keras functions resolve against the module's store."""
    monkeypatch.setenv("AUTOTRACK_TRACKING_URI", trained.uri)


def history_of(trained, key):
    return [(m.step, m.value) for m in trained.client.get_metric_history(trained.run_id, key)]


def test_the_run_is_finished_and_tagged(trained):
    assert trained.run.info.status == "FINISHED"
    assert trained.run.data.tags["autotrack.autologging"] == "keras"


def test_epoch_metrics_equal_history_per_key_and_epoch(trained):
    history = trained.history
    assert history.epoch == [0, 1, 2]  # early stopping after epoch `patience`
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in history.history.items():
        assert history_of(trained, key) == list(zip(history.epoch, values)), key


def test_fit_params(trained):
    params = trained.run.data.params
    assert {k: params[k] for k in ("epochs", "batch_size", "shuffle", "initial_epoch", "validation_freq")} == {
        "epochs": str(EPOCHS), "batch_size": str(BATCH), "shuffle": "True", "initial_epoch": "0", "validation_freq": "1"}
    assert "validation_split" in params and "steps_per_epoch" not in params  # None values are left out
    assert params["optimizer_name"] == "Adam"
    assert params["optimizer_beta_1"] == "0.9" and params["optimizer_epsilon"] == "1e-07"
    # the schedule by its config
    assert params["optimizer_learning_rate"] == "ExponentialDecay"
    assert params["optimizer_learning_rate_initial_learning_rate"] == "0.01"
    assert params["optimizer_learning_rate_decay_steps"] == "4"
    assert params["optimizer_learning_rate_decay_rate"] == "0.5"
    assert params["loss"] == "sparse_categorical_crossentropy"
    assert params["total_params"] == params["trainable_params"] == str(8 * 8 + 8 + 8 * 2 + 2)


def test_early_stopping_params_and_metrics(trained):
    params, metrics = trained.run.data.params, trained.run.data.metrics
    assert {k: params[k] for k in ("monitor", "min_delta", "patience", "restore_best_weights")} == {
        "monitor": "val_loss", "min_delta": "10", "patience": "2", "restore_best_weights": "True"}
    assert "baseline" not in params  # None
    assert metrics["stopped_epoch"] == 2
    assert metrics["restored_epoch"] == 0


def test_learning_rate_is_logged_each_epoch_it_changes(trained):
    lr = history_of(trained, "learning_rate")
    assert [step for step, _ in lr] == [0, 1, 2]
    # ExponentialDecay(0.01, 4, 0.5) after 8, 16, 24 optimizer steps
    assert [v for _, v in lr] == pytest.approx([0.01 * 0.5 ** (8 * (e + 1) / 4) for e in range(3)], rel=1e-5)


def test_per_step_metrics_at_optimizer_iterations(trained):
    steps_per_epoch = 256 // BATCH
    batch_loss = history_of(trained, "batch_loss")
    assert [s for s, _ in batch_loss] == list(range(3, 3 * steps_per_epoch + 1, 3))
    # the last batch of an epoch reports the epoch's running mean: the epoch value itself
    by_step = dict(batch_loss)
    assert by_step[3 * steps_per_epoch] == pytest.approx(trained.history.history["loss"][2])
    assert not any(k.startswith("batch_val") for k in trained.run.data.metrics)


def test_evaluate_logs_eval_metrics_to_the_fit_run(trained):
    assert history_of(trained, "eval_loss") == [(0, trained.first["loss"]), (1, trained.second[0])]
    assert history_of(trained, "eval_accuracy") == [(0, trained.first["accuracy"]), (1, trained.second[1])]


def test_user_callback_list_is_untouched(trained):
    assert len(trained.callbacks) == 2
    assert all(a is b for a, b in zip(trained.callbacks, trained.originals))


def test_model_summary_artifact(trained):
    path = trained.client.download_artifacts(trained.run_id, "model_summary.txt")
    text = open(path, encoding="utf-8").read()
    assert "Total params" in text and "dense" in text


def test_model_round_trip_keras_and_generic_loader(trained):
    import autotrack.keras
    from autotrack.models import load_model

    uri = f"runs:/{trained.run_id}/model"
    expected = trained.model.predict(trained.X, verbose=0)
    loaded = autotrack.keras.load_model(uri)
    np.testing.assert_array_equal(loaded.predict(trained.X, verbose=0), expected)
    generic = load_model(uri)
    np.testing.assert_allclose(generic.predict(trained.X), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(generic.predict(trained.X[:3]), expected[:3], rtol=1e-6, atol=1e-6)
    inputs, outputs = generic.signature.inputs.to_dict(), generic.signature.outputs.to_dict()
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 8]}}]
    assert outputs == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]
    np.testing.assert_array_equal(generic.input_example, trained.X[:5])
    flavor = generic.metadata.flavors["keras"]
    assert flavor["model_file"] == "model.keras" and flavor["backend"] == "tensorflow"


def test_the_logged_model_has_the_restored_weights(trained):
    import autotrack.keras

    loaded = autotrack.keras.load_model(f"runs:/{trained.run_id}/model")
    for got, want in zip(loaded.get_weights(), trained.weights):
        np.testing.assert_array_equal(got, want)


def test_checkpoints_uploaded_with_the_epoch_metrics(trained):
    import autotrack.keras

    found = autotrack.keras.list_checkpoints(trained.run_id)
    assert [c["artifact_path"] for c in found] == [f"checkpoints/epoch_000{e}" for e in range(3)]
    for info in found:
        epoch = info["epoch"]
        assert info["metrics"] == {k: v[epoch] for k, v in trained.history.history.items()}
        assert info["model_file"] == "model.keras"


def test_user_model_checkpoint_files_are_logged(trained):
    listed = trained.client.list_artifacts(trained.run_id, "checkpoints/model_checkpoint")
    assert sorted(f.path.rsplit("/", 1)[-1] for f in listed) == ["ck-01.keras", "ck-02.keras", "ck-03.keras"]


def test_latest_checkpoint_loads_as_the_epoch_2_model(trained):
    import autotrack.keras

    model = autotrack.keras.load_checkpoint(trained.run_id)
    again = autotrack.keras.load_checkpoint(trained.run_id, epoch=2)
    np.testing.assert_array_equal(model.predict(trained.X[:4], verbose=0), again.predict(trained.X[:4], verbose=0))
    with open(trained.client.download_artifacts(trained.run_id, "checkpoints/epoch_0002/checkpoint.json")) as f:
        assert json.load(f)["epoch"] == 2
