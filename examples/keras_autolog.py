"""Keras autologging: a small classifier with validation and early stopping, no logging code.

``autotrack.keras.autolog()`` records the fit's parameters, every epoch's metrics (equal to
``History.history``), the early-stopping fields, the model summary and the model itself (``.keras``
with its signature), and keeps a checkpoint of each improving epoch. The script then reads the run
back and prints the recorded epochs and the best one. Runs on the embedded default store
(``autotrack-runs/`` in the current folder); ``tf.keras`` users call ``autotrack.tensorflow.autolog()``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow's start-up banner

import numpy as np  # noqa: E402

import autotrack  # noqa: E402
import autotrack.keras  # noqa: E402

autotrack.set_experiment("keras-autolog")
autotrack.keras.autolog(checkpoint=True)  # checkpoints of the best val_loss so far, uploaded in the background

import keras  # noqa: E402

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
X = rng.normal(size=(1200, 10)).astype("float32")
y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=1200) > 0).astype("int32")

model = keras.Sequential([
    keras.Input((10,)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(2),
])
model.compile(optimizer=keras.optimizers.Adam(0.02),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
history = model.fit(X, y, validation_split=0.25, epochs=40, batch_size=64, callbacks=[stop], verbose=0)

# ---- read back what was recorded
autotrack.flush()
run = autotrack.last_active_run()
client = autotrack.TrackingClient()
run = client.get_run(run.info.run_id)
val_loss = client.get_metric_history(run.info.run_id, "val_loss")
epochs = [m.step for m in val_loss]
best = min(val_loss, key=lambda m: m.value)
print(f"run {run.info.run_id}: {len(epochs)} epochs recorded (steps {epochs[0]}..{epochs[-1]}), "
      f"equal to History: {[m.value for m in val_loss] == history.history['val_loss']}")
print(f"params: epochs={run.data.params['epochs']} batch_size={run.data.params['batch_size']} "
      f"optimizer={run.data.params['optimizer_name']} lr={float(run.data.params['optimizer_learning_rate']):g} "
      f"patience={run.data.params['patience']}")
stopped = run.data.metrics.get("stopped_epoch")
print(f"early stopping: stopped_epoch={int(stopped) if stopped is not None else 'not triggered'}, "
      f"restored_epoch={int(run.data.metrics['restored_epoch'])}")
print(f"best epoch: {best.step} (val_loss={best.value:.4f})")
checkpoints = autotrack.keras.list_checkpoints(run.info.run_id)
print(f"checkpoints: {[c['epoch'] for c in checkpoints]}; the latest resumes with "
      f"autotrack.keras.load_checkpoint({run.info.run_id!r})")
print(f"model: runs:/{run.info.run_id}/model")
