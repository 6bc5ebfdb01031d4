"""All ORM models, imported here so Alembic and relationships see one metadata."""

from switchboard.models.api_key import ApiKey
from switchboard.models.audit_log import AuditLog
from switchboard.models.base import Base
from switchboard.models.channel_account import ChannelAccount
from switchboard.models.membership import Membership
from switchboard.models.organization import Organization
from switchboard.models.user import User
from switchboard.models.vault_secret import VaultSecret
from switchboard.models.web_session import LoginAttempt, WebSession
from switchboard.models.workspace import Workspace

__all__ = [
    "ApiKey",
    "AuditLog",
    "Base",
    "ChannelAccount",
    "LoginAttempt",
    "Membership",
    "Organization",
    "User",
    "VaultSecret",
    "WebSession",
    "Workspace",
]
