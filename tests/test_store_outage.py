"""A store that cannot be reached: one connect timeout per backoff period, not one per call or fit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest


def _silent_server() -> socket.socket:
    """A TCP socket that accepts connections and never answers (a hung database)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.mark.parametrize("scheme", ["postgresql://postgres@127.0.0.1:{port}/test", "mysql+pymysql://root@127.0.0.1:{port}/test"])
def test_autologged_fits_against_a_silent_store_pay_one_timeout_per_period(tmp_path, scheme):
    """Reproduced: every fit paid the full connect timeout again."""
    pytest.importorskip("sklearn")
    sock = _silent_server()
    try:
        uri = scheme.format(port=sock.getsockname()[1])
        code = textwrap.dedent("""
            import time, warnings
            import numpy as np
            from sklearn.linear_model import LinearRegression
            import autotrack
            autotrack.autolog()
            X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
            times = []
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for _ in range(4):
                    start = time.monotonic()
                    model = LinearRegression().fit(X, y)  # training must still work
                    times.append(time.monotonic() - start)
                    assert model.coef_.shape == (2,)
            print(" ".join(f"{t:.2f}" for t in times))
            print(sum("AutotrackWarning" in type(w.message).__name__ or "autotrack" in str(w.message) for w in caught))
        """)
        env = {**os.environ, "AUTOTRACK_TRACKING_URI": uri, "AUTOTRACK_CONNECT_TIMEOUT": "2", "AUTOTRACK_STRICT": "0",
               "AUTOTRACK_SPOOL_DIR": str(tmp_path / "spool"), "AUTOTRACK_ARTIFACT_ROOT": str(tmp_path / "artifacts")}
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        times = [float(t) for t in proc.stdout.split("\n")[0].split()]
        assert times[0] >= 1.5, times  # the first fit paid the 2 s connect timeout ...
        assert all(t < 1.0 for t in times[1:]), times  # ... the next ones, inside the backoff period, none
    finally:
        sock.close()


def test_fluent_calls_fail_fast_with_autotracks_error_inside_the_period(monkeypatch):
    import time

    import autotrack
    from autotrack.exceptions import StoreConnectionError

    monkeypatch.setenv("AUTOTRACK_CONNECT_TIMEOUT", "2")
    sock = _silent_server()
    try:
        autotrack.set_tracking_uri(f"postgresql://postgres@127.0.0.1:{sock.getsockname()[1]}/test")
        start = time.monotonic()
        with pytest.raises(StoreConnectionError, match="connect timeout 2 s"):
            autotrack.start_run()
        first = time.monotonic() - start
        start = time.monotonic()
        for _ in range(5):
            with pytest.raises(StoreConnectionError, match="not tried again"):
                autotrack.start_run()
            with pytest.raises(StoreConnectionError):
                autotrack.set_experiment("x")
        assert first >= 1.5 and time.monotonic() - start < 1.0
    finally:
        sock.close()
