"""Plain PyTorch loops with no tracking code: what one run records, read back from the store."""

from __future__ import annotations

import os

import pytest
import torch
from pytorch_helpers import loader, mlp, train

import autotrack
import autotrack.pytorch
from autotrack.integrations.pytorch import losses


def history(client, run_id, key):
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def finish() -> str:
    run = autotrack.active_run()
    assert run is not None, "the first optimizer step starts a run that stays active"
    autotrack.end_run()
    return run.info.run_id


def test_loss_history_is_the_loops_own_loss_item_at_steps_0_to_n(client):
    autotrack.pytorch.autolog()
    per_step, _ = train(mlp(), loader(), epochs=3)
    run = autotrack.active_run()
    assert run.data.tags["autotrack.autologging"] == "pytorch"
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, values[-1]) for k, values in enumerate(per_step)]
    assert client.get_metric_history(run_id, "loss_total") == []  # one backward per step
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED"
    params = stored.data.params
    assert params["optimizer_name"] == "SGD" and params["lr"] == "0.1" and params["momentum"] == "0.9"
    assert params["num_param_groups"] == "1" and params["weight_decay"] == "0"
    assert params["total_params"] == "49" and params["model_class"] == "Sequential"


def test_more_steps_than_a_transfer_batch_are_all_recorded(client, monkeypatch):
    monkeypatch.setattr(losses, "BATCH", 5)
    autotrack.pytorch.autolog()
    per_step, _ = train(mlp(), loader(n=80, batch_size=4), epochs=2)  # 40 steps, 8 transfers
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, v[-1]) for k, v in enumerate(per_step)]


def test_lr_follows_the_scheduler_and_epoch_follows_the_dataloader(client):
    autotrack.pytorch.autolog()
    train(mlp(), loader(), epochs=3, scheduler=True)  # 4 steps per epoch
    run_id = finish()
    assert history(client, run_id, "lr") == [(0, 0.1), (4, 0.05), (8, 0.025)]
    assert history(client, run_id, "epoch") == [(0, 0.0), (4, 1.0), (8, 2.0)]


def test_gradient_accumulation_logs_the_last_backward_and_the_total(client):
    autotrack.pytorch.autolog()
    per_step, _ = train(mlp(), loader(), epochs=2, accumulate=2)  # 2 backward calls per step
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, v[-1]) for k, v in enumerate(per_step)]
    totals = history(client, run_id, "loss_total")
    assert [s for s, _ in totals] == list(range(len(per_step)))
    for (_, total), values in zip(totals, per_step):
        assert total == pytest.approx(sum(values), rel=1e-6)


def test_two_optimizers_each_log_the_loss_backpropagated_before_their_step(client):
    autotrack.pytorch.autolog()
    torch.manual_seed(0)
    gen, disc = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    g_opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    d_opt = torch.optim.SGD(disc.parameters(), lr=0.5)
    d_values, g_values = [], []
    for _ in range(3):
        d_loss = disc(gen(torch.randn(4, 2)).detach()).mean()
        d_loss.backward()
        d_opt.step()
        d_values.append(d_loss.item())
        g_loss = -disc(gen(torch.randn(4, 2))).mean()
        g_loss.backward()
        g_opt.step()
        g_values.append(g_loss.item())
    run_id = finish()
    assert history(client, run_id, "loss") == list(enumerate(d_values))
    assert history(client, run_id, "loss-opt1") == list(enumerate(g_values))
    params = client.get_run(run_id).data.params
    assert params["optimizer_name"] == "SGD" and params["opt1_optimizer_name"] == "Adam"
    assert params["opt1_betas"] == "(0.9, 0.999)"


def test_several_param_groups_log_lr_per_group(client):
    autotrack.pytorch.autolog()
    model = mlp()
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.01}])
    for x, y in loader():
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    optimizer.param_groups[1]["lr"] = 0.001
    x, y = next(iter(loader()))
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
    run_id = finish()
    assert history(client, run_id, "lr-group0") == [(0, 0.1)]
    assert history(client, run_id, "lr-group1") == [(0, 0.01), (4, 0.001)]
    assert client.get_run(run_id).data.params["num_param_groups"] == "2"


def test_log_every_n_steps_records_every_nth_step(client):
    autotrack.pytorch.autolog(log_every_n_steps=3)
    per_step, _ = train(mlp(), loader(), epochs=2)
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, v[-1]) for k, v in enumerate(per_step) if k % 3 == 0]


def test_inside_a_users_run_everything_goes_into_it(client):
    autotrack.pytorch.autolog()
    with autotrack.start_run() as run:
        per_step, _ = train(mlp(), loader(), epochs=1)
        assert autotrack.active_run().info.run_id == run.info.run_id
    assert autotrack.active_run() is None
    stored = client.get_run(run.info.run_id)
    assert "autotrack.autologging" not in stored.data.tags
    assert history(client, run.info.run_id, "loss") == [(k, v[-1]) for k, v in enumerate(per_step)]
    assert len(client.search_runs(["0"])) == 1


def test_exclusive_logs_nothing_into_a_users_run(client):
    autotrack.pytorch.autolog(exclusive=True)
    with autotrack.start_run() as run:
        train(mlp(), loader(), epochs=1)
    assert client.get_metric_history(run.info.run_id, "loss") == []


def test_a_new_run_after_the_user_ended_ours_starts_again_at_step_0(client):
    autotrack.pytorch.autolog()
    model, data = mlp(), loader()
    first, optimizer = train(model, data, epochs=1)
    run1 = finish()
    values = []
    for x, y in data:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        values.append(loss.item())
    run2 = finish()
    assert run1 != run2
    assert history(client, run2, "loss") == list(enumerate(values))


def test_torch_save_to_a_path_logs_a_checkpoint_and_a_buffer_is_left_alone(client, tmp_path):
    import io

    autotrack.pytorch.autolog()
    model = mlp()
    torch.save(model.state_dict(), tmp_path / "before-any-run.pt")  # no run yet: nothing to log into
    train(model, loader(), epochs=1)
    for epoch in range(2):
        torch.save({"epoch": epoch, "state": model.state_dict()}, tmp_path / f"epoch-{epoch}.pt")
    torch.save(model.state_dict(), str(tmp_path / "last.pt"))
    torch.save(model.state_dict(), io.BytesIO())
    run_id = finish()
    autotrack.flush()
    names = sorted(os.path.basename(a.path) for a in client.list_artifacts(run_id, "checkpoints"))
    assert names == ["epoch-0.pt", "epoch-1.pt", "last.pt"]
    latest = autotrack.pytorch.load_checkpoint(run_id)
    assert os.path.basename(latest) == "last.pt"
    restored = mlp(seed=5)
    restored.load_state_dict(torch.load(latest))
    assert all(torch.equal(a, b) for a, b in zip(restored.state_dict().values(), model.state_dict().values()))
    assert torch.load(autotrack.pytorch.load_checkpoint(run_id, "epoch-1.pt"))["epoch"] == 1
    with pytest.raises(autotrack.exceptions.ResourceNotFoundError, match="epoch-9.pt"):
        autotrack.pytorch.load_checkpoint(run_id, "epoch-9.pt")


def test_the_same_checkpoint_path_saved_every_epoch_keeps_the_latest(client, tmp_path):
    autotrack.pytorch.autolog()
    model, data = mlp(), loader()
    _, optimizer = train(model, data, epochs=1)
    for epoch in range(3):
        torch.save({"epoch": epoch}, tmp_path / "ckpt.pt")
    run_id = finish()
    assert torch.load(autotrack.pytorch.load_checkpoint(run_id))["epoch"] == 2


def test_log_checkpoints_false_logs_no_file(client, tmp_path):
    autotrack.pytorch.autolog(log_checkpoints=False)
    model = mlp()
    train(model, loader(), epochs=1)
    torch.save(model.state_dict(), tmp_path / "ckpt.pt")
    run_id = finish()
    autotrack.flush()
    assert client.list_artifacts(run_id, "checkpoints") == []


def test_disable_removes_every_hook_and_stops_recording(client):
    from pytorch_helpers import global_hooks

    before = global_hooks()
    autotrack.pytorch.autolog()
    after = global_hooks()
    assert after["optimizer_post"] == before["optimizer_post"] + 1
    assert after["module_forward_pre"] == before["module_forward_pre"] + 1
    autotrack.pytorch.autolog(disable=True)
    assert global_hooks() == before
    from autotrack.core import patching

    assert patching.leftover_wrappers() == []
    train(mlp(), loader(), epochs=1)
    assert autotrack.active_run() is None
    assert client.search_runs(["0"]) == []


def test_the_module_watch_ends_at_the_first_step(client):
    from pytorch_helpers import global_hooks

    before = global_hooks()
    autotrack.pytorch.autolog()
    train(mlp(), loader(), epochs=1)
    assert global_hooks()["module_forward_pre"] == before["module_forward_pre"]
    finish()


def test_invalid_settings_name_the_option_and_what_is_accepted():
    with pytest.raises(ValueError, match=r"log_every_n_steps=0 must be an int >= 1"):
        autotrack.pytorch.autolog(log_every_n_steps=0)
    with pytest.raises(TypeError, match=r"log_checkpoints='yes' must be True or False"):
        autotrack.pytorch.autolog(log_checkpoints="yes")
    with pytest.raises(TypeError, match="unknown option 'log_every_n_stepz'"):
        autotrack.pytorch.autolog(log_every_n_stepz=2)


def test_autotrack_torch_is_the_same_facade():
    import autotrack.torch

    assert autotrack.torch.autolog is autotrack.pytorch.autolog
    assert autotrack.torch.load_checkpoint is autotrack.pytorch.load_checkpoint


def test_global_autolog_arms_pytorch(client):
    autotrack.autolog()
    per_step, _ = train(mlp(), loader(), epochs=1)
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, v[-1]) for k, v in enumerate(per_step)]


def test_autolog_called_again_mid_training_continues_the_steps_of_the_run(client):
    autotrack.pytorch.autolog()
    model, data = mlp(), loader()
    first, optimizer = train(model, data, epochs=1)  # steps 0..3
    autotrack.pytorch.autolog(log_checkpoints=False)  # reconfigure: every hook is replaced
    values = []
    for x, y in data:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        values.append(loss.item())
    run_id = finish()
    assert history(client, run_id, "loss") == [(k, v[-1]) for k, v in enumerate(first)] + \
        [(4 + k, v) for k, v in enumerate(values)]
