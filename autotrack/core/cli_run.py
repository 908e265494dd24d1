"""``autotrack run -- python train.py ...``: run a command with zero-code autologging turned on.

It sets ``AUTOTRACK_AUTOLOG`` (and, if asked, ``AUTOTRACK_DISABLED_INTEGRATIONS``,
``AUTOTRACK_TRACKING_URI``, ``AUTOTRACK_EXPERIMENT_NAME``) for the command; every Python process the
command starts then arms autologging through the ``autotrack-autolog.pth`` start-up hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

import click

PTH = "autotrack-autolog.pth"


def _startup_hook_installed() -> bool:
    """Whether the .pth start-up hook sits in a site-packages directory of this interpreter."""
    import site

    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *getattr(site, "getsitepackages", list)()}
    if site.ENABLE_USER_SITE:
        dirs.add(site.getusersitepackages())
    return any(os.path.exists(os.path.join(d, PTH)) for d in dirs)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    help="Run COMMAND with autologging on, e.g. `autotrack run -- python train.py --epochs 3`.",
)
@click.option("--integrations", "-i", default="all", show_default=True,
              help="Integrations to enable: 'all' or a comma list such as 'sklearn,xgboost'.")
@click.option("--disable", "disabled", default="", help="Comma list of integrations to leave off.")
@click.option("--tracking-uri", default=None, help="Sets AUTOTRACK_TRACKING_URI for the command.")
@click.option("--experiment-name", default=None, help="Sets AUTOTRACK_EXPERIMENT_NAME for the command.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def run_command(integrations: str, disabled: str, tracking_uri: str | None, experiment_name: str | None,
                command: tuple[str, ...]) -> None:
    """Run ``command`` with ``AUTOTRACK_AUTOLOG`` set; exit with the command's exit status."""
    from autotrack.core import registry
    from autotrack.core.environment import parse_autolog_value

    try:
        enabled = parse_autolog_value(integrations, field="--integrations")
        off = registry.validate_names("--disable", disabled) if disabled.strip() not in ("", "*") else []
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None
    if not enabled:
        raise click.BadParameter(f"--integrations={integrations!r} enables nothing; use 'all' or a list of names")
    env = dict(os.environ)
    env["AUTOTRACK_AUTOLOG"] = "1" if enabled == ["*"] else ",".join(enabled)
    if disabled.strip():
        env["AUTOTRACK_DISABLED_INTEGRATIONS"] = "*" if disabled.strip() == "*" else ",".join(off)
    if tracking_uri:
        env["AUTOTRACK_TRACKING_URI"] = tracking_uri
    if experiment_name:
        env["AUTOTRACK_EXPERIMENT_NAME"] = experiment_name
    if not _startup_hook_installed():
        click.echo(f"autotrack run: warning: {PTH} is not installed in this environment, so Python "
                   "processes will not pick up AUTOTRACK_AUTOLOG; reinstall autotrack.", err=True)
    try:
        process = subprocess.Popen(list(command), env=env)
    except FileNotFoundError:
        raise click.UsageError(f"command not found: {command[0]!r}") from None
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:
            # The child got the same SIGINT from the terminal; wait for it to finish its shutdown.
            continue
    # A child killed by a signal reports -N; shells report 128+N.
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":  # python -m autotrack.core.cli_run -- cmd ...
    run_command(prog_name="autotrack run")
