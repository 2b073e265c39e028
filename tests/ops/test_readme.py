"""README.md cannot drift: its walk-through runs here, request for request, and its commands exist.

The walk-through's curl lines are parsed (method, URL, headers, body), shell variables are
captured from responses as the README's ``$(... | python3 -c ...)`` lines do, ``.venv/bin/kohorte``
lines run the CLI, and every ``# => {...}`` line must be part of the response before it.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from kohorte.api.app import create_app
from kohorte.cli import app as cli_app
from kohorte.settings import Settings, get_settings
from kohorte.testing import free_port

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'"
CAPTURE = re.compile(r"^(\w+)=\$\((.*)\)$")
ASSIGNMENT = re.compile(r"^(\w+)=(.*)$")
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def marked_block(marker: str) -> list[str]:
    found = re.search(f"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, re.DOTALL)
    assert found, f"README.md lacks the <!-- {marker} --> block"
    return [line for line in found.group(1).splitlines() if not line.startswith("```")]


def walkthrough_steps() -> list[str]:
    steps: list[str] = []
    for line in marked_block("walkthrough"):
        if steps and steps[-1].endswith("\\"):
            steps[-1] = steps[-1][:-1] + line.strip()
        elif line.strip() and (not line.startswith("#") or line.startswith("# =>")):
            steps.append(line.strip())
    return steps


def is_part_of(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_part_of(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


@dataclass
class Shell:
    """Just enough of a shell to run the README's walk-through against the test client."""

    client: TestClient
    variables: dict[str, str] = field(default_factory=dict)
    last: Any = None

    def run(self, step: str) -> None:
        if step.startswith("# =>"):
            expected = json.loads(step.removeprefix("# =>"))
            assert is_part_of(expected, self.last), (step, self.last)
        elif captured := CAPTURE.match(step):
            self.variables[captured.group(1)] = self.capture(captured.group(2))
        elif assigned := ASSIGNMENT.match(step):
            [word] = shlex.split(assigned.group(2))
            self.variables[assigned.group(1)] = self.expand(word)
        else:
            self.last = self.curl(step).json()

    def expand(self, word: str) -> str:
        return VARIABLE.sub(lambda found: self.variables[found.group(1)], word)

    def capture(self, command: str) -> str:
        if command.startswith(".venv/bin/kohorte "):
            return self.kohorte(shlex.split(command)[1:])
        curl, _, extractor = command.partition(" | python3 -c ")
        value: Any = self.curl(curl).json()
        for key in re.findall(r'\["(\w+)"\]', extractor):
            value = value[key]
        return str(value)

    def kohorte(self, args: list[str]) -> str:
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout.strip()

    def curl(self, command: str) -> httpx.Response:
        words = [self.expand(word) for word in shlex.split(command)]
        assert words[0] == "curl", command
        request = parse_curl(words[1:])
        response: httpx.Response = self.client.request(**request)
        assert 200 <= response.status_code < 300, (command, response.status_code, response.text)
        return response


def parse_curl(words: list[str]) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "GET", "headers": {}}
    options = iter(words)
    for word in options:
        if word == "-s":
            continue
        if word == "-X":
            request["method"] = next(options)
        elif word == "-H":
            name, _, value = next(options).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word == "-d":
            request["content"] = next(options).encode()
            request["method"] = "POST" if request["method"] == "GET" else request["method"]
        else:
            assert not word.startswith("-"), f"unsupported curl option {word}"
            request["url"] = word
    return request


@pytest.fixture
def readme_shell(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shell]:
    # As after `kohorte serve` with no KOHORTE_ADMIN_TOKEN: the admin token is the stored one.
    monkeypatch.setenv("KOHORTE_DATABASE_URL", database_url)
    monkeypatch.delenv("KOHORTE_ADMIN_TOKEN", raising=False)
    get_settings.cache_clear()
    app = create_app(Settings(database_url=database_url, admin_token=None), engine)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield Shell(client)
    get_settings.cache_clear()


def test_walkthrough_runs_as_written(readme_shell: Shell) -> None:
    steps = walkthrough_steps()
    assert sum(step.startswith("# =>") for step in steps) >= 5
    members: list[Any] = []
    for step in steps:
        readme_shell.run(step)
        if step.startswith("curl") and "/power-users/users" in step:
            members = readme_shell.last["users"]
    assert sorted(user["external_id"] for user in members) == ["alice", "carol"]
    # The prose after the walk-through describes the export the last command printed.
    [alice] = readme_shell.last["users"]
    assert alice["devices"] == [{"device_id": "phone-42"}]
    assert alice["cohorts"] == [
        {"partner": "amplitude", "cohort_id": "power-users", "name": "Power users"}
    ]


def test_the_test_command_is_one_line_and_ci_runs_it() -> None:
    [command] = [line for line in marked_block("test-command") if line.strip()]
    assert command == f"{INSTALL} && .venv/bin/pytest"
    ci_script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci_script
    assert 'bash -c "$TEST_COMMAND"' in ci_script


def test_the_start_command_installs_only_what_serving_needs() -> None:
    # The test command adds [dev] to the same .venv; serving needs none of it.
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/kohorte serve\n" in README
    )


def test_every_command_in_the_cli_table_exists() -> None:
    rows = re.findall(r"^\| `kohorte ([^`]*)`", README, re.MULTILINE)
    assert len(rows) >= 10
    for row in rows:
        verbs = [word for word in row.split() if re.fullmatch(r"[a-z][a-z-]*", word)]
        result = CliRunner().invoke(cli_app, [*verbs[:2], "--help"])
        assert result.exit_code == 0, (row, result.output)
        assert "Usage" in result.output


def test_the_ci_recipe_runs_as_written() -> None:
    # As written, but on a free port and with this environment's kohorte.
    script = "\n".join(marked_block("ci-recipe")).replace("8000", str(free_port()))
    script = script.replace(".venv/bin/kohorte", str(Path(sys.executable).with_name("kohorte")))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOHORTE_")}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
