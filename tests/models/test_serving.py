"""The scoring server, run as users run it: ``autotrack models serve`` subprocesses on free loopback ports,
started once for the module, and ``autotrack models predict``.

Every prediction is compared with the model's own ``predict`` through :func:`autotrack.models.load_model`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.datasets import load_iris

import autotrack.models

HERE = Path(__file__).parent
IRIS_X, _ = load_iris(return_X_y=True, as_frame=True)
COLUMNS = list(IRIS_X.columns)
ROWS = IRIS_X.iloc[[0, 60, 120]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(store: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    if store:
        env["AUTOTRACK_TRACKING_URI"] = store
    return env


class Server:
    def __init__(self, model_uri: str, log: Path, env: dict[str, str], *extra: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._file = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autotrack.cli", "models", "serve", "-m", model_uri, "--port", str(self.port), *extra],
            env=env, stdout=self._file, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 120) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if requests.get(self.url + "/ping", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log.read_text()}")

    def post(self, body, content_type="application/json", **kw) -> requests.Response:
        data = json.dumps(body) if not isinstance(body, (bytes, str)) else body
        return requests.post(self.url + "/invocations", data=data, headers={"Content-Type": content_type, **kw.pop("headers", {})},
                             timeout=30, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._file.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serving")
    store = f"sqlite:///{folder}/store.db"
    env = _env(store)
    env["AUTOTRACK_ARTIFACT_ROOT"] = str(folder / "artifacts")
    env["AUTOTRACK_SYNC_LOGGING"] = "1"
    procs = {kind: subprocess.Popen([sys.executable, str(HERE / "serving_models.py"), kind, str(folder / kind)],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
             for kind in ("autotrack", "mlflow")}
    out = {}
    for kind, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
        out[kind] = json.loads(stdout.strip().splitlines()[-1])
    out["store"], out["folder"], out["env"] = store, folder, env
    return out


@pytest.fixture(scope="module")
def servers(built):
    folder, env = built["folder"], built["env"]
    at = built["autotrack"]
    started = {
        "iris": Server(f"runs:/{at['run_id']}/model", folder / "iris.log", env, "--max-body-mb", "0.5"),
        "mixed": Server(at["mixed"], folder / "mixed.log", env, "--workers", "2"),
        "tensor": Server(at["tensor"], folder / "tensor.log", env),
        "mlflow": Server(built["mlflow"]["sklearn"], folder / "mlflow.log", env),
    }
    try:
        yield {name: s.wait() for name, s in started.items()}
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope="module")
def iris_model(built):
    from autotrack.tracking.client import TrackingClient

    local = TrackingClient(built["store"]).download_artifacts(built["autotrack"]["run_id"], "model", None)
    return autotrack.models.load_model(local)


def predictions(response: requests.Response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["predictions"]


# ---------------------------------------------------------------------- formats
def test_every_format_matches_direct_predict(servers, iris_model):
    iris = servers["iris"]
    expected = iris_model.predict(ROWS).tolist()
    records = ROWS.to_dict(orient="records")
    split = {"columns": COLUMNS, "data": ROWS.to_numpy().tolist()}
    assert predictions(iris.post({"dataframe_split": split})) == expected
    assert predictions(iris.post({"dataframe_split": dict(split, index=[7, 8, 9])})) == expected
    assert predictions(iris.post({"dataframe_records": records})) == expected
    assert predictions(iris.post({"instances": records})) == expected
    assert predictions(iris.post({"instances": ROWS.to_numpy().tolist()})) == expected  # by position
    assert predictions(iris.post({"inputs": {c: ROWS[c].tolist() for c in COLUMNS}})) == expected
    assert predictions(iris.post(ROWS.to_csv(index=False), "text/csv")) == expected
    assert predictions(iris.post(ROWS.to_csv(index=False), "text/csv; charset=utf-8")) == expected


def test_single_rows_take_the_fast_path_and_agree_with_the_general_one(servers, iris_model):
    iris = servers["iris"]
    for i in range(len(ROWS)):
        row = ROWS.iloc[[i]]
        expected = iris_model.predict(row).tolist()
        record = row.to_dict(orient="records")[0]
        assert predictions(iris.post({"dataframe_records": [record]})) == expected
        assert predictions(iris.post({"dataframe_split": {"columns": COLUMNS[::-1],
                                                          "data": [[record[c] for c in COLUMNS[::-1]]]}})) == expected
        # integers for double columns widen; the same answer
        ints = {c: int(round(v)) for c, v in record.items()}
        assert predictions(iris.post({"dataframe_records": [ints]})) == iris_model.predict(pd.DataFrame([ints])).tolist()


def test_every_scalar_type_and_json_number_widths(servers, built):
    mixed = servers["mixed"]
    model = autotrack.models.load_model(built["autotrack"]["mixed"])
    rows = [{"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "a", "f": 0.25},
            {"x": -1, "n": 2**40, "i": -7, "flag": False, "name": "b", "f": 3}]
    frame = pd.DataFrame(rows).astype({"i": "int32", "f": "float32"})
    expected = model.predict(frame).tolist()
    assert predictions(mixed.post({"dataframe_records": rows})) == expected
    assert predictions(mixed.post({"dataframe_records": rows[:1]})) == expected[:1]  # fast path
    assert predictions(mixed.post({"dataframe_split": {"columns": list(rows[0]), "data": [list(r.values()) for r in rows]}})) == expected
    assert predictions(mixed.post(frame.to_csv(index=False), "text/csv")) == expected


def test_tensor_model_inputs_and_instances(servers, built):
    tensor = servers["tensor"]
    data = [[1.0, 2.0, 3.5], [0.1, 0.2, 0.3]]
    model = autotrack.models.load_model(built["autotrack"]["tensor"])
    expected = model.predict(np.array(data, dtype="float32")).tolist()
    assert predictions(tensor.post({"inputs": data})) == pytest.approx(expected)
    assert predictions(tensor.post({"instances": data})) == pytest.approx(expected)
    wrong = tensor.post({"inputs": [[1, 2], [3, 4]]})
    assert wrong.status_code == 400 and "expected shape (-1, 3)" in wrong.json()["message"]
    text = tensor.post({"inputs": [["a", "b", "c"]]})
    assert text.status_code == 400 and "expected dtype float32" in text.json()["message"]


def test_params_are_accepted_and_must_be_an_object(servers, iris_model):
    iris = servers["iris"]
    record = ROWS.iloc[:1].to_dict(orient="records")
    assert predictions(iris.post({"dataframe_records": record, "params": {"k": 1}})) == iris_model.predict(ROWS.iloc[:1]).tolist()
    bad = iris.post({"dataframe_records": record, "params": [1]})
    assert bad.status_code == 400 and "'params' must be an object" in bad.json()["message"]


# ---------------------------------------------------------------------- errors
def test_enforcement_errors_name_column_expected_and_received(servers):
    mixed = servers["mixed"]
    good = {"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "a", "f": 0.5}
    cases = [
        (dict(good, x="high"), "column 'x': expected double, got string"),
        (dict(good, n=2.5), "column 'n': expected long, got double"),
        (dict(good, i=2**40), "column 'i': expected integer, got long"),
        (dict(good, flag=1), "column 'flag': expected boolean, got long"),
        (dict(good, name=5), "column 'name': expected string, got long"),
    ]
    for row, message in cases:
        for body in ({"dataframe_records": [row]}, {"dataframe_records": [row, row]}):  # fast path, general path
            r = mixed.post(body)
            assert r.status_code == 400, (row, r.text)
            assert r.json()["error_code"] == "BAD_REQUEST"
            assert message in r.json()["message"], r.json()["message"]
    missing = mixed.post({"dataframe_records": [{k: v for k, v in good.items() if k != "n"}]})
    assert missing.status_code == 400 and "missing required column(s) ['n']" in missing.json()["message"]
    # an extra column is dropped (as the model format does), not an error
    assert mixed.post({"dataframe_records": [dict(good, extra=1)]}).status_code == 200


@pytest.mark.parametrize("body, content_type, status, message", [
    (b'{"dataframe_records": [{"a": 1}', "application/json", 400, "not valid JSON"),
    (b"[1, 2]", "application/json", 400, "must be an object with one of the keys"),
    (b'{"rows": []}', "application/json", 400, "unknown key(s) ['rows']"),
    (b'{}', "application/json", 400, "no input key"),
    (b'{"inputs": [[1]], "instances": [[1]]}', "application/json", 400, "several input keys"),
    (b'{"dataframe_records": {"a": 1}}', "application/json", 400, "'dataframe_records' must be a JSON array of objects"),
    (b'{"dataframe_records": []}', "application/json", 400, "'dataframe_records' is empty"),
    (b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}', "application/json", 400,
     "row 1 has 1 values; expected 2"),
    (b'{"dataframe_split": {"cols": ["a"], "data": [[1]]}}', "application/json", 400, "unknown key(s) ['cols']"),
    (b'{"instances": [{"a": 1}, 2]}', "application/json", 400, "mixes objects and other values"),
    (b'{"inputs": [[1, 2], [3]]}', "application/json", 400, "not a rectangular array"),
    (b"", "text/csv", 400, "The CSV body is empty"),
    (b"a,b\n", "text/csv", 400, "no data rows"),
    (b"x", "text/plain", 415, "Content-Type 'text/plain' is not supported; accepted: application/json, text/csv"),
])
def test_malformed_bodies_are_400_naming_the_problem(servers, body, content_type, status, message):
    r = servers["iris"].post(body, content_type)
    assert r.status_code == status, r.text
    assert message in r.json()["message"], r.json()["message"]


def test_model_error_is_500_with_a_request_id_that_is_logged(servers):
    mixed = servers["mixed"]
    r = mixed.post({"dataframe_records": [{"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "boom", "f": 0.5}]})
    assert r.status_code == 500
    doc = r.json()
    assert doc["error_code"] == "INTERNAL_ERROR" and "the model refuses the name 'boom'" in doc["message"]
    assert r.headers["X-Request-ID"] == doc["request_id"] and len(doc["request_id"]) == 16
    given = mixed.post({"dataframe_records": [{"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "boom", "f": 0.5}]},
                       headers={"X-Request-ID": "trace-42"})
    assert given.json()["request_id"] == "trace-42"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = mixed.log.read_text()
        if "trace-42" in log:
            break
        time.sleep(0.1)
    assert f"request {doc['request_id']}: the model failed to predict" in log
    assert "ValueError: the model refuses the name 'boom'" in log
    assert "request trace-42" in log
    # the server keeps serving
    assert mixed.post({"dataframe_records": [{"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "a", "f": 0.5}]}).status_code == 200


def test_oversized_bodies_are_413_without_being_read(servers):
    iris = servers["iris"]  # started with --max-body-mb 0.5
    big = json.dumps({"dataframe_records": [ROWS.iloc[0].to_dict()] * 10000})
    assert len(big) > 0.5 * 1024 * 1024
    r = iris.post(big)
    assert r.status_code == 413 and "accepts at most 524288 bytes" in r.json()["message"]

    def chunks():  # no Content-Length: refused while streaming in
        for _ in range(64):
            yield b" " * 16384

    r = requests.post(iris.url + "/invocations", data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and "exceeds 524288 bytes" in r.json()["message"]
    assert predictions(iris.post({"dataframe_records": ROWS.iloc[:1].to_dict(orient="records")}))


def test_workers_are_separate_processes_each_with_the_model(servers):
    mixed = servers["mixed"]  # started with --workers 2
    log = mixed.log.read_text()
    pids = set(re.findall(r"Started server process \[(\d+)\]", log))
    assert len(pids) == 2 and str(mixed.proc.pid) not in pids, log
    row = {"x": 1.5, "n": 2, "i": 3, "flag": True, "name": "a", "f": 0.5}
    answers = [mixed.post({"dataframe_records": [row]}) for _ in range(20)]
    assert all(predictions(a) == [1.5 * 2 + 2 + 3 + 100 + 0.5] for a in answers)


# ---------------------------------------------------------------------- other endpoints
def test_ping_health_version(servers):
    iris = servers["iris"]
    assert requests.get(iris.url + "/ping", timeout=5).status_code == 200
    assert requests.get(iris.url + "/health", timeout=5).status_code == 200
    assert requests.get(iris.url + "/version", timeout=5).text == autotrack.__version__
    assert requests.post(iris.url + "/ping", timeout=5).status_code == 405


def test_metadata_has_flavors_signature_and_a_postable_example(servers, built):
    iris = servers["iris"]
    meta = requests.get(iris.url + "/metadata", timeout=5).json()
    assert meta["flavor"] == "sklearn"
    assert meta["flavors"]["sklearn"]["model_class"].endswith("RandomForestClassifier")
    assert meta["run_id"] == built["autotrack"]["run_id"] and meta["artifact_path"] == "model"
    assert [c["name"] for c in meta["signature"]["inputs"]] == COLUMNS
    assert meta["signature"]["inputs"][0]["type"] == "double"
    example = meta["input_example"]
    assert example["dataframe_split"]["columns"] == COLUMNS
    assert example["dataframe_split"]["data"] == IRIS_X.iloc[:3].to_numpy().tolist()
    assert len(predictions(iris.post(example))) == 3
    tensor_meta = requests.get(servers["tensor"].url + "/metadata", timeout=5).json()
    assert tensor_meta["input_example"] == {"inputs": [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}
    assert tensor_meta["signature"]["inputs"][0]["tensor-spec"] == {"dtype": "float32", "shape": [-1, 3]}


# ---------------------------------------------------------------------- MLflow models
def test_model_logged_by_mlflow_is_served(servers, built):
    mlflow_server = servers["mlflow"]
    folder = built["mlflow"]["sklearn"]
    assert "mlflow_version" in (Path(folder) / "MLmodel").read_text()
    model = autotrack.models.load_model(folder)
    assert model.metadata.flavors["sklearn"]["serialization_format"] == "skops"  # MLflow 3's default
    expected = model.predict(ROWS).tolist()
    assert predictions(mlflow_server.post({"dataframe_records": ROWS.to_dict(orient="records")})) == expected
    assert predictions(mlflow_server.post({"dataframe_records": ROWS.iloc[:1].to_dict(orient="records")})) == expected[:1]
    assert predictions(mlflow_server.post(ROWS.to_csv(index=False), "text/csv")) == expected
    meta = requests.get(mlflow_server.url + "/metadata", timeout=5).json()
    assert meta["saved_by"] == f"(MLflow {built['mlflow']['mlflow_version']})"
    assert meta["input_example"]["dataframe_split"]["columns"] == COLUMNS
    wrong = mlflow_server.post({"dataframe_records": [dict(ROWS.iloc[0].to_dict(), **{COLUMNS[0]: "x"})]})
    assert wrong.status_code == 400 and f"column {COLUMNS[0]!r}: expected double, got string" in wrong.json()["message"]


def test_mlflow_xgboost_model_reads_like_an_autotrack_one(built):
    import xgboost

    model = autotrack.models.load_model(built["mlflow"]["xgboost"])
    native = model.unwrap_python_model()
    assert isinstance(native, xgboost.XGBClassifier)
    np.testing.assert_array_equal(model.predict(ROWS), native.predict(ROWS))


# ---------------------------------------------------------------------- CLI predict
def _cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autotrack.cli", "models", *args], capture_output=True, text=True,
                          env=env or _env(), timeout=120)


def test_cli_predict_json_csv_and_output_file(built, tmp_path, iris_model):
    uri = f"runs:/{built['autotrack']['run_id']}/model"
    env = built["env"]
    expected = iris_model.predict(ROWS).tolist()
    (tmp_path / "in.json").write_text(json.dumps({"dataframe_split": {"columns": COLUMNS, "data": ROWS.to_numpy().tolist()}}))
    ROWS.to_csv(tmp_path / "in.csv", index=False)
    out = _cli("predict", "-m", uri, "-i", str(tmp_path / "in.json"), env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"predictions": expected}
    written = _cli("predict", "-m", uri, "-i", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.json"), env=env)
    assert written.returncode == 0, written.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"predictions": expected}


def test_cli_predict_errors(built, tmp_path):
    mixed = built["autotrack"]["mixed"]
    (tmp_path / "bad.json").write_text(json.dumps({"dataframe_records": [{"x": "a", "n": 1, "i": 1, "flag": True,
                                                                         "name": "a", "f": 1.0}]}))
    bad = _cli("predict", "-m", mixed, "-i", str(tmp_path / "bad.json"))
    assert bad.returncode == 1 and "column 'x': expected double, got string" in bad.stderr
    (tmp_path / "in.txt").write_text("{}")
    unknown = _cli("predict", "-m", mixed, "-i", str(tmp_path / "in.txt"))
    assert unknown.returncode == 2 and "accepted: .json, .csv" in unknown.stderr
    missing = _cli("predict", "-m", str(tmp_path / "nowhere"), "-i", str(tmp_path / "bad.json"))
    assert missing.returncode == 1 and "is not a model folder" in missing.stderr


def test_flavors_added_later_are_served_through_the_generic_loader(tmp_path):
    torch = pytest.importorskip("torch")
    import autotrack.pytorch

    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    X = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    autotrack.pytorch.save_model(net, tmp_path / "torch-model", input_example=X)
    (tmp_path / "in.json").write_text(json.dumps({"inputs": X.tolist()}))
    out = _cli("predict", "-m", str(tmp_path / "torch-model"), "-i", str(tmp_path / "in.json"))
    assert out.returncode == 0, out.stderr
    expected = net(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(json.loads(out.stdout)["predictions"], expected, rtol=1e-6)
