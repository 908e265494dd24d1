"""Feature engineering: the same model with and without a derived feature, the transform logged as a param."""

import autotrack as mlflow
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

data = load_diabetes(as_frame=True).frame
labels = data.pop("target")
mlflow.set_experiment("feature-engineering")

results = {}
for variant in ("baseline", "bmi*bp"):
    features = data.copy()
    with mlflow.start_run(run_name=variant) as run:
        if variant != "baseline":
            # Feature engineering step
            features["bmi_x_bp"] = features["bmi"] * features["bp"]
            mlflow.log_param("feature_engineering", "bmi * bp")
        else:
            mlflow.log_param("feature_engineering", "none")
        X_train, X_test, y_train, y_test = train_test_split(features, labels, test_size=0.3, random_state=0)
        clf = LinearRegression().fit(X_train, y_train)
        mlflow.log_param("n_features", features.shape[1])
        mlflow.log_metric("r2", clf.score(X_test, y_test))
        results[variant] = run.info.run_id

frame = mlflow.search_runs(experiment_names=["feature-engineering"], order_by=["metrics.r2 DESC"])
print(frame[["tags.mlflow.runName", "params.feature_engineering", "params.n_features", "metrics.r2"]].to_string(index=False))
best = frame.iloc[0]
print(f"\nbest: {best['tags.mlflow.runName']} (r2={best['metrics.r2']:.4f}); pandas is only needed here for the table")
assert isinstance(frame, pd.DataFrame)
