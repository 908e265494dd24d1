"""Tracking: entities, validation, the logging pipeline, the client and the fluent API."""
