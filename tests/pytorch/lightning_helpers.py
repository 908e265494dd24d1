"""A tiny LightningModule for the Lightning tests, for either Lightning package."""

from __future__ import annotations

import torch


def module_class(pl):
    class Tiny(pl.LightningModule):
        def __init__(self, lr: float = 0.05):
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)
            self.lr = lr

        def forward(self, x):
            return self.layer(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss)
            self.log("both", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

        def test_step(self, batch, batch_idx):
            x, y = batch
            self.log("test_loss", torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.lr)

    return Tiny


def loaders(n: int = 40, batch_size: int = 10):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=generator)
    y = x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=generator)
    data = torch.utils.data.TensorDataset(x, y)
    return (torch.utils.data.DataLoader(data, batch_size=batch_size),
            torch.utils.data.DataLoader(data, batch_size=n))


def trainer(pl, root, **kwargs):
    options = dict(max_epochs=3, logger=False, enable_progress_bar=False, enable_model_summary=False,
                   log_every_n_steps=1, default_root_dir=str(root), num_sanity_val_steps=0)
    options.update(kwargs)
    return pl.Trainer(**options)
