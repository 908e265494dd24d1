"""The PyTorch model flavor: save/log/load, the generic loader, signature and input example."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_helpers import mlp

import autotrack
import autotrack.pytorch
from autotrack.models import load_model as generic_load


def test_save_and_load_round_trip_with_signature_from_the_input_example(tmp_path):
    model = mlp()
    example = torch.randn(3, 4)
    info = autotrack.pytorch.save_model(model, tmp_path / "m", input_example=example)
    assert [s.shape for s in info.signature.inputs.inputs] == [(-1, 4)]
    assert [s.shape for s in info.signature.outputs.inputs] == [(-1, 1)]
    loaded = autotrack.pytorch.load_model(tmp_path / "m")
    assert isinstance(loaded, torch.nn.Sequential)
    assert torch.equal(loaded(example), model(example))
    generic = generic_load(tmp_path / "m")
    assert np.allclose(generic.predict(example.numpy()), model(example).detach().numpy())
    assert np.allclose(generic.input_example, example.numpy())
    from autotrack.integrations.pytorch.flavor import load_state_dict

    state = load_state_dict(tmp_path / "m")
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_a_class_the_standard_pickler_cannot_store_falls_back_to_cloudpickle(tmp_path):
    def make():
        class Local(torch.nn.Module):  # defined in a function: not importable by name
            def __init__(self):
                super().__init__()
                self.layer = torch.nn.Linear(2, 1)

            def forward(self, x):
                return self.layer(x)

        return Local()

    model = make()
    autotrack.pytorch.save_model(model, tmp_path / "m")
    from autotrack.models.metadata import ModelMetadata

    assert ModelMetadata.load(tmp_path / "m").flavors["pytorch"]["pickle_module"] == "cloudpickle"
    x = torch.randn(2, 2)
    assert torch.equal(autotrack.pytorch.load_model(tmp_path / "m")(x), model(x))


def test_log_model_into_the_active_run_does_not_count_as_a_checkpoint(client):
    autotrack.pytorch.autolog()
    model = mlp()
    with autotrack.start_run() as run:
        info = autotrack.pytorch.log_model(model, "model", input_example=torch.randn(2, 4))
    autotrack.flush()
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    assert client.list_artifacts(run.info.run_id, "checkpoints") == []
    x = torch.randn(5, 4)
    assert np.allclose(generic_load(info.model_uri).predict(x.numpy()), model(x).detach().numpy())


def test_an_object_that_is_no_module_is_refused_with_what_is_accepted(tmp_path):
    with pytest.raises(autotrack.exceptions.InvalidParameterError, match="torch.nn.Module"):
        autotrack.pytorch.save_model(object(), tmp_path / "m")
