"""XGBoost integration: the model flavor (``flavor``); autologging lives beside it. Imports no xgboost."""
