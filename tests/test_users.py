"""Accounts, passwords, lockout, tokens, jurisdiction, audit log and the users CLI, on real PostGIS."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from click.testing import CliRunner

from data.audit import audit
from data.users import (
    AccountDisabled,
    AccountLocked,
    Actor,
    BadCredentials,
    UserError,
    actor_for_token,
    authenticate,
    create_user,
    disable_user,
    hash_password,
    issue_token,
    revoke_tokens,
    set_password,
    verify_password,
)
from demo.users import DEMO_USERS, TOWN_LEADER_UNIT, create_demo_users

T0 = datetime(2026, 6, 15, 8, 0, tzinfo=timezone.utc)
OTHER_TOWN = "150623001"
PASSWORD = "correct horse battery"


def _name(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _cell_in(conn, town: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT min(code) FROM grid_unit WHERE level = 4 AND code LIKE %s", (town + "%",))
        return cur.fetchone()[0]


def _worker(conn) -> tuple[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT code, unit_code FROM grid_worker ORDER BY code DESC LIMIT 1")
        return cur.fetchone()


# -- passwords ------------------------------------------------------------------------------

def test_password_hash_format_and_round_trip():
    encoded = hash_password(PASSWORD)
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    assert len(base64.urlsafe_b64decode(digest + "=")) == 32
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD + "!", encoded)
    assert hash_password(PASSWORD) != encoded  # fresh salt every time


@pytest.mark.parametrize("bad", ["", "plain", "scrypt$1$2$3", "bcrypt$16384$8$1$AAAA$AAAA",
                                 "scrypt$x$8$1$AAAA$AAAA"])
def test_malformed_hashes_never_match(bad):
    assert not verify_password(PASSWORD, bad)


# -- login and lockout ----------------------------------------------------------------------

def test_login_returns_the_actor(demo_conn):
    name = _name()
    uid = create_user(demo_conn, name.upper(), PASSWORD, "dispatcher", "150623",
                      display_name="调度")
    actor = authenticate(demo_conn, f"  {name.upper()} ", PASSWORD, now=T0)
    assert actor == Actor(user_id=uid, username=name, role="dispatcher", unit_code="150623",
                          region_code="150623", display_name="调度")


def test_unknown_user_and_wrong_password_look_the_same(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "analyst", "150623")
    with pytest.raises(BadCredentials) as unknown:
        authenticate(demo_conn, _name("nobody"), PASSWORD, now=T0)
    with pytest.raises(BadCredentials) as wrong:
        authenticate(demo_conn, name, "not the password", now=T0)
    assert str(unknown.value) == str(wrong.value)


def test_five_failures_lock_the_account_for_fifteen_minutes(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "leader", "150623")
    for i in range(4):
        with pytest.raises(BadCredentials):
            authenticate(demo_conn, name, "wrong", now=T0 + timedelta(seconds=i))
    with pytest.raises(AccountLocked) as locked:
        authenticate(demo_conn, name, "wrong", now=T0 + timedelta(seconds=4))
    until = locked.value.until
    assert until == T0 + timedelta(seconds=4, minutes=15)
    # while locked even the right password is refused, and refusals do not extend the lock
    with pytest.raises(AccountLocked) as again:
        authenticate(demo_conn, name, PASSWORD, now=until - timedelta(seconds=1))
    assert again.value.until == until
    assert authenticate(demo_conn, name, PASSWORD, now=until).username == name


def test_a_successful_login_resets_the_failure_count(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "leader", "150623")
    for _round in range(2):
        for _ in range(4):
            with pytest.raises(BadCredentials):
                authenticate(demo_conn, name, "wrong", now=T0)
        authenticate(demo_conn, name, PASSWORD, now=T0)  # 8 failures in all, never 5 in a row


def test_disabled_account(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "analyst", "150623")
    token = issue_token(demo_conn, name, "phone", now=T0)
    assert disable_user(demo_conn, name) == 1
    with pytest.raises(AccountDisabled):
        authenticate(demo_conn, name, PASSWORD, now=T0)
    with pytest.raises(BadCredentials):  # disabled is only told to someone with the password
        authenticate(demo_conn, name, "wrong", now=T0)
    with pytest.raises(BadCredentials):
        actor_for_token(demo_conn, token, now=T0)
    with pytest.raises(UserError):
        disable_user(demo_conn, _name("nobody"))


def test_a_verified_password_costs_one_scrypt_and_a_change_or_disable_takes_effect_at_once(demo_conn, monkeypatch):
    import data.users as users
    calls = []
    real = users.hashlib.scrypt
    monkeypatch.setattr(users.hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    name = _name()
    create_user(demo_conn, name, PASSWORD, "analyst", "150623")
    calls.clear()
    for _ in range(5):  # an HTTP basic client: the password on every request
        assert authenticate(demo_conn, name, PASSWORD, now=T0).username == name
    assert len(calls) == 1
    with pytest.raises(BadCredentials):  # a wrong password is never remembered: it costs a scrypt each time
        authenticate(demo_conn, name, PASSWORD + "x", now=T0)
    assert len(calls) == 2
    set_password(demo_conn, name, PASSWORD + "-new")
    with pytest.raises(BadCredentials):  # the old password, verified a moment ago, no longer opens it
        authenticate(demo_conn, name, PASSWORD, now=T0)
    assert authenticate(demo_conn, name, PASSWORD + "-new", now=T0).username == name
    disable_user(demo_conn, name)
    with pytest.raises(AccountDisabled):
        authenticate(demo_conn, name, PASSWORD + "-new", now=T0)


# -- tokens ---------------------------------------------------------------------------------

def test_token_issue_use_revoke(demo_conn):
    name = _name()
    uid = create_user(demo_conn, name, PASSWORD, "dispatcher", "150623")
    token = issue_token(demo_conn, name, "field phone", now=T0)
    assert len(token) >= 43
    actor = actor_for_token(demo_conn, token, now=T0 + timedelta(hours=1))
    assert (actor.user_id, actor.username, actor.read_only) == (uid, name, False)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT token_sha256, last_used_at FROM api_token WHERE user_id = %s", (uid,))
        digest, used = cur.fetchone()
    assert token.encode() not in bytes(digest) and used == T0 + timedelta(hours=1)
    with pytest.raises(BadCredentials):
        actor_for_token(demo_conn, token + "x", now=T0)
    assert revoke_tokens(demo_conn, name) == 1
    with pytest.raises(BadCredentials):
        actor_for_token(demo_conn, token, now=T0)


def test_token_expiry_and_read_only(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "leader", "150623")
    token = issue_token(demo_conn, name, "wall kiosk", days=1, read_only=True, now=T0)
    assert actor_for_token(demo_conn, token, now=T0 + timedelta(hours=23)).read_only
    with pytest.raises(BadCredentials):
        actor_for_token(demo_conn, token, now=T0 + timedelta(days=1))
    with pytest.raises(UserError):
        issue_token(demo_conn, _name("nobody"), "x")


# -- jurisdiction ---------------------------------------------------------------------------

def test_covers_follows_the_grid_tree(demo_conn):
    cell = _cell_in(demo_conn, TOWN_LEADER_UNIT)
    other_cell = _cell_in(demo_conn, OTHER_TOWN)
    village, banner = cell[:12], Actor(1, "b", "leader", "150623", "150623")
    town = Actor(2, "t", "leader", TOWN_LEADER_UNIT, "150623")
    at_cell = Actor(3, "c", "worker", cell, "150623", worker_id=1)
    assert all(banner.covers(c) for c in ("150623", TOWN_LEADER_UNIT, village, cell, other_cell))
    assert town.covers(TOWN_LEADER_UNIT) and town.covers(village) and town.covers(cell)
    assert not town.covers("150623") and not town.covers(OTHER_TOWN) and not town.covers(other_cell)
    assert at_cell.covers(cell) and not at_cell.covers(village) and not at_cell.covers(other_cell)
    assert not banner.covers(None) and not banner.covers("") and not banner.covers("150624001")


def test_who_sees_people():
    seen = {r: Actor(1, "x", r, "150623", "150623").can_see_people
            for r in ("admin", "dispatcher", "leader", "analyst", "department", "worker")}
    assert seen == {"admin": True, "dispatcher": False, "leader": False, "analyst": False,
                    "department": False, "worker": True}


# -- creating accounts ----------------------------------------------------------------------

def test_worker_accounts_default_to_the_workers_cell(demo_conn):
    code, unit = _worker(demo_conn)
    name = _name()
    create_user(demo_conn, name, PASSWORD, "worker", worker_code=code)
    actor = authenticate(demo_conn, name, PASSWORD, now=T0)
    assert actor.unit_code == unit and actor.worker_id is not None and actor.covers(unit)


@pytest.mark.parametrize("kwargs, message", [
    (dict(role="boss", unit_code="150623"), "unknown role"),
    (dict(role="leader", unit_code="150623999"), "unknown grid unit"),
    (dict(role="leader", unit_code=None), "jurisdiction is required"),
    (dict(role="department", unit_code="150623", department_code="150623-nope"), "unknown department"),
    (dict(role="department", unit_code="150623"), "need --department"),
    (dict(role="worker", unit_code="150623"), "needs --worker"),
    (dict(role="worker", unit_code="150623", worker_code="no-such-worker"), "unknown grid worker"),
    (dict(role="leader", unit_code="150623", password="short"), "too short"),
])
def test_create_user_refusals_say_why(demo_conn, kwargs, message):
    kwargs = {"password": PASSWORD, **kwargs}
    with pytest.raises(UserError, match=message):
        create_user(demo_conn, _name(), kwargs.pop("password"), kwargs.pop("role"), **kwargs)


def test_duplicate_usernames_are_refused_and_the_transaction_survives(demo_conn):
    name = _name()
    create_user(demo_conn, name, PASSWORD, "analyst", "150623")
    with pytest.raises(UserError, match="taken"):
        create_user(demo_conn, name.upper(), PASSWORD, "analyst", "150623")
    assert authenticate(demo_conn, name, PASSWORD, now=T0).username == name
    with pytest.raises(UserError, match="username"):
        create_user(demo_conn, "bad name!", PASSWORD, "analyst", "150623")


# -- demo accounts --------------------------------------------------------------------------

def test_demo_has_one_account_per_role_and_a_town_leader(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT username, role, unit_code, worker_id IS NOT NULL, department_code "
                    "FROM app_user WHERE username LIKE 'demo-%%' ORDER BY username")
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    assert {r[0] for r in rows.values()} == {"admin", "dispatcher", "leader", "analyst", "department",
                                              "worker"}
    assert rows["demo-leader-shanghaimiao"][:2] == ("leader", TOWN_LEADER_UNIT)
    assert rows["demo-admin"][1] == "150623"
    assert rows["demo-worker"][2] and len(rows["demo-worker"][1]) == 15
    assert rows["demo-department"][3] == "150623-public_security"
    for username, password, role, _ in DEMO_USERS:
        assert authenticate(demo_conn, username, password, now=T0).role == role


def test_demo_accounts_are_reset_by_a_second_run(demo_conn):
    with pytest.raises(BadCredentials):
        authenticate(demo_conn, "demo-analyst", "wrong", now=T0)
    disable_user(demo_conn, "demo-admin")
    with demo_conn.cursor() as cur:
        create_demo_users(cur, "150623")
        cur.execute("SELECT count(*), bool_or(disabled), max(failed_logins) FROM app_user "
                    "WHERE username LIKE 'demo-%%'")
        assert cur.fetchone() == (len(DEMO_USERS), False, 0)
    assert authenticate(demo_conn, "demo-admin", "onemap-admin", now=T0).role == "admin"


# -- audit log ------------------------------------------------------------------------------

def test_audit_log_is_append_only(demo_dsn):
    conn = psycopg2.connect(demo_dsn)
    try:
        actor = Actor(42, "auditor-test", "admin", "150623", "150623")
        rid = audit(conn, actor, "export", "layer", "people", {"format": "gpkg"}, 120)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT username, action, object_id, detail, count FROM audit_log WHERE id = %s",
                        (rid,))
            assert cur.fetchone() == ("auditor-test", "export", "people", {"format": "gpkg"}, 120)
        for statement in ("UPDATE audit_log SET count = 0 WHERE id = %s",
                          "DELETE FROM audit_log WHERE id = %s", "TRUNCATE audit_log"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
                cur.execute(statement, (rid,))
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM audit_log WHERE id = %s", (rid,))
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()


def test_audit_without_an_actor_needs_a_region(demo_conn):
    with pytest.raises(ValueError):
        audit(demo_conn, None, "escalate")
    assert audit(demo_conn, None, "escalate", "incident", "x", region_code="150623") > 0


# -- the command line -----------------------------------------------------------------------

@pytest.fixture
def cli_env(demo_dsn, monkeypatch):
    """``onemap`` commands against the demo test database."""
    from app import cli

    monkeypatch.setenv("DATABASE_URL", demo_dsn)
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(cli, list(args), input=input, catch_exceptions=False)


def test_cli_add_list_token_disable(cli_env, demo_dsn):
    name = _name("cli")
    done = cli_env("users", "add", name, "--role", "leader", "--unit", TOWN_LEADER_UNIT,
                   "--name", "镇领导", "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    listed = cli_env("users", "list", "--region", "150623")
    line = next(x for x in listed.output.splitlines() if x.startswith(name))
    assert "leader" in line and TOWN_LEADER_UNIT in line and "active" in line
    issued = cli_env("users", "token", name, "--name", "phone", "--days", "30")
    assert issued.exit_code == 0
    token = issued.stdout.strip().splitlines()[-1]
    conn = psycopg2.connect(demo_dsn)
    try:
        assert actor_for_token(conn, token).unit_code == TOWN_LEADER_UNIT
        conn.commit()
        assert cli_env("users", "disable", name).exit_code == 0
        with pytest.raises(BadCredentials):
            actor_for_token(conn, token)
    finally:
        conn.close()


def test_cli_prompts_for_the_password_twice(cli_env):
    name = _name("cli")
    done = cli_env("users", "add", name, "--role", "analyst", "--unit", "150623",
                   input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("args, message", [
    (["--role", "leader", "--unit", "150623999"], "unknown grid unit"),
    (["--role", "department", "--unit", "150623", "--department", "nope"], "unknown department"),
    (["--role", "worker", "--worker", "nope"], "unknown grid worker"),
    (["--role", "chief", "--unit", "150623"], "Invalid value for '--role'"),
])
def test_cli_errors_are_messages_not_tracebacks(cli_env, args, message):
    done = cli_env("users", "add", _name("cli"), *args, "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code != 0 and message in done.output
    assert "Traceback" not in done.output


def test_cli_duplicate_and_unknown_users(cli_env):
    name = _name("cli")
    assert cli_env("users", "add", name, "--role", "analyst", "--unit", "150623", "--password-stdin",
                   input=PASSWORD + "\n").exit_code == 0
    again = cli_env("users", "add", name, "--role", "analyst", "--unit", "150623", "--password-stdin",
                    input=PASSWORD + "\n")
    assert again.exit_code == 1 and "taken" in again.output
    for args in (["disable", _name("nobody")], ["token", _name("nobody")]):
        done = cli_env("users", *args)
        assert done.exit_code == 1 and "unknown user" in done.output
