"""Inbound provider webhooks: verify, persist raw, answer fast; parse in a job."""
