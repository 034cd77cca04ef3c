"""The phase of an incident and the local-time text are defined once in the database
(0010_phase.sql); domain/phase.py and domain/clock.py must say exactly the same."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from domain import clock, phase

AT = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)


def _all(conn, query, params=()):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_state_table_is_the_python_definition(empty_conn):
    rows = _all(empty_conn, "SELECT state, phase FROM incident_state ORDER BY ord")
    assert rows == list(phase.STATE_PHASE.items())


def test_functions_agree_with_python_for_every_state(empty_conn):
    for state in (*phase.STATES, "nosuch"):
        got = _all(empty_conn, "SELECT incident_phase(%s), incident_is_open(%s)", (state, state))[0]
        assert got == (phase.phase(state), phase.is_open(state)), state


def test_the_state_machine_and_the_incident_check_know_no_other_state(empty_conn):
    used = {s for (s,) in _all(empty_conn, "SELECT from_state FROM incident_transition UNION "
                                           "SELECT to_state FROM incident_transition")}
    assert used == set(phase.STATES)
    (check,) = _all(empty_conn, """SELECT pg_get_constraintdef(oid) FROM pg_constraint
                                   WHERE conrelid = 'incident'::regclass AND contype = 'c'
                                     AND pg_get_constraintdef(oid) LIKE '%%state%%'""")[0]
    assert {s for s in phase.STATES if f"'{s}'" in check} == set(phase.STATES)


@pytest.mark.parametrize("delta", [timedelta(hours=-1), timedelta(0), timedelta(seconds=1)])
def test_overdue_agrees_with_python_at_the_deadline_and_either_side(empty_conn, delta):
    due = AT + delta
    for state in phase.STATES:
        (got,) = _all(empty_conn, "SELECT incident_is_overdue(%s, %s, %s)", (state, due, AT))[0]
        assert got == phase.is_overdue(state, due, AT), (state, delta)
        assert got == (state in phase.OPEN_STATES and due <= AT)


def test_every_state_has_its_words_in_both_catalogues():
    from i18n import words

    for lang in ("zh", "en"):
        assert set(words(lang)["states"]) == set(phase.STATES), lang


def test_open311_status_follows_the_phase():
    assert {s: phase.open311_status(s) for s in phase.STATES} == {
        s: "open" if p == "open" else "closed" for s, p in phase.STATE_PHASE.items()}


def test_filter_words_expand_to_states():
    assert phase.expand_states(["open"]) == phase.OPEN_STATES
    assert phase.expand_states(["closed", "resolved", "nosuch"]) == ("closed", "resolved", "nosuch")


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Asia/Kolkata", "America/New_York", "UTC", "Europe/Berlin",
                                "America/St_Johns"])
@pytest.mark.parametrize("at", [AT, AT.replace(month=1, microsecond=123400), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)])
def test_iso_local_in_sql_and_python_write_the_same_text(empty_conn, tz, at):
    (got,) = _all(empty_conn, "SELECT iso_local(%s, %s)", (at, tz))[0]
    assert got == clock.iso_local(at, tz)
    assert datetime.fromisoformat(got) == at


def test_local_formatting_uses_the_zone_given():
    assert clock.fmt_local("2026-06-15T06:19:00+00:00", "Asia/Shanghai") == "2026-06-15 14:19"
    assert clock.fmt_local(AT, "Asia/Kolkata", "%H:%M") == "21:30"
    assert clock.day_start(AT.date(), "Asia/Shanghai") == datetime(2026, 6, 14, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        clock.as_instant("2026-06-15T06:19:00")


def test_the_functions_are_inlined_and_the_open_indexes_serve_them(empty_conn):
    """Every query calls the functions, so they must cost what the inline lists cost: the planner
    inlines them (no function call in the plan) and the partial indexes on open incidents match."""
    plan = "\n".join(r[0] for r in _all(empty_conn, """EXPLAIN (VERBOSE) SELECT incident_phase(state),
        incident_is_overdue(state, due_at, now()) FROM incident"""))
    assert not any(f"{name}(" in plan for name in ("incident_phase", "incident_is_open", "incident_is_overdue"))
    assert "state = ANY" in plan
    with empty_conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
    plan = "\n".join(r[0] for r in _all(empty_conn, """EXPLAIN SELECT count(*) FROM incident
        WHERE region_code = '150623' AND incident_is_overdue(state, due_at, now())"""))
    # one of the partial indexes on open incidents (by deadline, or the covering one of 0041)
    assert re.search(r"Index (Only )?Scan using incident_open_(due|cover)_idx", plan), plan
