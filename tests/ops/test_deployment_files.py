"""The compose file, the image and the license: what an operator deploys from this repository."""

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^[\w./-]+:\d+(\.\d+)+(-[\w.-]+)?$")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))
    return loaded


def test_compose_holds_no_database_password() -> None:
    text = (REPO / "docker-compose.yml").read_text("utf-8")
    postgres = compose()["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"].startswith("${KOHORTE_DB_PASSWORD:?")
    assert "kohorte:kohorte@" not in text
    assert "KOHORTE_DB_PASSWORD=" in (REPO / ".env.example").read_text("utf-8")
    assert ".env" in (REPO / ".gitignore").read_text("utf-8").split()


def test_every_service_restarts_on_failure() -> None:
    for service in compose()["services"].values():
        assert service["restart"] == "on-failure"


def test_the_app_health_checks_are_readiness() -> None:
    assert "/readyz" in " ".join(compose()["services"]["app"]["healthcheck"]["test"])
    assert "8000/readyz" in (REPO / "Dockerfile").read_text("utf-8")


def test_base_images_are_pinned_to_a_version() -> None:
    images = [service["image"] for service in compose()["services"].values() if "image" in service]
    dockerfile = (REPO / "Dockerfile").read_text("utf-8")
    images += re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert images
    for image in images:
        assert PINNED.match(image), image


def test_the_license_file_matches_the_project_metadata() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    license_text = (REPO / "LICENSE").read_text("utf-8")
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text
