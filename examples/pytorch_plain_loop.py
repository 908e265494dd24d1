"""A plain PyTorch training loop with no tracking code, recorded by ``autotrack.pytorch.autolog()``.

The loop below is ordinary PyTorch: a DataLoader, an optimizer, a learning-rate scheduler and a
``torch.save`` checkpoint after each epoch. autotrack records the loss of every optimizer step
(the value of the ``loss.backward()`` before it), the learning rate whenever the scheduler changes
it, the epoch, the optimizer's hyperparameters and the model's size, and logs every checkpoint as an
artifact in the background. Runs on the embedded default store in the current folder.
"""

import os
import tempfile

import autotrack
import autotrack.pytorch

autotrack.pytorch.autolog()  # the only autotrack line needed; AUTOTRACK_AUTOLOG=1 works too

import torch  # noqa: E402

torch.manual_seed(0)
x = torch.randn(512, 8)
y = (x[:, :1] * 2 - x[:, 1:2]) + 0.1 * torch.randn(512, 1)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
checkpoint_dir = tempfile.mkdtemp(prefix="checkpoints-")

for epoch in range(5):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
    scheduler.step()
    torch.save({"epoch": epoch, "model": model.state_dict()}, os.path.join(checkpoint_dir, f"epoch-{epoch}.pt"))
    print(f"epoch {epoch}: last batch loss {loss.item():.4f}")

# ---- what was recorded (the loop above has no tracking code) ----
run = autotrack.active_run()  # the run the first optimizer step started
autotrack.end_run()
client = autotrack.TrackingClient()
losses = client.get_metric_history(run.info.run_id, "loss")
lrs = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "lr")]
checkpoints = [a.path for a in client.list_artifacts(run.info.run_id, "checkpoints")]
params = client.get_run(run.info.run_id).data.params
print(f"run {run.info.run_id}: loss curve of {len(losses)} steps, lr changes {lrs}")
print(f"params: optimizer_name={params['optimizer_name']} lr={params['lr']} total_params={params['total_params']}")
print(f"checkpoints: {checkpoints}")
latest = autotrack.pytorch.load_checkpoint(run.info.run_id)
print(f"resume from {os.path.basename(latest)}: epoch {torch.load(latest)['epoch']}")
