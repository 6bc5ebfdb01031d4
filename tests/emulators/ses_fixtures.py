"""pytest fixtures for the SES v2 emulator.

Use from a test module (or a conftest) with::

    from tests.emulators.ses_fixtures import aws_test_env, ses_emulator  # noqa: F401

``ses_emulator`` yields the running :class:`SesEmulator`; its ``url`` is the
endpoint to give boto3 / ``SWITCHBOARD_SES_ENDPOINT_URL`` and its ``tenants``,
``identities``, ``configuration_sets``, ``pools`` and ``requests`` show state.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.ses import SesEmulator

TEST_REGION = "us-east-1"
TEST_ACCESS_KEY_ID = "testing"
TEST_SECRET_ACCESS_KEY = "testing"

# Anything that could route boto3 to a real account or a profile of this machine.
_LEAKY_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SESV2",
    "MOTO_ACCOUNT_ID",
)


@pytest.fixture(scope="session")
def aws_test_env() -> Iterator[None]:
    """Dummy credentials and no metadata service, so nothing reaches a real AWS account."""
    with pytest.MonkeyPatch.context() as mp:
        for name in _LEAKY_AWS_VARS:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        mp.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
        mp.setenv("AWS_DEFAULT_REGION", TEST_REGION)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        yield


@pytest.fixture(scope="session")
def ses_emulator(aws_test_env: None) -> Iterator[SesEmulator]:
    """A running SES v2 emulator on 127.0.0.1 (free port), shared by the session."""
    with SesEmulator() as emulator:
        yield emulator
