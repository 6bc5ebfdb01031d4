"""All ORM models, imported here so Alembic and relationships see one metadata."""

from switchboard.models.agent import Agent
from switchboard.models.analytics_event import AnalyticsEvent
from switchboard.models.api_key import ApiKey
from switchboard.models.audit_log import AuditLog
from switchboard.models.base import Base
from switchboard.models.channel_account import ChannelAccount
from switchboard.models.channel_health import ChannelHealth
from switchboard.models.connection_attempt import ConnectionAttempt
from switchboard.models.email_event import EmailEvent
from switchboard.models.inbound_message import InboundMessage
from switchboard.models.knowledge_base import KnowledgeBase
from switchboard.models.link_click import LinkClick
from switchboard.models.membership import Membership
from switchboard.models.notification import Notification
from switchboard.models.oauth_state import OAuthState
from switchboard.models.onboarding_request import OnboardingRequest
from switchboard.models.onboarding_revision import OnboardingRevision
from switchboard.models.organization import Organization
from switchboard.models.outbound_message import OutboundMessage
from switchboard.models.outlet import Outlet
from switchboard.models.outlet_sender import OutletSender
from switchboard.models.phone_number import PhoneNumber
from switchboard.models.provisioning_step import ProvisioningStep
from switchboard.models.push_subscription import PushSubscription
from switchboard.models.ses_setup import SesSetup
from switchboard.models.short_link import ShortLink
from switchboard.models.sms_connection import SmsConnection
from switchboard.models.sms_message import SmsMessage
from switchboard.models.sms_verification import SmsVerification
from switchboard.models.tier_change import TierChange
from switchboard.models.twilio_setup import TwilioSetup
from switchboard.models.use_case import UseCase
from switchboard.models.user import User
from switchboard.models.vault_secret import VaultSecret
from switchboard.models.web_session import LoginAttempt, WebSession
from switchboard.models.webhook_event import WebhookEvent
from switchboard.models.workspace import Workspace

__all__ = [
    "Agent",
    "AnalyticsEvent",
    "ApiKey",
    "AuditLog",
    "Base",
    "ChannelAccount",
    "ChannelHealth",
    "ConnectionAttempt",
    "EmailEvent",
    "InboundMessage",
    "KnowledgeBase",
    "LinkClick",
    "LoginAttempt",
    "Membership",
    "Notification",
    "OAuthState",
    "OnboardingRequest",
    "OnboardingRevision",
    "Organization",
    "OutboundMessage",
    "Outlet",
    "OutletSender",
    "PhoneNumber",
    "ProvisioningStep",
    "PushSubscription",
    "SesSetup",
    "ShortLink",
    "SmsConnection",
    "SmsMessage",
    "SmsVerification",
    "TierChange",
    "TwilioSetup",
    "UseCase",
    "User",
    "VaultSecret",
    "WebSession",
    "WebhookEvent",
    "Workspace",
]
