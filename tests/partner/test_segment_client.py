"""A client shaped like Segment's Braze Cohorts destination, driven against kohorte.

What it does on the wire: it names the cohort (with the batch's event time as created_at)
before syncing, sends one object of adds (user_ids, device_ids and aliases always present,
often empty, no should_remove) and one of removes (should_remove: true), identifies each user by
external id if known, else device id, else alias, and keeps only the latest event per user.
Its credential check is an empty cohort_changes; without a configured partner key the key is
absent from the body. Membership must end as Braze would hold it.
"""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support import Api, Integration
from tests.support.partner import LIMIT_MESSAGE, message


@dataclass(frozen=True)
class Event:
    time: str
    entered: bool
    user_id: str | None = None
    device_id: str | None = None
    alias: tuple[str, str] | None = None  # (alias_label, alias_name)


class SegmentLikeClient:
    def __init__(self, api: Api, integration: Integration, partner_key: str | None) -> None:
        self.client = api.client
        self.base = f"/partners/{integration.partner.name}"
        self.credentials: dict[str, Any] = {"client_secret": integration.client_secret}
        if partner_key is not None:  # an unset key is dropped from the JSON body
            self.credentials["partner_api_key"] = partner_key

    def check_credentials(self) -> httpx.Response:
        body = {**self.credentials, "cohort_id": "will_add_in_constant", "cohort_changes": []}
        response: httpx.Response = self.client.post(f"{self.base}/cohorts/users", json=body)
        return response

    def sync(self, cohort_id: str, name: str, events: list[Event]) -> list[httpx.Response]:
        latest_first = sorted(events, key=lambda event: event.time, reverse=True)
        named = self.client.post(
            f"{self.base}/cohorts",
            json={
                **self.credentials,
                "name": name,
                "cohort_id": cohort_id,
                "created_at": latest_first[0].time,
            },
        )
        changes = self._changes(latest_first)
        if not changes:
            return [named]
        body = {**self.credentials, "cohort_id": cohort_id, "cohort_changes": changes}
        return [named, self.client.post(f"{self.base}/cohorts/users", json=body)]

    def _changes(self, latest_first: list[Event]) -> list[dict[str, Any]]:
        adds: dict[str, Any] = {"user_ids": [], "device_ids": [], "aliases": []}
        removes: dict[str, Any] = {
            "user_ids": [],
            "device_ids": [],
            "aliases": [],
            "should_remove": True,
        }
        seen: set[object] = set()
        for event in latest_first:
            kind, value = self._identity(event)
            if (kind, str(value)) in seen:
                continue
            seen.add((kind, str(value)))
            (adds if event.entered else removes)[kind].append(value)
        return [c for c in (adds, removes) if c["user_ids"] or c["device_ids"] or c["aliases"]]

    def _identity(self, event: Event) -> tuple[str, Any]:
        if event.user_id:
            return "user_ids", event.user_id
        if event.device_id:
            return "device_ids", event.device_id
        assert event.alias is not None
        return "aliases", {"alias_name": event.alias[1], "alias_label": event.alias[0]}


@pytest.fixture
def integration(api: Api) -> Integration:
    integration = api.integration(partner="segment")
    api.track(integration.workspace, "u1", "u2", "u3", "u4")
    api.add_devices(
        integration.workspace,
        [
            {"device_id": "anon-1"},
            {"device_id": "anon-2"},
            {"device_id": "u1-phone", "external_id": "u1"},
        ],
    )
    api.add_aliases(integration.workspace, [{"alias_name": "seg-7", "alias_label": "segment_id"}])
    return integration


def statuses(responses: list[httpx.Response]) -> list[int]:
    return [response.status_code for response in responses]


def members(api: Api, integration: Integration) -> set[str]:
    return {
        member["external_id"]
        or (member["devices"][0]["device_id"] if member["devices"] else None)
        or member["user_aliases"][0]["alias_name"]
        for member in api.cohort_members(integration, "audience-1")
    }


def test_a_segment_audience_ends_as_braze_would_hold_it(api: Api, integration: Integration) -> None:
    segment = SegmentLikeClient(api, integration, integration.partner.api_key)
    assert segment.check_credentials().status_code == 201
    first = [
        Event("2024-05-01T10:00:00.000Z", True, user_id="u1"),
        Event("2024-05-01T10:00:01.000Z", True, user_id="u2"),
        Event("2024-05-01T10:00:02.000Z", True, device_id="anon-1"),
        Event("2024-05-01T10:00:03.000Z", True, device_id="u1-phone"),
        Event("2024-05-01T10:00:04.000Z", True, alias=("segment_id", "seg-7")),
        Event("2024-05-01T10:00:05.000Z", True, user_id="not-in-braze"),
    ]
    assert statuses(segment.sync("audience-1", "power_users", first)) == [201, 201]
    assert members(api, integration) == {"u1", "u2", "anon-1", "seg-7"}
    second = [
        Event("2024-05-02T08:00:00.000Z", False, user_id="u1"),
        Event("2024-05-02T08:00:01.000Z", True, user_id="u3"),
        Event("2024-05-02T08:00:02.000Z", False, device_id="anon-1"),
        Event("2024-05-02T08:00:03.000Z", True, user_id="u2"),
        Event("2024-05-02T08:00:04.000Z", True, device_id="anon-2"),
    ]
    assert statuses(segment.sync("audience-1", "power_users", second)) == [201, 201]
    assert members(api, integration) == {"u2", "u3", "anon-2", "seg-7"}
    flapping = [
        Event("2024-05-03T08:00:00.000Z", True, user_id="u4"),
        Event("2024-05-03T08:00:09.000Z", False, user_id="u4"),
        Event("2024-05-03T08:00:10.000Z", False, alias=("segment_id", "seg-7")),
    ]
    assert statuses(segment.sync("audience-1", "power_users", flapping)) == [201, 201]
    assert members(api, integration) == {"u2", "u3", "anon-2"}
    cohort = api.cohort(integration, "audience-1")
    assert (cohort["name"], cohort["created_at"]) == ("power_users", "2024-05-01T10:00:05Z")
    assert cohort["size"] == 3


def test_without_a_partner_key_every_call_is_refused(api: Api, integration: Integration) -> None:
    segment = SegmentLikeClient(api, integration, partner_key=None)
    assert message(segment.check_credentials()) == "Invalid Partner API key"
    responses = segment.sync("audience-1", "a", [Event("2024-05-01T10:00:00Z", True, user_id="u1")])
    assert statuses(responses) == [401, 401]
    assert {message(response) for response in responses} == {"Invalid Partner API key"}


def test_a_wrong_client_secret_fails_the_credential_check(
    api: Api, integration: Integration
) -> None:
    segment = SegmentLikeClient(api, integration, integration.partner.api_key)
    segment.credentials["client_secret"] = "kdik_not-issued"
    response = segment.check_credentials()
    assert response.status_code == 401
    assert message(response) == "Invalid client secret"


def test_a_batch_over_1000_users_is_refused_whole(api: Api, integration: Integration) -> None:
    segment = SegmentLikeClient(api, integration, integration.partner.api_key)
    segment.sync("audience-1", "a", [Event("2024-05-01T10:00:00Z", True, user_id="u1")])
    huge = [Event(f"2024-05-02T10:00:00.{n:06d}Z", True, user_id=f"user-{n}") for n in range(1000)]
    huge.append(Event("2024-05-02T11:00:00Z", False, user_id="u1"))
    named, synced = segment.sync("audience-1", "a", huge)
    assert named.status_code == 201
    assert synced.status_code == 400
    assert message(synced) == LIMIT_MESSAGE
    assert members(api, integration) == {"u1"}
