"""ASGI entry point for uvicorn and other servers: ``kohorte.api.main:app``."""

from kohorte.api.app import create_app, tune_garbage_collector

app = create_app()
tune_garbage_collector()
