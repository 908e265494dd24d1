"""PyTorch autologging (plain loops, ``torch.save`` checkpoints, Lightning, distributed ranks) and
the PyTorch model flavor. No module here imports torch at module level."""
