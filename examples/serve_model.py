"""Serve a logged model over HTTP with `autotrack models serve`, then score it in MLflow's formats.

Logs a random forest (with a signature and an input example), starts the scoring server on a free
port, sends one request in each JSON format and one in CSV, shows the 400 a wrong type gets, and
stops the server. Run it from any folder: python examples/serve_model.py
"""

import json
import socket
import subprocess
import sys
import time

import requests
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

import autotrack
import autotrack.sklearn

X, y = load_iris(return_X_y=True, as_frame=True)
model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
with autotrack.start_run(run_name="served-model") as run:
    info = autotrack.sklearn.log_model(model, "model", input_example=X.iloc[:3])
autotrack.flush()
print(f"logged {info.model_uri}")

with socket.socket() as s:  # a free port on the loopback interface
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([sys.executable, "-m", "autotrack.cli", "models", "serve", "-m", info.model_uri,
                           "--port", str(port), "--log-level", "warning"])
url = f"http://127.0.0.1:{port}"
try:
    for _ in range(600):  # wait until /ping answers 200: the model is loaded
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    print(f"serving on {url}; model flavor: {requests.get(f'{url}/metadata').json()['flavor']}")

    rows = X.iloc[[0, 60, 120]]
    bodies = {
        "dataframe_split": {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}},
        "dataframe_records": {"dataframe_records": rows.to_dict(orient="records")},
        "inputs": {"inputs": {column: rows[column].tolist() for column in rows.columns}},
    }
    for name, body in bodies.items():
        answer = requests.post(f"{url}/invocations", json=body)
        print(f"{name:>17}: {answer.json()}")
    answer = requests.post(f"{url}/invocations", data=rows.to_csv(index=False), headers={"Content-Type": "text/csv"})
    print(f"{'text/csv':>17}: {answer.json()}")
    direct = model.predict(rows).tolist()
    assert answer.json()["predictions"] == direct, (answer.json(), direct)
    print(f"{'direct predict':>17}: {direct}")

    wrong = dict(rows.iloc[0].to_dict(), **{"petal width (cm)": "wide"})
    answer = requests.post(f"{url}/invocations", json={"dataframe_records": [wrong]})
    print(f"a string for a double column -> {answer.status_code}: {json.dumps(answer.json())}")
    assert answer.status_code == 400
finally:
    server.terminate()
    server.wait(timeout=30)
print("server stopped")
