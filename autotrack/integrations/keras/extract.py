"""What the Keras integration reads from a ``fit`` call, a model and its callbacks.

Everything here is read-only on the user's objects. Keras (and numpy) are imported inside the
functions: this module is loaded only once Keras is, but the names stay cheap to import in tests.
Backend-neutral: tensors are converted with ``keras.ops.convert_to_numpy``, never a ``tf.*`` call.
"""

from __future__ import annotations

import inspect
import math
import types
from collections.abc import Mapping
from typing import Any

#: ``fit`` arguments logged as params, in this order (the data, callbacks and verbosity are not params)
FIT_PARAMS = ("epochs", "batch_size", "steps_per_epoch", "validation_split", "validation_steps",
              "validation_batch_size", "validation_freq", "shuffle", "class_weight", "initial_epoch")
#: ``EarlyStopping`` attributes logged as params (MLflow's names)
EARLY_STOPPING_PARAMS = ("monitor", "min_delta", "patience", "baseline", "restore_best_weights")
#: rows of the input example saved with an autologged model
EXAMPLE_ROWS = 5


def bind_arguments(signature: inspect.Signature, args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The user's ``fit`` arguments by name, defaults filled in (``self`` excluded).

    ``signature`` is the original ``fit``'s, with ``self``; ``args`` exclude the instance."""
    bound = signature.bind_partial(None, *args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    values.pop(next(iter(signature.parameters)), None)  # self
    return values


def param_value(value: Any) -> Any:
    """A param as text-able value: containers as compact text, numpy scalars as Python ones."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{param_value(k)!r}: {param_value(v)!r}" for k, v in value.items()) + "}"
    return str(value)


def _dataset_batch_size(dataset: Any) -> int | None:
    """The batch size of a ``tf.data`` pipeline: a batching stage's own size, else the static first
    dimension of its elements. Reads attributes only: the pipeline is not iterated."""
    node, seen = dataset, 0
    while node is not None and seen < 50:
        size = getattr(node, "_batch_size", None)
        if size is not None:
            try:
                from keras import ops

                return int(ops.convert_to_numpy(size))
            except Exception:  # noqa: BLE001 - not a batching stage after all
                return None
        node, seen = getattr(node, "_input_dataset", None), seen + 1
    spec = getattr(dataset, "element_spec", None)
    first = spec[0] if isinstance(spec, tuple) and spec else spec
    shape = getattr(first, "shape", None)
    try:
        return int(shape[0]) if shape is not None and len(shape) and shape[0] is not None else None
    except (TypeError, ValueError):
        return None


def is_tf_dataset(x: Any) -> bool:
    """A ``tf.data.Dataset``, recognised without importing TensorFlow."""
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "element_spec")


def _leading_length(batch: Any) -> int | None:
    """Rows in a batch ``x`` or ``(x, y[, w])``: the first dimension of its first array."""
    if isinstance(batch, tuple) and batch:
        batch = batch[0]
    if isinstance(batch, Mapping):
        batch = next(iter(batch.values()), None)
    elif isinstance(batch, (list, tuple)) and batch:
        batch = batch[0]
    shape = getattr(batch, "shape", None)
    try:
        return int(shape[0]) if shape is not None and len(shape) else None
    except (TypeError, ValueError):
        return None


def batch_size(x: Any, given: Any, peeked: Any = None) -> int | None:
    """The batch size ``fit`` trains with: as given; Keras's default 32 for arrays; else read from a
    ``tf.data`` pipeline, a ``PyDataset``/``Sequence`` (its first batch), a loader's ``batch_size``, or
    the first batch of a generator (``peeked``). None where it cannot be known."""
    if given is not None:
        return param_value(given)
    if peeked is not None:
        return _leading_length(peeked)
    if is_tf_dataset(x):
        return _dataset_batch_size(x)
    size = getattr(x, "batch_size", None)
    if isinstance(size, int) and not isinstance(size, bool):
        return size  # torch DataLoader, grain and many user loaders
    import keras

    if isinstance(x, keras.utils.PyDataset):
        try:
            return _leading_length(x[0])
        except Exception:  # noqa: BLE001 - a dataset that cannot be indexed here
            return None
    if isinstance(x, types.GeneratorType) or x is None:
        return None
    return 32  # arrays, tensors, DataFrames, dicts/lists of arrays: Keras batches them by 32


def fit_params(arguments: Mapping[str, Any], derived_batch_size: int | None) -> dict[str, Any]:
    """Params of one ``fit``: its arguments in :data:`FIT_PARAMS` (None values left out)."""
    params: dict[str, Any] = {}
    for name in FIT_PARAMS:
        value = derived_batch_size if name == "batch_size" else arguments.get(name)
        if value is not None:
            params[name] = param_value(value)
    return params


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and "class_name" in value and "config" in value:
        # a serialized object such as a learning-rate schedule: its class, then its config
        out[prefix] = value["class_name"]
        for key, item in (value.get("config") or {}).items():
            if key != "name":
                _flatten(f"{prefix}_{key}", item, out)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}_{key}", item, out)
    else:
        out[prefix] = param_value(value)


def optimizer_params(optimizer: Any) -> dict[str, Any]:
    """``optimizer_name`` (the class) and ``optimizer_<key>`` for each entry of its config; a
    learning-rate schedule as ``optimizer_learning_rate=<class>`` plus ``optimizer_learning_rate_<key>``."""
    if optimizer is None:
        return {}
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    try:
        config = optimizer.get_config()
    except Exception:  # noqa: BLE001 - a custom optimizer without a config
        return params
    for key, value in config.items():
        if key == "name":
            continue  # optimizer_name is the class, as MLflow logs it
        _flatten(f"optimizer_{key}", value, params)
    return params


def loss_name(loss: Any) -> str | None:
    """The name of what ``compile(loss=...)`` was given: a string as is, a ``Loss`` by its name, a
    function by its name; per-output losses as ``name, name`` or ``output: name`` pairs."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Mapping):
        return ", ".join(f"{k}: {loss_name(v)}" for k, v in loss.items())
    if isinstance(loss, (list, tuple)):
        return ", ".join(str(loss_name(v)) for v in loss)
    name = getattr(loss, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(loss, "__name__", None) or type(loss).__name__


def model_size(model: Any) -> dict[str, int]:
    """``total_params`` and ``trainable_params`` of a built model (empty when not built yet)."""
    if not getattr(model, "built", False):
        return {}
    total = trainable = 0
    for weight in model.weights:
        total += math.prod(weight.shape)
    for weight in model.trainable_weights:
        trainable += math.prod(weight.shape)
    return {"total_params": int(total), "trainable_params": int(trainable)}


def model_params(model: Any) -> dict[str, Any]:
    """Optimizer, loss and size params of a compiled model."""
    params = optimizer_params(getattr(model, "optimizer", None))
    name = loss_name(getattr(model, "loss", None))
    if name is not None:
        params["loss"] = name
    params.update(model_size(model))
    return params


def early_stopping_callback(callbacks: Any) -> Any:
    """The first ``keras.callbacks.EarlyStopping`` among the user's callbacks, or None."""
    import keras

    if not isinstance(callbacks, (list, tuple)):
        return None
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping):
            return callback
    return None


def early_stopping_params(callback: Any) -> dict[str, Any]:
    return {name: param_value(getattr(callback, name, None)) for name in EARLY_STOPPING_PARAMS
            if getattr(callback, name, None) is not None}


def early_stopping_metrics(callback: Any) -> dict[str, int]:
    """``stopped_epoch`` when the callback stopped training, and ``restored_epoch`` when it restored
    the best weights into the model (MLflow's names and meaning: 0-based epoch indices)."""
    metrics: dict[str, int] = {}
    stopped = getattr(callback, "stopped_epoch", 0)
    if stopped:
        metrics["stopped_epoch"] = int(stopped)
    # Keras 3 restores the best weights at the end of training whenever it kept them, stopped early or not.
    if getattr(callback, "restore_best_weights", False) and getattr(callback, "best_weights", None) is not None:
        metrics["restored_epoch"] = int(getattr(callback, "best_epoch", 0))
    return metrics


def model_summary(model: Any) -> str:
    """The text of ``model.summary()``."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- input examples
def _head(value: Any, rows: int) -> Any:
    """The first ``rows`` rows of an array-like as numpy (dicts and lists element-wise)."""
    import numpy as np

    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): _head(v, rows) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_head(v, rows) for v in value]
    if hasattr(value, "iloc"):  # pandas: Keras trains on its values
        return np.asarray(value.iloc[:rows].to_numpy())
    if isinstance(value, np.ndarray):
        return value[:rows]
    from keras import ops

    return np.asarray(ops.convert_to_numpy(value[:rows]))


def _features(batch: Any) -> Any:
    """``x`` of a batch ``(x, y[, w])`` or ``x``."""
    if isinstance(batch, tuple) and 1 <= len(batch) <= 3:
        return batch[0]
    return batch


def first_batch_features(x: Any, peeked: Any = None) -> Any:
    """The features of the first training batch (or of the data itself, for arrays)."""
    if peeked is not None:
        return _features(peeked)
    if is_tf_dataset(x):
        for element in x.take(1):
            return _features(element)
        return None
    import keras

    if isinstance(x, keras.utils.PyDataset):
        return _features(x[0])
    if isinstance(x, types.GeneratorType) or x is None or hasattr(x, "batch_size") and hasattr(x, "dataset"):
        return None  # a consumed generator, or a torch DataLoader: not iterated on the user's behalf
    return x


def input_example(model: Any, features: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """A small input example: numpy for a single input, a dict by input name for several."""
    import numpy as np

    head = _head(features, rows)
    if isinstance(head, list):
        names = _input_names(model)
        if len(head) == 1:
            return head[0]
        if names is None or len(names) != len(head):
            names = [f"input_{i}" for i in range(len(head))]
        return {name: np.asarray(v) for name, v in zip(names, head)}
    if isinstance(head, dict):
        return {k: np.asarray(v) for k, v in head.items()}
    return head


def _input_names(model: Any) -> list[str] | None:
    inputs = getattr(model, "inputs", None)
    try:
        return [t.name.split(":")[0] for t in inputs] if inputs else None
    except Exception:  # noqa: BLE001 - a subclassed model has no symbolic inputs
        return None


def as_model_input(example: Any) -> Any:
    """An example as the model takes it (dict keys named ``input_<i>`` back into a list)."""
    if isinstance(example, dict) and example and all(k.startswith("input_") and k[6:].isdigit() for k in example):
        return [example[f"input_{i}"] for i in range(len(example))]
    return example


def outputs_as_numpy(model: Any, outputs: Any) -> Any:
    """Model outputs as numpy: a single array, or a dict by output name for several."""
    import numpy as np
    from keras import ops

    if isinstance(outputs, Mapping):
        return {str(k): np.asarray(ops.convert_to_numpy(v)) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        arrays = [np.asarray(ops.convert_to_numpy(v)) for v in outputs]
        if len(arrays) == 1:
            return arrays[0]
        names = getattr(model, "output_names", None)
        if not names or len(names) != len(arrays):
            names = [f"output_{i}" for i in range(len(arrays))]
        return dict(zip(names, arrays))
    return np.asarray(ops.convert_to_numpy(outputs))


def predict_eager(model: Any, data: Any) -> Any:
    """``model(data)`` in inference mode, as numpy: for small inputs this skips tracing the
    ``predict`` function, which costs far more than the call itself."""
    return outputs_as_numpy(model, model(as_model_input(data), training=False))


def symbolic_output_schema(model: Any) -> Any:
    """The output schema of a functional or Sequential model from its symbolic outputs (no call),
    or None for a subclassed model or outputs with unknown inner dimensions."""
    from autotrack.types import Schema, TensorSpec

    try:
        outputs = list(model.outputs or ())
    except Exception:  # noqa: BLE001 - subclassed models have no symbolic outputs
        return None
    if not outputs or any(d is None for t in outputs for d in tuple(t.shape)[1:]):
        return None
    names = getattr(model, "output_names", None)
    if len(outputs) == 1:
        names = [None]
    elif not names or len(names) != len(outputs):
        names = [f"output_{i}" for i in range(len(outputs))]
    return Schema([TensorSpec(str(t.dtype), (-1, *tuple(t.shape)[1:]), name) for t, name in zip(outputs, names)])
