"""Quickstart: train a RandomForest at three depths, one run each, then find the best run.

Runs on the embedded default store (``sqlite:///autotrack-runs/tracking.db`` in the current folder)
with nothing configured. This is the MLflow tutorial's hyperparameter loop with only the import changed.
"""

import autotrack as mlflow
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

mlflow.set_experiment("quickstart")
for max_depth in [5, 10, 15]:
    with mlflow.start_run(run_name=f"rf-depth-{max_depth}"):
        clf = RandomForestClassifier(max_depth=max_depth, n_estimators=50, random_state=0)
        clf.fit(X_train, y_train)

        # Log hyperparameters and metrics
        mlflow.log_param("max_depth", max_depth)
        accuracy = clf.score(X_test, y_test)
        mlflow.log_metric("accuracy", accuracy)
        print(f"max_depth={max_depth:<3} accuracy={accuracy:.4f}")

runs = mlflow.search_runs(order_by=["metrics.accuracy DESC"], output_format="list")
best = runs[0]
print(f"\n{len(runs)} runs in experiment 'quickstart' (tracking URI: {mlflow.get_tracking_uri()})")
print(f"best run: {best.info.run_id} ({best.info.run_name}) "
      f"max_depth={best.data.params['max_depth']} accuracy={best.data.metrics['accuracy']:.4f}")
print("\nLook at the results:")
print("  autotrack runs list --experiment quickstart --order-by 'metrics.accuracy DESC'")
print(f"  autotrack runs show {best.info.run_id}")
print("  autotrack runs compare " + " ".join(r.info.run_id for r in runs))
