"""Date-time query parameters: offsets Python accepts but PostgreSQL refuses are compared in
UTC, not passed on (they used to answer 500 on PostgreSQL)."""

import pytest

from tests.api.conftest import BASE


@pytest.mark.parametrize("param", ["received_after", "received_before", "updated_since"])
def test_a_far_offset_is_compared_in_utc(admin_api, param):
    response = admin_api.get(f"{BASE}/feedback/", {param: "1443-01-21T22:36:59+20:11"})
    assert response.status_code == 200


def test_a_date_time_that_leaves_the_calendar_in_utc_is_a_field_error(admin_api):
    response = admin_api.get(f"{BASE}/feedback/", {"received_after": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400 and "received_after" in response.json()["fields"]
