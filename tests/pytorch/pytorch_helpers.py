"""Tiny models and loops shared by the PyTorch tests (a few dozen steps each)."""

from __future__ import annotations

import torch


def mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def loader(n: int = 40, batch_size: int = 10, seed: int = 1) -> torch.utils.data.DataLoader:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = torch.randn(n, 1, generator=generator)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size)


def train(model, data, epochs: int = 3, lr: float = 0.1, scheduler: bool = False, accumulate: int = 1):
    """A plain loop with no tracking code; returns the ``loss.item()`` of every backward, per step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5) if scheduler else None
    per_step: list[list[float]] = []
    current: list[float] = []
    for _epoch in range(epochs):
        for i, (x, y) in enumerate(data):
            loss = torch.nn.functional.mse_loss(model(x), y) / accumulate
            loss.backward()
            current.append(loss.item())
            if (i + 1) % accumulate == 0:
                optimizer.step()
                optimizer.zero_grad()
                per_step.append(current)
                current = []
        if sched is not None:
            sched.step()
    return per_step, optimizer


def global_hooks() -> dict[str, int]:
    """How many global optimizer and module hooks torch has now."""
    from torch.nn.modules import module
    from torch.optim import optimizer

    return {
        "optimizer_pre": len(optimizer._global_optimizer_pre_hooks),
        "optimizer_post": len(optimizer._global_optimizer_post_hooks),
        "module_forward_pre": len(module._global_forward_pre_hooks),
    }
