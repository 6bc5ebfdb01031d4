"""Importing this module registers every job with the queue."""

from switchboard.core.queue import huey

__all__ = ["huey"]
