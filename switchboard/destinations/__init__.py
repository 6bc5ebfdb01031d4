"""Destinations of agent-managed channels: knowledge bases and the agents that answer from them."""
