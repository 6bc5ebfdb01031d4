"""Outbound messages: the public send API for every channel type, the send job, delivery receipts."""
