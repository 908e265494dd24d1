"""Lightning autologging: ``Trainer.fit`` becomes one run with params, the metrics the module logs
with ``self.log``, early stopping, the model summary, checkpoints, the model and the test metrics.
Runs on the embedded default store in the current folder."""

import logging
import warnings

import autotrack
import autotrack.pytorch

autotrack.pytorch.autolog()

import lightning.pytorch as pl  # noqa: E402
import torch  # noqa: E402

logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
warnings.filterwarnings("ignore")


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)


torch.manual_seed(0)
x = torch.randn(2000, 20)
y = x[:, :3].sum(dim=1, keepdim=True) + 0.1 * torch.randn(2000, 1)
data = torch.utils.data.TensorDataset(x, y)
train, val = torch.utils.data.random_split(data, [1600, 400])
train_loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
val_loader = torch.utils.data.DataLoader(val, batch_size=400)

trainer = pl.Trainer(max_epochs=5, logger=False, enable_progress_bar=False, log_every_n_steps=10,
                     callbacks=[pl.callbacks.EarlyStopping(monitor="val_loss", patience=2)],
                     default_root_dir="lightning-output")
model = Regressor()
trainer.fit(model, train_loader, val_loader)
trainer.test(model, val_loader, verbose=False)

run = autotrack.last_active_run()
client = autotrack.TrackingClient()
val_losses = [round(m.value, 4) for m in client.get_metric_history(run.info.run_id, "val_loss")]
print(f"run {run.info.run_id} ({run.info.status}): epochs={run.data.params['epochs']} "
      f"optimizer={run.data.params['optimizer_name']} lr={run.data.params['lr']}")
print(f"val_loss per epoch: {val_losses}; test_loss={run.data.metrics['test_loss']:.4f}")
print("artifacts:", sorted(a.path for a in client.list_artifacts(run.info.run_id)))
loaded = autotrack.models.load_model(f"runs:/{run.info.run_id}/model")
print("prediction of the logged model for 2 rows:", [round(float(v), 3) for v in loaded.predict(x[:2].numpy()).ravel()])
