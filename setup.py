"""Build hook: built packages carry the Alembic history inside ``kohorte/migrations``.

The history lives at the top of the repository (``migrations/``) so that it reads like any
Alembic project; an installed kohorte has no repository around it, so wheels take a copy, and
``kohorte.store.migrate`` looks there first. Editable installs read the checkout directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class BuildPyWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        shutil.copytree(
            MIGRATIONS,
            Path(self.build_lib) / "kohorte" / "migrations",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )


setup(cmdclass={"build_py": BuildPyWithMigrations})
