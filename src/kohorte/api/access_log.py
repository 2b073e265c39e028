"""kohorte's access line, one per request, written where the request is measured (metrics).

It records the route template, never the raw path's ids or the query string, which may carry a
key; the request id comes with it from the logging filter.
"""

import logging

from starlette.types import Scope

from kohorte.api.routes import UNMATCHED_ROUTE, route_template
from kohorte.logging_setup import masked_path

access_logger = logging.getLogger("kohorte.access")
# Quiet unless logging_setup gave it a level (`kohorte serve` configures logging before it
# imports the app, tests after): an application embedded in another server, or under test,
# keeps its host's access log and only what kohorte itself reports.
if access_logger.level == logging.NOTSET:
    access_logger.setLevel(logging.WARNING)


def logged_path(scope: Scope) -> str:
    """The route template; for a path no route knows, the path itself (masked, no query)."""
    template = route_template(scope)
    return masked_path(str(scope["path"])) if template == UNMATCHED_ROUTE else template


def log_access(scope: Scope, status: int, seconds: float) -> None:
    method, path, duration = str(scope["method"]), logged_path(scope), round(seconds * 1000, 3)
    fields = {"method": method, "path": path, "status": status, "duration_ms": duration}
    access_logger.info("%s %s %d %.3fms", method, path, status, duration, extra=fields)
