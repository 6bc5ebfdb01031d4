"""OAuth 2.0 connection flows (Facebook Login, TikTok, LinkedIn) and WhatsApp Lite QR pairing."""
