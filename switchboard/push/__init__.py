"""Web Push: browser subscriptions, the service worker and snippet a tenant embeds, and sends."""
