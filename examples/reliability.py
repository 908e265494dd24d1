"""A store that is down does not lose what you log: it is kept in the spool and written later.

Run: python examples/reliability.py

A first process logs 1,000 metrics while its store refuses every write, and exits; the metrics and
the run's end are kept in the spool (one warning says how many and where). A second process that
logs to the same store writes them, in order, exactly once.
"""

import os
import subprocess
import sys
import tempfile
import textwrap

FIRST = textwrap.dedent("""
    import autotrack
    from autotrack.stores import get_store

    run = autotrack.start_run(run_name="while-the-store-is-down")
    autotrack.flush()
    def down(*args, **kwargs):
        raise ConnectionError("the database went away")
    get_store(autotrack.get_tracking_uri()).log_batch = down  # simulate an outage from now on
    for step in range(1000):
        autotrack.log_metric("loss", 1 / (step + 1), step=step)
    print(run.info.run_id)
    # no flush, no end_run: the exit sequence ends the run and keeps what it could not write
""")

with tempfile.TemporaryDirectory() as folder:
    env = {**os.environ, "AUTOTRACK_TRACKING_URI": f"sqlite:///{folder}/tracking.db", "AUTOTRACK_SPOOL_DIR": f"{folder}/spool",
           "AUTOTRACK_ARTIFACT_ROOT": f"{folder}/artifacts", "AUTOTRACK_EXIT_FLUSH_TIMEOUT": "3", "AUTOTRACK_STRICT": "0"}
    first = subprocess.run([sys.executable, "-c", FIRST], env=env, capture_output=True, text=True, check=True)
    run_id = first.stdout.split()[0]
    print("first process warned:", [line for line in first.stderr.splitlines() if "AutotrackWarning" in line][0][:160], "...")
    print("spool folder now holds:", os.listdir(f"{folder}/spool"))

    os.environ.update(env)
    import autotrack

    client = autotrack.TrackingClient()
    client.flush()  # a later process that logs to the same store writes what the spool kept
    history = client.get_metric_history(run_id, "loss")
    run = client.get_run(run_id)
    print(f"stored after replay: {len(history)} metrics, run {run.info.status}")
    assert [m.step for m in history] == list(range(1000)) and run.info.status == "FINISHED"
