"""Helpers for the operations tests (CLI, readiness, migrations)."""

import socket


def closed_port() -> int:
    """A local TCP port that nothing listens on (bound once by us, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
