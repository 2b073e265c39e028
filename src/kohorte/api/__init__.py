"""The HTTP layer: FastAPI routers, request/response schemas, auth dependencies."""
