"""Readable run names (``bold-otter-417``) for runs started without one."""

from __future__ import annotations

import random

# A private generator: drawing names from the global one would shift a user's seeded `random` stream
# (an autologged training must give the same results as an unlogged one with the same seed).
_random = random.Random()

_ADJECTIVES = ("amber", "bold", "brisk", "calm", "clever", "crisp", "deft", "eager", "fleet", "gentle", "keen", "lucid", "merry", "nimble", "quiet", "rapid", "sharp", "steady", "sunny", "vivid")
_NOUNS = ("badger", "crane", "falcon", "fox", "heron", "ibis", "lynx", "marten", "otter", "owl", "panda", "quail", "raven", "seal", "stoat", "swift", "tern", "wolf", "wren", "yak")


def generate_run_name() -> str:
    return f"{_random.choice(_ADJECTIVES)}-{_random.choice(_NOUNS)}-{_random.randint(100, 999)}"
