"""One model on two datasets: a run per dataset, then the runs compared side by side."""

import autotrack as mlflow
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def split(loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    return {"name": loader.__name__.replace("load_", ""), "train": X_train, "target": y_train, "test": X_test, "target_test": y_test}


datasets = [split(load_breast_cancer), split(load_wine)]
mlflow.set_experiment("datasets")
run_ids = []
for data in datasets:
    with mlflow.start_run(run_name=data["name"]) as run:
        clf = RandomForestClassifier(n_estimators=50, random_state=0)
        clf.fit(data["train"], data["target"])
        mlflow.log_params({"dataset": data["name"], "n_train": len(data["train"]), "n_features": data["train"].shape[1]})
        mlflow.log_metric("accuracy", clf.score(data["test"], data["target_test"]))
        run_ids.append(run.info.run_id)

client = mlflow.TrackingClient()
print(f"{'':12}" + "".join(f"{client.get_run(r).info.run_name:>16}" for r in run_ids))
for key in ("params.dataset", "params.n_train", "params.n_features", "metrics.accuracy"):
    kind, name = key.split(".")
    values = [getattr(client.get_run(r).data, kind)[name] for r in run_ids]
    print(f"{name:12}" + "".join(f"{v:>16.4f}" if isinstance(v, float) else f"{v:>16}" for v in values))
print("\nCompare in a terminal: autotrack runs compare " + " ".join(run_ids))
