"""scikit-learn integration: the model flavor (``flavor``); autologging lives beside it. Imports no scikit-learn."""
