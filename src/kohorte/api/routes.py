"""The route template of a request (``/cohorts/{partner}/{cohort_id}``): what metrics label
and the access line record, never the raw path with its ids and tokens."""

from fastapi.routing import iter_route_contexts
from starlette.types import Scope

UNMATCHED_ROUTE = "<unmatched>"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path_format", UNMATCHED_ROUTE))
    # The router never ran (e.g. a body rejected by size first): find the template by path.
    return _template_by_path(scope.get("app"), scope["path"])


def _template_by_path(app: object, path: str) -> str:
    for route in iter_route_contexts(getattr(app, "routes", [])):
        if route.path_regex.match(path):
            return route.path_format or UNMATCHED_ROUTE
    return UNMATCHED_ROUTE
