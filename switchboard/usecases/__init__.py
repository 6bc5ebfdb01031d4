"""Use cases (a channel bound to a setup), email reputation tiers and SES event ingestion."""
