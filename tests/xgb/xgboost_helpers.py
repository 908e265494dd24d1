"""Read-back helpers shared by the XGBoost autologging tests."""

from __future__ import annotations


def all_runs() -> list:
    """Every run of the default experiment, oldest first, after flushing what is buffered."""
    import autotrack

    autotrack.flush()
    return sorted(autotrack.search_runs(output_format="list"), key=lambda r: r.info.start_time)


def only_run():
    """The single run that must exist."""
    runs = all_runs()
    assert len(runs) == 1, f"expected one run, found {len(runs)}: {[r.data.tags for r in runs]}"
    return runs[0]


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    """``[(step, value)]`` of a metric, by step."""
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def artifact_files(client, run_id: str, path: str | None = None) -> list[str]:
    return sorted(info.path for info in client.list_artifacts(run_id, path))


def read_artifact(client, run_id: str, path: str) -> bytes:
    import pathlib

    return pathlib.Path(client.download_artifacts(run_id, path)).read_bytes()
