"""Incremental training with ``SGDClassifier.partial_fit`` over chunks, autologged two ways:

1. no run started: the chunks' calls log into one run, with the score on each chunk at step = call
   index (a learning curve); the run stays open for more chunks and ends FINISHED when a new
   ``fit`` starts or the process exits (another estimator's ``partial_fit`` does not end it);
2. the tutorial's form, a run per chunk started by the user: each call logs into the user's run.

Runs on the embedded default store (``autotrack-runs/`` in the current folder).
"""

import time

import autotrack
import autotrack.sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

started_ms = int(time.time() * 1000)
autotrack.set_experiment("sklearn-autolog-incremental")
autotrack.sklearn.autolog()

X, y = make_classification(n_samples=5_000, n_features=20, random_state=0)
data_chunks = [{"train": X[i:i + 1000], "target": y[i:i + 1000]} for i in range(0, 5000, 1000)]

# 1. one run for the whole incremental training
online = SGDClassifier(loss="log_loss", random_state=0)
for data_chunk in data_chunks:
    online.partial_fit(data_chunk["train"], data_chunk["target"], classes=[0, 1])

# 2. the tutorial: a run per chunk, started by the user and used as is
clf = SGDClassifier(random_state=0)
for data_chunk in data_chunks:
    with autotrack.start_run():
        clf.partial_fit(data_chunk["train"], data_chunk["target"], classes=[0, 1])
        autotrack.log_metric("accuracy", clf.score(data_chunk["train"], data_chunk["target"]))

# ---- read back what was recorded
client = autotrack.TrackingClient()
runs = autotrack.search_runs(filter_string=f"attributes.start_time >= {started_ms}", output_format="list")
runs.sort(key=lambda r: r.info.start_time)
incremental, per_chunk = runs[0], runs[1:]
print(f"run {incremental.info.run_id[:8]} ({incremental.info.status}): {incremental.data.tags['estimator_name']} "
      f"loss={incremental.data.params['loss']}, one run for {len(data_chunks)} partial_fit calls")
for point in client.get_metric_history(incremental.info.run_id, "training_accuracy_score"):
    print(f"  step {point.step}: training_accuracy_score={point.value:.4f}")
print(f"{len(per_chunk)} user runs, one per chunk (step = the estimator's call index):")
for run in per_chunk:
    (point,) = client.get_metric_history(run.info.run_id, "training_accuracy_score")
    print(f"  run {run.info.run_id[:8]} ({run.info.status}) step {point.step}: "
          f"training_accuracy_score={point.value:.4f} accuracy={run.data.metrics['accuracy']:.4f}")
