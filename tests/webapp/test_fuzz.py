"""The API fuzzed from its own OpenAPI document (schemathesis), on SQLite and PostgreSQL: whatever arrives, one
request at a time or in sequences that feed one answer's ids into the next request, no 5xx."""
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

EXAMPLES_PER_OPERATION = 30
SEQUENCES = 40  # stateful: scenarios, each up to STEPS calls
STEPS = 8


def signed_in_headers(client) -> dict[str, str]:
    """Some real rows, so routes that take ids reach past 404; the dispatcher's session cookie, and the CSRF token
    the pages send with writes, so that writes reach the handlers."""
    lon, lat = DEMO_CENTRE_WGS84
    client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat))
    client.post("/api/tickets", json=ticket_payload(lon=None, lat=None))
    return {"Cookie": f"session={client.get_cookie('session').value}",
            "X-CSRFToken": client.environ_base["HTTP_X_CSRFTOKEN"]}


def test_no_input_makes_a_server_error(app, client) -> None:
    headers = signed_in_headers(client)
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


def test_no_sequence_of_calls_makes_a_server_error(app, client) -> None:
    """Schemathesis' state machine: links it infers between operations (a created ticket's id into /locate, a case's
    into /transitions, /split, /evidence, ...) chain calls, so later steps act on rows earlier steps made."""
    headers = signed_in_headers(client)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    calls: list[str] = []

    class SignedInSequences(schema.as_state_machine()):
        def get_call_kwargs(self, case) -> dict:
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            calls.append(f"{case.method} {case.operation.path}")
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r} → {response.status_code}")

    SignedInSequences.run(settings=settings(max_examples=SEQUENCES, stateful_step_count=STEPS, deadline=None,
                                            suppress_health_check=list(HealthCheck), database=None))
    assert len(set(calls)) >= 10  # the sequences reached many operations, not one
    assert failures == []
