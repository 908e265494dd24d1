"""One model on two datasets (the tutorial's "testing with different datasets") with autologging:
the runs record which dataset each was trained on (name, shape, columns, digest), so they can be
compared side by side. No logging code.

Runs on the embedded default store (``autotrack-runs/`` in the current folder).
"""

import json
import time

import autotrack
import autotrack.sklearn
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

started_ms = int(time.time() * 1000)
autotrack.set_experiment("sklearn-autolog-datasets")
autotrack.sklearn.autolog()


def split(loader):
    X, y = loader(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    return {"train": X_train, "target": y_train, "test": X_test, "target_test": y_test}


datasets = [split(load_breast_cancer), split(load_wine)]
for data in datasets:
    clf = RandomForestClassifier(n_estimators=50, random_state=0)
    clf.fit(data["train"], data["target"])
    clf.score(data["test"], data["target_test"])

# ---- read back what was recorded
autotrack.flush()  # dataset descriptions are written in the background; flush() waits for them
client = autotrack.TrackingClient()
runs = autotrack.search_runs(filter_string=f"attributes.start_time >= {started_ms}", output_format="list")
runs.sort(key=lambda r: r.info.start_time)
rows = []
for run in runs:
    local = client.download_artifacts(run.info.run_id, "datasets/train.json")
    with open(local) as handle:
        dataset = json.load(handle)
    held_out = next((v for k, v in run.data.metrics.items() if not k.startswith("training_")), float("nan"))
    rows.append((run.info.run_id[:8], f"{dataset['shape'][0]}x{dataset['shape'][1]}", dataset["digest"],
                 ", ".join(c["name"] for c in dataset["columns"][:2]) + ", ...",
                 f"{run.data.metrics['training_accuracy_score']:.4f}", f"{held_out:.4f}"))
header = ("run", "train shape", "digest", "columns", "train acc", "test acc")
widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
for row in [header] + rows:
    print("  ".join(str(value).ljust(width) for value, width in zip(row, widths)))
