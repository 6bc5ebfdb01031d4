"""Voice: Twilio setups, their customer profiles, and phone numbers."""
