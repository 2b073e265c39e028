"""Whatever JSON a client sends to the partner endpoints, the answer is never a 500."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import Api, Integration
from tests.support.partner import cohorts_path, users_path

# Lone surrogates and NUL included: clients can send both as JSON escapes.
texts = st.one_of(
    st.text(st.characters(blacklist_categories=()), max_size=12),
    st.sampled_from(["", " ", "u1", "\x00", "\ud800", "é" * 600, "2024-01-21T19:20:30Z"]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
aliases = st.lists(
    st.fixed_dictionaries({}, optional={"alias_name": texts | json_values, "alias_label": texts})
    | json_values,
    max_size=3,
)
change_objects = st.fixed_dictionaries(
    {},
    optional={
        "user_ids": st.lists(texts, max_size=4) | json_values,
        "device_ids": st.lists(texts, max_size=4) | json_values,
        "aliases": aliases | json_values,
        "should_remove": st.booleans() | json_values,
    },
)


def bodies(integration: Integration) -> st.SearchStrategy[Any]:
    fields = {
        "partner_api_key": st.just(integration.partner.api_key) | json_values,
        "client_secret": st.just(integration.client_secret) | json_values,
        "cohort_id": texts | json_values,
        "cohort_changes": st.lists(change_objects, max_size=4) | json_values,
        "name": texts | json_values,
        "created_at": texts | json_values,
    }
    # With valid credentials and mostly plausible fields, so the deeper checks are reached.
    plausible = {
        "cohort_id": st.just("c1") | texts,
        "cohort_changes": st.lists(change_objects, max_size=4) | json_values,
        "name": st.just("n") | texts,
        "created_at": st.just("2024-01-21T19:20:30Z") | texts | json_values,
    }
    credentials = st.fixed_dictionaries(
        {key: st.just(value) for key, value in integration.credentials.items()}, optional=plausible
    )
    return st.one_of(
        credentials, credentials, st.fixed_dictionaries({}, optional=fields), json_values
    )


def test_random_bodies_never_cause_a_server_error(api: Api) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1")

    @settings(max_examples=150, deadline=None)
    @given(body=bodies(integration), to_users=st.booleans())
    def post_random_body(body: Any, to_users: bool) -> None:
        path = users_path(integration) if to_users else cohorts_path(integration)
        response = api.client.post(
            path, content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert response.status_code in {201, 400, 401}, (response.status_code, response.text)
        assert isinstance(response.json()["message"], str)

    post_random_body()
