"""The tutorial's hyperparameter loop (RandomForest at max_depth 5, 10, 15) with autologging and no
logging code: each fit is a run with its params, training metrics, dataset and model.

Runs on the embedded default store (``autotrack-runs/`` in the current folder). Prints what the
store recorded for the three runs of this execution.
"""

import time

import autotrack
import autotrack.sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

started_ms = int(time.time() * 1000)
autotrack.set_experiment("sklearn-autolog-tuning")
autotrack.autolog()  # every supported library; scikit-learn is patched when imported

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

for max_depth in [5, 10, 15]:
    clf = RandomForestClassifier(max_depth=max_depth, n_estimators=50, random_state=0)
    clf.fit(X_train, y_train)
    clf.score(X_test, y_test)  # an evaluation after training: logged to the same run

# ---- read back what was recorded
runs = autotrack.search_runs(filter_string=f"attributes.start_time >= {started_ms}", order_by=["params.max_depth"],
                             output_format="list")
runs.sort(key=lambda r: int(r.data.params["max_depth"]))
print(f"{len(runs)} runs recorded by autolog, no logging code:")
for run in runs:
    m, p, t = run.data.metrics, run.data.params, run.data.tags
    test_metric = next((k for k in m if not k.startswith("training_")), None)
    print(f"  run {run.info.run_id[:8]} {run.info.status:8} {t['estimator_name']} max_depth={p['max_depth']:>2} "
          f"n_estimators={p['n_estimators']} ({len(p)} params)")
    print(f"    training: accuracy={m['training_accuracy_score']:.4f} f1={m['training_f1_score']:.4f} "
          f"log_loss={m['training_log_loss']:.4f} roc_auc={m['training_roc_auc']:.4f}")
    if test_metric:
        print(f"    after training: {test_metric}={m[test_metric]:.4f}")
    print(f"    dataset: {t['mlflow.datasets']}")
best = max(runs, key=lambda r: r.data.metrics.get("training_roc_auc", 0))
model = autotrack.sklearn.load_model(f"runs:/{best.info.run_id}/model")
print(f"model of run {best.info.run_id[:8]} reloaded: test accuracy {model.score(X_test, y_test):.4f}")
