"""Access: people and policy, the gated reader, the app factory, web UI, API and CLI."""
