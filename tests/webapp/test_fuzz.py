"""The API fuzzed from its own OpenAPI document (schemathesis): whatever arrives, no 5xx."""
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

EXAMPLES_PER_OPERATION = 30


def test_no_input_makes_a_server_error(app, client) -> None:
    lon, lat = DEMO_CENTRE_WGS84  # some real rows, so routes that take ids reach past 404
    client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat))
    client.post("/api/tickets", json=ticket_payload(lon=None, lat=None))
    cookie = f"session={client.get_cookie('session').value}"
    # Writes carry the CSRF token as the pages send it, so they reach the handlers; logout would end the session.
    headers = {"Cookie": cookie, "X-CSRFToken": client.environ_base["HTTP_X_CSRFTOKEN"]}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/auth/logout":
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def call(case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r} → {response.status_code}")

        call()
    assert operations >= 20
    assert failures == []
