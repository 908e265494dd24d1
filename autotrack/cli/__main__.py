"""``python -m autotrack.cli``: the ``autotrack`` command."""

from autotrack.cli import main

main(prog_name="autotrack")
