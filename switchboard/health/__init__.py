"""Channel health: provider error classification, connection status, the connection log."""
