"""The tutorial's signature examples, run on autotrack with ``import autotrack as mlflow``.

1. an inferred signature (``infer_signature(input_example, output_example)``) logged with an input example;
2. a hand-written signature (``ModelSignature(inputs=Schema([ColSpec(...)]))``);
3. what enforcement does at predict time: column order, safe widening, and clear errors.

Runs in a few seconds and writes under a temporary folder: python examples/signature.py
"""

from __future__ import annotations

import os
import tempfile
import warnings

root = tempfile.mkdtemp(prefix="autotrack-signature-example-")
os.environ.setdefault("AUTOTRACK_TRACKING_URI", f"sqlite:///{root}/tracking.db")
os.environ.setdefault("AUTOTRACK_ARTIFACT_ROOT", f"{root}/artifacts")

import pandas as pd  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402

import autotrack as mlflow  # noqa: E402
import autotrack.sklearn  # noqa: E402,F401
from autotrack.models import ModelSignature  # noqa: E402
from autotrack.models.signature import infer_signature  # noqa: E402
from autotrack.types import ColSpec, DataType, Schema  # noqa: E402

# --- 1. inferred signature, as in the tutorial -------------------------------------------------
input_example = pd.DataFrame({"age": [25, 30, 35], "salary": [50000, 60000, 70000]})
output_example = pd.DataFrame({"predicted_salary": [52000, 61000, 73000]})
signature = infer_signature(input_example, output_example)
print("Inferred signature:\n" + repr(signature))

X_train = input_example
y_train = output_example["predicted_salary"]
model = RandomForestRegressor(n_estimators=20, random_state=0)
model.fit(X_train, y_train)

with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(sk_model=model, artifact_path="random_forest_model",
                                    signature=signature, input_example=input_example)
print(f"Logged {info.model_uri}")
print("  files:", sorted(f.path for f in mlflow.TrackingClient().list_artifacts(run.info.run_id, "random_forest_model")))

# --- 2. hand-written signature, as in the tutorial ---------------------------------------------
input_schema = Schema([ColSpec(DataType.integer, "age"), ColSpec(DataType.double, "salary")])
output_schema = Schema([ColSpec(DataType.double, "predicted_salary")])
manual = ModelSignature(inputs=input_schema, outputs=output_schema)
with mlflow.start_run():
    manual_info = mlflow.sklearn.log_model(model, "model_with_signature", signature=manual)
print(f"\nLogged {manual_info.model_uri} with the hand-written signature:\n" + repr(manual))

# --- 3. enforcement at predict time ------------------------------------------------------------
loaded = mlflow.models.load_model(manual_info.model_uri)
print("Loaded:", loaded)

reordered = pd.DataFrame({"salary": [55000, 65000], "age": [28, 33]})
print("\nName ordering: columns given as", list(reordered.columns), "->", loaded.predict(reordered))

print("Input types: int64 'age' narrows to integer (values fit in 32 bits), int64 'salary' widens to double")
print("Dicts and lists of dicts become a DataFrame:", loaded.predict([{"age": 40, "salary": 80000}]))

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    loaded.predict(pd.DataFrame({"age": [28], "salary": [55000.0], "bonus": [1]}))
print("Extra column:", caught[0].message)

for label, bad in [
    ("Missing column", pd.DataFrame({"salary": [55000.0]})),
    ("Lossy conversion", pd.DataFrame({"age": [28.5], "salary": [55000.0]})),
    ("String for a number", pd.DataFrame({"age": [28], "salary": ["a lot"]})),
]:
    try:
        loaded.predict(bad)
    except mlflow.models.SchemaEnforcementError as exc:
        print(f"{label}: {exc}")

# Output enforcement: the inferred signature says the output is `long` (the example targets were
# integers) but the forest predicts floats, so the generic model refuses to narrow them.
try:
    mlflow.models.load_model(info.model_uri).predict(input_example)
except mlflow.models.SchemaEnforcementError as exc:
    print(f"Output type: {exc}")
print("  (infer the output from the model's predictions instead:",
      repr(infer_signature(input_example, model.predict(input_example)).outputs) + ")")

print(f"\nEverything was written under {root}")
