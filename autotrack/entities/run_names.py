"""Readable run names (``bold-otter-417``) for runs started without one."""

from __future__ import annotations

import random

_ADJECTIVES = ("amber", "bold", "brisk", "calm", "clever", "crisp", "deft", "eager", "fleet", "gentle", "keen", "lucid", "merry", "nimble", "quiet", "rapid", "sharp", "steady", "sunny", "vivid")
_NOUNS = ("badger", "crane", "falcon", "fox", "heron", "ibis", "lynx", "marten", "otter", "owl", "panda", "quail", "raven", "seal", "stoat", "swift", "tern", "wolf", "wren", "yak")


def generate_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"
