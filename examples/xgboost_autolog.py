"""XGBoost autologging with no logging code: native ``xgboost.train`` with an eval set and early
stopping, then the same model through ``XGBClassifier`` in a ``GridSearchCV``. Prints what the store holds."""

import autotrack
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn import metrics
from sklearn.model_selection import GridSearchCV, train_test_split

autotrack.set_experiment("xgboost-autolog")
autotrack.autolog()  # scikit-learn and XGBoost: every training below is recorded

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)

# ---- 1. native API: train + eval set, early stopping
dtrain = xgb.DMatrix(X_train, label=y_train)
dval = xgb.DMatrix(X_val, label=y_val)
params = {"objective": "binary:logistic", "eval_metric": ["logloss", "error"], "eta": 0.3, "max_depth": 3}
booster = xgb.train(params, dtrain, num_boost_round=200, evals=[(dtrain, "train"), (dval, "val")],
                    early_stopping_rounds=10, verbose_eval=False)

autotrack.flush()
client = autotrack.TrackingClient()
native = autotrack.last_active_run()
run = client.get_run(native.info.run_id)
history = client.get_metric_history(run.info.run_id, "val-logloss")
print(f"native run {run.info.run_id}: {len(history)} values of val-logloss (one per round, then the best round's)")
print(f"  best_iteration={int(run.data.metrics['best_iteration'])} (booster says {booster.best_iteration}), "
      f"stopped_iteration={int(run.data.metrics['stopped_iteration'])}")
for key in ("train-logloss", "val-logloss", "val-error"):
    print(f"  {key:14} {run.data.metrics[key]:.4f}  (at the best iteration)")
print(f"  params: max_depth={run.data.params['max_depth']} num_boost_round={run.data.params['num_boost_round']} "
      f"early_stopping_rounds={run.data.params['early_stopping_rounds']}")
print("  artifacts: " + ", ".join(a.path for a in client.list_artifacts(run.info.run_id)))
loaded = autotrack.xgboost.load_model(f"runs:/{run.info.run_id}/model")
assert (loaded.predict(dval) == booster.predict(dval)).all()

# ---- 2. scikit-learn API in a search: one parent run, a child run per candidate, no strays
search = GridSearchCV(xgb.XGBClassifier(n_estimators=30, learning_rate=0.3, n_jobs=1), {"max_depth": [2, 4]}, cv=3)
search.fit(X_train, y_train)
metrics.accuracy_score(y_val, search.predict(X_val))  # a post-training metric, logged to the search's run

autotrack.flush()
experiment = client.get_experiment_by_name("xgboost-autolog")
runs = client.search_runs([experiment.experiment_id], filter_string="tags.estimator_name = 'GridSearchCV'")
parent = runs[0]
children = client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
print(f"search run {parent.info.run_id}: best max_depth={parent.data.params['best_max_depth']}, "
      f"best_cv_score={parent.data.metrics['best_cv_score']:.4f}, "
      f"accuracy_score_X_val={parent.data.metrics['accuracy_score_X_val']:.4f}")
for child in sorted(children, key=lambda r: r.data.params["max_depth"]):
    print(f"  child max_depth={child.data.params['max_depth']}: mean_test_score={child.data.metrics['mean_test_score']:.4f}")
print(f"{len(client.search_runs([experiment.experiment_id]))} runs in the experiment (1 native + 1 search + "
      f"{len(children)} candidates)")
