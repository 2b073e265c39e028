"""Workspace API, authenticated by a workspace REST API key."""
