"""The pytest plugin kohorte ships (kohorte.testing), used as its users use it.

The first tests take the ``kohorte`` fixture directly (this project's ini names the example
seed); the last runs the README's example in a pytest of its own, as a user's project would.
"""

import re
import subprocess
import sys
from pathlib import Path

import httpx

from kohorte.testing import KohorteServer

REPO = Path(__file__).resolve().parents[2]


def remove_alice(kohorte: KohorteServer) -> httpx.Response:
    body = {
        "partner_api_key": kohorte.partner_api_key("amplitude"),
        "client_secret": kohorte.data_import_key("demo", "amplitude"),
        "cohort_id": "power-users",
        "cohort_changes": [{"user_ids": ["alice"], "should_remove": True}],
    }
    return httpx.post(f"{kohorte.base_url}/partners/amplitude/cohorts/users", json=body)


def cohort_size(kohorte: KohorteServer) -> int:
    headers = {"Authorization": f"Bearer {kohorte.rest_api_key('demo')}"}
    response = httpx.get(f"{kohorte.base_url}/cohorts/amplitude/power-users", headers=headers)
    size: int = response.raise_for_status().json()["size"]
    return size


def test_each_test_starts_from_the_seed(kohorte: KohorteServer) -> None:
    # Both tests change the store; whichever runs second sees the seed again.
    assert (cohort_size(kohorte), kohorte.journal()) == (2, [])
    assert remove_alice(kohorte).json()["removed"] == 1
    assert cohort_size(kohorte) == 1


def test_each_test_starts_from_the_seed_again(kohorte: KohorteServer) -> None:
    assert (cohort_size(kohorte), kohorte.journal()) == (2, [])
    assert remove_alice(kohorte).json()["removed"] == 1
    [entry] = kohorte.journal(cohort_id="power-users")
    assert entry["status"] == 201


def test_reset_inside_a_test_goes_back_to_the_seed(kohorte: KohorteServer) -> None:
    remove_alice(kohorte)
    kohorte.reset()
    assert cohort_size(kohorte) == 2


def test_the_seed_keys_are_read_from_the_file(kohorte: KohorteServer) -> None:
    assert kohorte.partner_api_key("amplitude") == "seed-partner-key-amplitude-0001"
    assert kohorte.rest_api_key("demo", "ci") == "seed-rest-key-demo-ci-0001"
    assert kohorte.data_import_key("demo", "amplitude") == "seed-data-import-key-demo-0001"


def test_the_readme_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- pytest-plugin -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md lacks the pytest-plugin example"
    (tmp_path / "test_sync.py").write_text(found.group(1), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # its own project
    seed = REPO / "examples" / "seed.yaml"
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"]
    command += [f"--kohorte-seed={seed}", "test_sync.py"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_removing_alice PASSED" in run.stdout, run.stdout
