"""Feature engineering compared with a plain model, autologged: a ``Pipeline`` of a
``ColumnTransformer`` (``PolynomialFeatures`` on two columns, scaling on the rest) and a
``LogisticRegression`` is one run holding every step's params (``step__param``), the final
estimator's metrics and the whole pipeline as the model; the plain ``LogisticRegression`` is another.

Runs on the embedded default store (``autotrack-runs/`` in the current folder).
"""

import time

import autotrack
import autotrack.sklearn
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

started_ms = int(time.time() * 1000)
autotrack.set_experiment("sklearn-autolog-feature-engineering")
autotrack.sklearn.autolog()

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
crossed = ["mean radius", "mean texture"]
rest = [c for c in X.columns if c not in crossed]

engineered = Pipeline([
    ("features", ColumnTransformer([
        ("poly", PolynomialFeatures(degree=2, include_bias=False), crossed),
        ("scale", StandardScaler(), rest),
    ])),
    ("clf", LogisticRegression(max_iter=2000)),
])
plain = LogisticRegression(max_iter=5000)
for model in (engineered, plain):
    model.fit(X_train, y_train)
    model.score(X_test, y_test)

# ---- read back what was recorded
runs = autotrack.search_runs(filter_string=f"attributes.start_time >= {started_ms}", output_format="list")
runs.sort(key=lambda r: r.info.start_time)
for run in runs:
    p, m = run.data.params, run.data.metrics
    held_out = next((v for k, v in m.items() if not k.startswith("training_")), float("nan"))
    print(f"run {run.info.run_id[:8]} {run.data.tags['estimator_name']}: {len(p)} params, "
          f"training f1={m['training_f1_score']:.4f} roc_auc={m['training_roc_auc']:.4f}, test accuracy={held_out:.4f}")
    for key in ("features__poly__degree", "features__poly__interaction_only", "clf__max_iter", "max_iter"):
        if key in p:
            print(f"    {key} = {p[key]}")
    model = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    print(f"    model reloaded as {type(model).__name__} ({len(getattr(model, 'steps', [model]))} step(s))")
