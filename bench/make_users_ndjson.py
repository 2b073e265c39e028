"""Write an NDJSON file of users for ``kohorte users import`` / ``POST /users/import``.

    python -m bench.make_users_ndjson 1000000 /tmp/users-1m.ndjson

Every user has an external id and attributes; every third an alias, every second a device;
every tenth line is an anonymous user known only by a device.
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
