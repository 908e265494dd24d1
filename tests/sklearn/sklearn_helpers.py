"""Read-back helpers shared by the scikit-learn autologging tests."""

from __future__ import annotations


def all_runs() -> list:
    """Every run of the default experiment, oldest first, after flushing what is buffered."""
    import autotrack

    autotrack.flush()
    return sorted(autotrack.search_runs(output_format="list"), key=lambda r: r.info.start_time)


def only_run():
    """The single run that must exist."""
    runs = all_runs()
    assert len(runs) == 1, f"expected one run, found {len(runs)}: {[r.data.tags.get('estimator_name') for r in runs]}"
    return runs[0]
