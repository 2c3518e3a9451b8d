"""The case loop: the allowed table, refusals naming both states, and random walks through real storage."""
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.case.enums import CaseAction, CaseStatus, HandlingResult
from dispatch.case.models import Case
from dispatch.case.transitions import ALLOWED, next_status, transition
from dispatch.errors import InputError, TransitionRefused
from dispatch.intake import Outcome, submit_ticket
from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_in
from webapp.platform import build_platform

S, A = CaseStatus, CaseAction
FORWARD = [S.REPORTED, S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.HANDLED, S.VERIFIED, S.CLOSED]


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("action", list(CaseAction))
def test_every_pair_is_allowed_or_refused_naming_both_states(status: CaseStatus, action: CaseAction) -> None:
    if (status, action) in ALLOWED:
        assert next_status(status, action) == ALLOWED[(status, action)]
    else:
        with pytest.raises(TransitionRefused) as refused:
            next_status(status, action)
        assert f"'{status.value}'" in str(refused.value)
        assert f"{status.value} → " in str(refused.value)


def test_only_rework_goes_backwards_and_end_states_are_final() -> None:
    backwards = {(s, a) for (s, a), to in ALLOWED.items() if to in FORWARD and s in FORWARD
                 and FORWARD.index(to) < FORWARD.index(s)}
    assert backwards == {(S.HANDLED, A.RETURN), (S.CLOSED, A.REOPEN)}  # REOPEN: a dissatisfied caller's rework
    assert [pair for pair in ALLOWED if pair[0] in (S.CLOSED, S.REJECTED)] == [(S.CLOSED, A.REOPEN)]


def arguments(action: CaseAction) -> dict:
    if action in (A.REJECT, A.RETURN):
        return {"reason": "核查发现仍有摊点"}
    if action is A.HANDLE:  # not_found: the one result that needs no on-site photo (the walk uploads none)
        return {"result": HandlingResult.NOT_FOUND.value}
    return {}


@pytest.fixture(scope="module")
def sqlite_platform(tmp_path_factory):
    path: Path = tmp_path_factory.mktemp("walk") / "walk.sqlite3"
    # Every example opens its own case at the same place: merging is switched off.
    built = build_platform(make_settings(f"sqlite:///{path}", path.parent, dispatch={"merge_radius_m": 0}))
    yield built
    built.engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(list(CaseAction)), max_size=14), data=st.data())
def test_no_sequence_of_calls_reaches_an_illegal_state(sqlite_platform, actions, data) -> None:
    """Random calls on a stored case: refusals change nothing; the case only ever holds a legal history."""
    platform = sqlite_platform
    with platform.sessions() as session:
        lon, lat = DEMO_CENTRE_WGS84
        result = submit_ticket(session=session, ctx=platform.ctx, actor="test",
                               ticket_in=ticket_in(lon=lon, lat=lat, crs="wgs84", category="0507"), raw={})
        session.commit()
        assert result.outcome is Outcome.CREATED
        case = result.case
        now = dt.datetime(2026, 11, 18, 1, tzinfo=dt.timezone.utc)
        expected = S.REPORTED
        moves = 0
        for action in actions:
            now += dt.timedelta(minutes=data.draw(st.integers(1, 600)))
            kwargs = arguments(action) if data.draw(st.booleans()) else {}
            try:
                transition(session=session, case=case, action=action, actor="test", now=now,
                           calendar=platform.ctx.calendar, categories=platform.ctx.categories, **kwargs)
            except (TransitionRefused, InputError):
                session.rollback()
                needed_arguments = action in (A.REJECT, A.RETURN, A.HANDLE) and not kwargs
                needed_arguments |= action is A.REOPEN  # needs the caller's "dissatisfied", never given here
                assert (expected, action) not in ALLOWED or needed_arguments
                continue
            session.commit()
            assert (expected, action) in ALLOWED
            expected = ALLOWED[(expected, action)]
            moves += 1
        session.expire_all()
        stored = session.get(Case, case.id)
        assert stored.status == expected.value
        assert len(stored.events) == moves + 1  # "created" plus one row per move
        state = S.REPORTED
        for event in stored.events[1:]:  # each row continues from the last and is a move of the table
            assert event.from_status == state.value
            assert S(event.to_status) in {to for (frm, _), to in ALLOWED.items() if frm == state}
            state = S(event.to_status)
        assert (stored.registered_at is None) == (expected in (S.REPORTED, S.REJECTED))
        assert (stored.deadline_at is None) == (stored.registered_at is None)
        assert (stored.closed_at is not None) == (expected is S.CLOSED)
        assert (stored.handled_at is not None) == (expected in (S.HANDLED, S.VERIFIED, S.CLOSED))
        times = [e.at for e in stored.events[1:]]
        assert times == sorted(times)

