"""A plain loop with no tracking code, for the subprocess tests: ``plain_loop.py MODE OUT``.

MODE: ``ok`` (the process exits normally), ``raise`` (an uncaught exception after 6 steps),
``sigterm`` (the process sends itself SIGTERM after 6 steps), ``env`` (like ok; autologging comes
from AUTOTRACK_AUTOLOG only). The loss.item() values are written to OUT as JSON as they happen.
"""

import json
import os
import signal
import sys

mode, out = sys.argv[1], sys.argv[2]
if mode != "env":
    import autotrack.pytorch

    autotrack.pytorch.autolog()
import torch

torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
values = []
for step in range(10):
    loss = model(torch.randn(8, 3)).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    values.append(loss.item())
    with open(out, "w") as handle:
        json.dump(values, handle)
    if step == 5 and mode == "raise":
        raise RuntimeError("the user's loop failed")
    if step == 5 and mode == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
print("done", len(values))
