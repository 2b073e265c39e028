"""Write an NDJSON file of users for ``kohorte users import`` / ``POST /users/import``.

    python -m bench.make_users_ndjson 1000000 /tmp/users-1m.ndjson

Every user has an external id and attributes; every third an alias, every second a device;
every tenth line is an anonymous user known only by a device.

``mixed_user_line`` is the shape of the partner sync and user import benchmarks instead: of
``count`` users, the first 80% identified (``user-<n>``), the rest anonymous with one device
(``device-<n>``), the first 30% with an alias (label ``bench``, name ``alias-<n>``).
"""

import argparse
import json
from pathlib import Path
from typing import Any


def user_line(index: int) -> dict[str, Any]:
    if index % 10 == 9:
        return {"device_ids": [f"anon-device-{index}"], "attributes": {"seen": index % 7}}
    line: dict[str, Any] = {
        "external_id": f"user-{index:08d}",
        "attributes": {"plan": ["free", "pro", "team"][index % 3], "score": index % 1000},
    }
    if index % 3 == 0:
        line["user_aliases"] = [{"alias_label": "crm", "alias_name": f"crm-{index}"}]
    if index % 2 == 0:
        line["device_ids"] = [f"device-{index}"]
    return line


def mixed_user_line(n: int, count: int) -> dict[str, Any]:
    """User n of count (from 1), as bench.partner_sync seeds them, with a few attributes."""
    line: dict[str, Any] = {
        "attributes": {"plan": ["free", "pro", "team"][n % 3], "score": n % 1000}
    }
    if n <= count * 8 // 10:
        line["external_id"] = f"user-{n}"
    else:
        line["device_ids"] = [f"device-{n}"]
    if n <= count * 3 // 10:
        line["user_aliases"] = [{"alias_label": "bench", "alias_name": f"alias-{n}"}]
    return line


def write_users(count: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            out.write(json.dumps(user_line(index), separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("path", type=Path)
    arguments = parser.parse_args()
    write_users(arguments.count, arguments.path)


if __name__ == "__main__":
    main()
