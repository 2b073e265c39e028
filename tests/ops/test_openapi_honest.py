"""The OpenAPI document and /docs tell the truth: no 422, the one error body, offline assets."""

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.api.app import create_app
from kohorte.settings import Settings

Operation = dict[str, Any]
ERROR_REF = "#/components/schemas/ErrorBody"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(params=[False, True], ids=["plain", "control-api"])
def documented(
    request: pytest.FixtureRequest, settings: Settings, engine: Engine
) -> Iterator[TestClient]:
    """With the control API on too, so that its operations are judged as well."""
    app = create_app(settings.model_copy(update={"control_api": request.param}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        yield client


def operations(client: TestClient) -> list[tuple[str, Operation]]:
    paths: dict[str, dict[str, Operation]] = client.get("/openapi.json").json()["paths"]
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
        if method in HTTP_METHODS
    ]


def needs_credentials(operation: Operation) -> bool:
    return bool(operation.get("security")) or "401" in operation["responses"]


def test_no_operation_documents_a_422(documented: TestClient) -> None:
    assert [name for name, op in operations(documented) if "422" in op["responses"]] == []
    schemas = documented.get("/openapi.json").json()["components"]["schemas"]
    assert {"HTTPValidationError", "ValidationError"} & set(schemas) == set()


def test_every_error_response_has_the_error_body(documented: TestClient) -> None:
    wrong = [
        f"{name} {status}"
        for name, operation in operations(documented)
        for status, response in operation["responses"].items()
        if status[0] in "45" and not _error_body(response)
    ]
    assert wrong == []


def _error_body(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == ERROR_REF)


def test_the_error_body_is_a_message_and_optional_errors(documented: TestClient) -> None:
    body = documented.get("/openapi.json").json()["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["message"]
    assert body["properties"]["message"]["type"] == "string"
    assert "errors" in body["properties"]


def test_every_operation_has_a_summary(documented: TestClient) -> None:
    missing = [name for name, op in operations(documented) if not op.get("summary", "").strip()]
    assert missing == []


def test_operations_with_credentials_list_401_429_and_503(documented: TestClient) -> None:
    secured = [(name, op) for name, op in operations(documented) if needs_credentials(op)]
    assert len(secured) > 30
    lacking = [
        f"{name} {status}"
        for name, operation in secured
        for status in ("401", "429", "503")
        if status not in operation["responses"]
    ]
    assert lacking == []


def test_bodies_list_400_and_413_and_path_ids_404(documented: TestClient) -> None:
    lacking = []
    for name, operation in operations(documented):
        expected = {"400", "413"} if _has_limited_body(name, operation) else set()
        expected |= {"404"} if "{" in name else set()
        lacking += [f"{name} {status}" for status in expected - set(operation["responses"])]
    assert lacking == []


def _has_limited_body(name: str, operation: Operation) -> bool:
    # Streaming NDJSON imports are exempt from the 4 MB limit.
    return "requestBody" in operation and name != "POST /users/import"


def test_partner_operations_list_429(documented: TestClient) -> None:
    partner = [(name, op) for name, op in operations(documented) if "/partners/" in name]
    assert partner
    assert [name for name, op in partner if "429" not in op["responses"]] == []


# --- /docs ---------------------------------------------------------------------------------


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def docs_references(client: TestClient) -> list[str]:
    page = client.get("/docs")
    assert page.status_code == 200
    parser = _References()
    parser.feed(page.text)
    # Swagger UI is told where the document is in the inline script, not in an attribute.
    return parser.urls + re.findall(r"url: '([^']+)'", page.text)


def test_docs_reference_nothing_outside_kohorte(client: TestClient) -> None:
    urls = docs_references(client)
    assert len(urls) >= 3  # script, style, favicon (and the document)
    outside = [url for url in urls if urlsplit(url).netloc not in {"", "kohorte.test"}]
    assert outside == []
    assert not re.search(r"https?://(?!kohorte\.test)", client.get("/docs").text)


def test_every_asset_the_docs_name_is_served(client: TestClient) -> None:
    for url in docs_references(client):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content, url


def test_docs_serve_swagger_ui_itself(client: TestClient) -> None:
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    assert "text/css" in client.get("/docs-assets/swagger-ui.css").headers["content-type"]


def test_the_served_swagger_ui_renders_openapi_3_1(client: TestClient) -> None:
    # Swagger UI 4 shows "Unable to render this definition" for the 3.1 document FastAPI makes.
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert "isOAS31" in client.get("/docs-assets/swagger-ui-bundle.js").text


def test_redoc_is_off(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
