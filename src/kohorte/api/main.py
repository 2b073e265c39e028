"""ASGI entry point for uvicorn and other servers: ``kohorte.api.main:app``."""

from kohorte.api.app import create_app

app = create_app()
