"""A vendor's own partner API key, registered instead of a generated one."""

from tests.support import ADMIN_HEADERS, Api, Integration, PartnerHandle

VENDOR_KEY = "vendor-issued-key-0123456789"


def _create(api: Api, body: dict[str, str], status: int) -> dict[str, str]:
    result: dict[str, str] = api.expect(
        api.client.post("/admin/partners", json=body, headers=ADMIN_HEADERS), status
    )
    return result


def _add_key(api: Api, partner: str, body: dict[str, str] | None, status: int) -> dict[str, str]:
    response = api.client.post(
        f"/admin/partners/{partner}/api-keys", json=body, headers=ADMIN_HEADERS
    )
    result: dict[str, str] = api.expect(response, status)
    return result


def _vendor_integration(api: Api, name: str, key: str) -> Integration:
    workspace = api.create_workspace()
    secret = api.create_data_import_key(workspace, name)
    return Integration(workspace, PartnerHandle(name, key), secret)


def test_a_partner_created_with_a_vendor_key_syncs_with_it(api: Api) -> None:
    created = _create(api, {"name": "amplitude", "partner_api_key": VENDOR_KEY}, 201)
    assert created["partner_api_key"] == VENDOR_KEY
    integration = _vendor_integration(api, "amplitude", VENDOR_KEY)
    api.track(integration.workspace, "alice")
    assert api.synced(integration, "c1", {"user_ids": ["alice"]})["added"] == 1


def test_an_added_vendor_key_works_beside_the_generated_one(api: Api) -> None:
    generated = api.partner("mixpanel")
    issued = _add_key(api, "mixpanel", {"partner_api_key": VENDOR_KEY}, 201)
    assert issued["partner_api_key"] == VENDOR_KEY
    for key in (VENDOR_KEY, generated.api_key):
        assert api.synced(_vendor_integration(api, "mixpanel", key), "c1")["added"] == 0


def test_an_added_key_without_a_body_is_generated(api: Api) -> None:
    api.partner("mixpanel")
    assert _add_key(api, "mixpanel", None, 201)["partner_api_key"].startswith("kpart_")


def test_a_vendor_key_registered_twice_is_a_conflict(api: Api) -> None:
    _create(api, {"name": "amplitude", "partner_api_key": VENDOR_KEY}, 201)
    refused = _create(api, {"name": "mixpanel", "partner_api_key": VENDOR_KEY}, 409)
    assert refused["message"] == "partner_api_key is already registered"
    _add_key(api, "amplitude", {"partner_api_key": VENDOR_KEY}, 409)
    listed = api.client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"]
    assert [(p["name"], len(p["api_keys"])) for p in listed] == [("amplitude", 1)]


def test_a_short_vendor_key_is_refused_naming_the_rule(api: Api) -> None:
    short = {"name": "amplitude", "partner_api_key": "x" * 15}
    assert "at least 16 characters" in _create(api, short, 400)["message"]
    api.partner("mixpanel")
    refused = _add_key(api, "mixpanel", {"partner_api_key": "y" * 15}, 400)
    assert refused["message"] == "partner_api_key must be at least 16 characters"
    listed = api.client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"]
    assert [(p["name"], len(p["api_keys"])) for p in listed] == [("mixpanel", 1)]


def test_a_non_string_vendor_key_is_a_bad_request(api: Api) -> None:
    _create(api, {"name": "amplitude", "partner_api_key": 12345678901234567}, 400)  # type: ignore[dict-item]


def test_the_listing_shows_no_key_material(api: Api) -> None:
    _create(api, {"name": "amplitude", "partner_api_key": VENDOR_KEY}, 201)
    response = api.client.get("/admin/partners", headers=ADMIN_HEADERS)
    assert VENDOR_KEY not in response.text
    assert VENDOR_KEY[8:] not in response.text
    [key] = response.json()["partners"][0]["api_keys"]
    assert VENDOR_KEY.startswith(key["prefix"])
    assert len(key["prefix"]) < 8
