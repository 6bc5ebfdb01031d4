"""Importing this module registers every job with the queue."""

from switchboard.core.queue import huey
from switchboard.email import tasks as email_tasks  # noqa: F401 - registers jobs
from switchboard.notifications import tasks as notification_tasks  # noqa: F401 - registers jobs
from switchboard.oauth import tasks as oauth_tasks  # noqa: F401 - registers jobs
from switchboard.onboarding import tasks as onboarding_tasks  # noqa: F401 - registers jobs
from switchboard.sms import tasks as sms_tasks  # noqa: F401 - registers jobs
from switchboard.tenancy import tasks as tenancy_tasks  # noqa: F401 - registers jobs
from switchboard.usecases import tasks as usecase_tasks  # noqa: F401 - registers jobs
from switchboard.voice import tasks as voice_tasks  # noqa: F401 - registers jobs

__all__ = ["huey"]
