"""Product analytics events. Properties are ids and types only, so no payload can leak into them."""

from switchboard.analytics.events import AnalyticsPropertyError, emit

__all__ = ["AnalyticsPropertyError", "emit"]
