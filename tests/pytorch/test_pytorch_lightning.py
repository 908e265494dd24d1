"""Lightning: Trainer.fit is one run with params, epoch and step metrics, early stopping, the model
summary, ModelCheckpoint files, the model and Trainer.test's metrics."""

from __future__ import annotations

import os
import warnings

import pytest
import torch
from lightning_helpers import loaders, module_class, trainer

import autotrack
import autotrack.pytorch

pl = pytest.importorskip("lightning.pytorch")


@pytest.fixture(autouse=True)
def quiet_lightning():
    import logging

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="lightning")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        yield


def history(client, run_id, key):
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_fit_is_one_run_with_params_metrics_early_stopping_checkpoints_and_model(client, tmp_path):
    autotrack.pytorch.autolog()
    early = pl.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=0.001)
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), monitor="val_loss", save_top_k=1)
    user_callbacks = [early, checkpoint]
    t = trainer(pl, tmp_path, max_epochs=4, callbacks=user_callbacks)
    train, val = loaders()
    model = module_class(pl)()
    t.fit(model, train, val)
    assert user_callbacks == [early, checkpoint]  # the user's list is not changed
    assert autotrack.active_run() is None  # the fit's own run ended with the fit
    t.test(model, val)
    autotrack.flush()

    runs = client.search_runs(["0"])
    assert len(runs) == 1
    run = client.get_run(runs[0].info.run_id)
    run_id = run.info.run_id
    assert run.info.status == "FINISHED" and run.data.tags["autotrack.autologging"] == "pytorch"
    params = run.data.params
    assert params["epochs"] == "4" and params["optimizer_name"] == "Adam" and params["lr"] == "0.05"
    assert params["betas"] == "(0.9, 0.999)" and params["total_params"] == "5"
    assert params["monitor"] == "val_loss" and params["mode"] == "min"
    assert params["patience"] == "2" and params["min_delta"] == "0.001"

    epochs = history(client, run_id, "val_loss")
    assert [s for s, _ in epochs] == [0, 1, 2, 3]  # epoch-level: step = epoch
    assert [s for s, _ in history(client, run_id, "both_epoch")] == [0, 1, 2, 3]
    steps = history(client, run_id, "train_loss")
    assert [s for s, _ in steps] == list(range(1, 17))  # step-level: step = global step (4 per epoch)
    assert [s for s, _ in history(client, run_id, "both_step")] == list(range(1, 17))
    assert client.get_metric_history(run_id, "loss") == []  # the plain-loop hooks stood aside

    metrics = run.data.metrics
    assert metrics["best_score"] == pytest.approx(float(early.best_score))
    assert metrics["stopped_epoch"] == early.stopped_epoch
    assert metrics["restored_epoch"] == min(epochs, key=lambda e: e[1])[0]
    assert metrics["test_loss"] > 0

    top = {os.path.basename(a.path) for a in client.list_artifacts(run_id)}
    assert {"model", "model_summary.txt", "checkpoints"} <= top
    saved = {os.path.basename(a.path) for a in client.list_artifacts(run_id, "checkpoints")}
    assert saved == {os.path.basename(checkpoint.best_model_path)}
    summary = open(client.download_artifacts(run_id, "model_summary.txt")).read()
    assert "Linear" in summary and "Total params" in summary

    loaded = autotrack.models.load_model(f"runs:/{run_id}/model")
    assert [spec.shape for spec in loaded.signature.inputs.inputs] == [(-1, 4)]
    x = torch.randn(3, 4)
    model.eval()
    assert loaded.predict(x.numpy()) == pytest.approx(model(x).detach().numpy())
    native = autotrack.pytorch.load_model(f"runs:/{run_id}/model")
    assert torch.equal(native.layer.weight, model.layer.weight)


def test_step_metrics_follow_log_every_n_step_and_epochs_log_every_n_epoch(client, tmp_path):
    autotrack.pytorch.autolog(log_every_n_step=4, log_every_n_epoch=2, log_models=False)
    t = trainer(pl, tmp_path, max_epochs=4, enable_checkpointing=False)
    train, val = loaders()
    t.fit(module_class(pl)(), train, val)
    run_id = autotrack.last_active_run().info.run_id
    assert [s for s, _ in history(client, run_id, "train_loss")] == [4, 8, 12, 16]
    assert [s for s, _ in history(client, run_id, "val_loss")] == [1, 3]
    assert client.list_artifacts(run_id, "model") == []


def test_fit_inside_a_users_run_logs_into_it_and_leaves_it_open(client, tmp_path):
    autotrack.pytorch.autolog(log_models=False)
    with autotrack.start_run() as run:
        t = trainer(pl, tmp_path, max_epochs=2, enable_checkpointing=False)
        train, val = loaders()
        model = module_class(pl)()
        t.fit(model, train, val)
        assert autotrack.active_run().info.run_id == run.info.run_id
        t.test(model, val)
    stored = client.get_run(run.info.run_id)
    assert "val_loss" in stored.data.metrics and "test_loss" in stored.data.metrics
    assert len(client.search_runs(["0"])) == 1


def test_a_failing_fit_ends_its_run_failed_and_the_error_reaches_the_user(client, tmp_path):
    autotrack.pytorch.autolog(log_models=False)

    class Broken(module_class(pl)):
        def training_step(self, batch, batch_idx):
            raise ValueError("user bug")

    t = trainer(pl, tmp_path, max_epochs=1, enable_checkpointing=False)
    train, val = loaders()
    with pytest.raises(ValueError, match="user bug"):
        t.fit(Broken(), train, val)
    runs = client.search_runs(["0"])
    assert [r.info.status for r in runs] == ["FAILED"]


def test_pytorch_lightning_package_is_patched_too(client, tmp_path):
    pl_old = pytest.importorskip("pytorch_lightning")
    autotrack.pytorch.autolog(log_models=False)
    t = trainer(pl_old, tmp_path, max_epochs=2, enable_checkpointing=False)
    train, val = loaders()
    t.fit(module_class(pl_old)(), train, val)
    run = client.get_run(autotrack.last_active_run().info.run_id)
    assert run.data.params["epochs"] == "2" and "val_loss" in run.data.metrics
