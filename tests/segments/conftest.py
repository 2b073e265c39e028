"""Fixtures of the segment tests."""

import pytest

from tests.support import Api
from tests.support.segment_exports import World, world


@pytest.fixture
def found(api: Api) -> World:
    """The workspace of the segment export tests: u1..u3 in cohort "gold", u4 outside, a
    segment of gold."""
    return world(api)
