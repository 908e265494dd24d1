"""Two-process DDP training on the CPU (gloo), no tracking code but autolog(); run by torch.distributed.run."""

import json
import os
import sys

import autotrack.pytorch

autotrack.pytorch.autolog()
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(3, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
generator = torch.Generator().manual_seed(rank)
values = []
for step in range(8):
    loss = model(torch.randn(8, 3, generator=generator)).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    values.append(loss.item())
torch.save(model.module.state_dict(), os.path.join(sys.argv[1], f"rank{rank}.pt"))
with open(os.path.join(sys.argv[1], f"losses-{rank}.json"), "w") as handle:
    json.dump(values, handle)
dist.barrier()
dist.destroy_process_group()
