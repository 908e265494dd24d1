"""GridSearchCV with autolog and no logging code: a parent run, child runs for the best candidates,
and the test-set evaluation attributed to the parent run afterwards. Prints what the store holds."""

import autotrack
import autotrack.sklearn
from sklearn import metrics
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split

autotrack.set_experiment("gridsearch")
autotrack.sklearn.autolog(max_tuning_runs=3)

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

search = GridSearchCV(
    RandomForestClassifier(n_estimators=30, random_state=0),
    {"max_depth": [2, 5, None], "min_samples_leaf": [1, 4]},
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
# Evaluations after training: logged to the search's run as <metric>_<dataset>.
search.score(X_test, y_test)
metrics.f1_score(y_test, search.predict(X_test), average="macro")

# ---- read back what was recorded
autotrack.flush()
client = autotrack.TrackingClient()
experiment = client.get_experiment_by_name("gridsearch")
runs = client.search_runs([experiment.experiment_id])
parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
children = sorted((r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id),
                  key=lambda r: (r.data.metrics["rank_test_score"], int(r.data.tags["autotrack.cv_results_index"])))

print(f"parent run {parent.info.run_id} ({parent.info.run_name}), {len(runs)} runs in the experiment")
print("  best params: " + ", ".join(f"{k}={v}" for k, v in sorted(parent.data.params.items()) if k.startswith("best_")))
for key in ("best_cv_score", "training_accuracy_score", "GridSearchCV_score_X_test", "f1_score_X_test"):
    print(f"  {key:26} {parent.data.metrics[key]:.4f}")
print("  artifacts: " + ", ".join(a.path for a in client.list_artifacts(parent.info.run_id)))
print(f"child runs (top {len(children)} candidates):")
for child in children:
    params = f"max_depth={child.data.params['max_depth']}, min_samples_leaf={child.data.params['min_samples_leaf']}"
    m = child.data.metrics
    print(f"  rank {int(m['rank_test_score'])}  {params:36} mean_test_score={m['mean_test_score']:.4f} "
          f"std_test_score={m['std_test_score']:.4f}")

model = autotrack.sklearn.load_model(f"runs:/{parent.info.run_id}/model")
assert (model.predict(X_test) == search.predict(X_test)).all()
print(f"runs:/{parent.info.run_id}/model is the best estimator: {type(model).__name__}{search.best_params_}")
