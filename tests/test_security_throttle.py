"""Throttling that cannot be turned against the owner, and every failed login audited.

Requests come from chosen loopback addresses (127.0.x.y) to the served app, so "the attacker"
and "the victim" are different client addresses as the server sees them. Each test uses its own
addresses and fresh accounts: the shared database keeps failures for the window.
"""
from __future__ import annotations

import itertools
import uuid

import pytest

from data.users import ACCOUNT_FAILURES, ADDRESS_FAILURES, MAX_FAILURES, create_user, issue_token
from db.core import connect
from tests.conftest import scalar
from tests.security_http import Client, basic, bearer

PASSWORD = "a long enough password"
_octets = itertools.count(10)


def _address() -> str:
    """A loopback address no other test here uses."""
    n = next(_octets)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"


@pytest.fixture
def victim(demo_dsn):
    name = f"thr-{uuid.uuid4().hex[:8]}"
    conn = connect(demo_dsn)
    create_user(conn, name, PASSWORD, "analyst", "150623")
    conn.commit()
    conn.close()
    return name


def _failures(dsn: str, username: str | None = None, path: str | None = None) -> int:
    return scalar(dsn, "SELECT count(*) FROM audit_log WHERE action = 'login_failed' "
                       "AND (%(u)s::text IS NULL OR detail->>'username' = %(u)s) "
                       "AND (%(p)s::text IS NULL OR detail->>'path' = %(p)s)", {"u": username, "p": path})


def test_anonymous_basic_auth_cannot_lock_the_owner_out(demo_server, demo_dsn, victim):
    attacker, owner = Client(demo_server, _address()), Client(demo_server, _address())
    for _ in range(MAX_FAILURES - 1):
        assert attacker.get("/ogc", headers=basic(victim, "guess")).status == 401
    assert attacker.get("/ogc", headers=basic(victim, "guess")).status == 429  # the failure that locks
    refused = attacker.get("/ogc", headers=basic(victim, PASSWORD))  # even the right one, from there
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert owner.get("/ogc", headers=basic(victim, PASSWORD)).status == 200
    assert owner.login(victim, PASSWORD).status == 303
    assert _failures(demo_dsn, victim, "basic") == MAX_FAILURES


def test_form_lockout_is_per_account_and_address(demo_server, demo_dsn, victim):
    attacker, owner = Client(demo_server, _address()), Client(demo_server, _address())
    for _ in range(MAX_FAILURES - 1):
        assert attacker.login(victim, "guess").status == 401
    locked = attacker.login(victim, "guess")
    assert locked.status == 429 and "已锁定" in locked.text
    assert attacker.login(victim, PASSWORD).status == 429
    before = _failures(demo_dsn, victim)
    for _ in range(5):  # refusals while throttled are neither counted nor extend the lock
        assert attacker.login(victim, "guess").status == 429
    assert _failures(demo_dsn, victim) == before == MAX_FAILURES
    assert owner.login(victim, PASSWORD).status == 303


def test_one_address_guessing_many_accounts_is_throttled(demo_server, demo_dsn, victim):
    guesser, owner = Client(demo_server, _address()), Client(demo_server, _address())
    for i in range(ADDRESS_FAILURES - 1):
        assert guesser.get("/ogc", headers=basic(f"nobody-{i}-{victim}", "guess")).status == 401
    assert guesser.get("/ogc", headers=basic(f"nobody-{victim}", "guess")).status == 429
    assert guesser.get("/ogc", headers=basic(victim, PASSWORD)).status == 429
    assert guesser.login(victim, PASSWORD).status == 429
    assert owner.get("/ogc", headers=basic(victim, PASSWORD)).status == 200


@pytest.mark.parametrize("usual", ["form", "basic"])
def test_a_botnet_cannot_lock_the_owner_out_of_their_usual_machine(demo_server, demo_dsn, victim, usual):
    home = Client(demo_server, _address())
    if usual == "form":  # the owner's usual machine: a browser, or QGIS with basic auth
        assert home.login(victim, PASSWORD).status == 303
    else:
        assert home.get("/ogc", headers=basic(victim, PASSWORD)).status == 200
    for _ in range(ACCOUNT_FAILURES - 1):  # one guess each from many addresses
        assert Client(demo_server, _address()).get("/ogc", headers=basic(victim, "guess")).status == 401
    assert Client(demo_server, _address()).get("/ogc", headers=basic(victim, "guess")).status == 429
    stranger = Client(demo_server, _address())
    assert stranger.get("/ogc", headers=basic(victim, PASSWORD)).status == 429
    assert Client(demo_server, home.address).login(victim, PASSWORD).status == 303
    assert Client(demo_server, home.address).get("/ogc", headers=basic(victim, PASSWORD)).status == 200


def test_every_failed_login_path_is_audited(demo_server, demo_dsn, victim):
    client = Client(demo_server, _address())
    before = {p: _failures(demo_dsn, path=p) for p in ("form", "basic", "bearer", "api_key", "kiosk")}
    assert client.login(victim, "guess").status == 401
    assert client.get("/ogc", headers=basic(victim, "guess")).status == 401
    assert client.get("/api/v1/me", headers=bearer("no-such-token")).status == 401
    assert client.get("/ogc", headers=bearer("no-such-token")).status == 401
    assert client.get("/open311/v2/requests.json?api_key=no-such-key").status == 401
    assert client.get("/kiosk?token=no-such-token").status == 401
    after = {p: _failures(demo_dsn, path=p) for p in before}
    assert {p: after[p] - before[p] for p in before} == {"form": 1, "basic": 1, "bearer": 2, "api_key": 1,
                                                          "kiosk": 1}
    row = scalar(demo_dsn, "SELECT detail FROM audit_log WHERE action = 'login_failed' AND detail->>'path' = 'form' "
                           "AND detail->>'username' = %s ORDER BY id DESC LIMIT 1", (victim,))
    assert row["address"] == client.address and row["reason"] == "wrong_password"


def test_junk_credentials_are_refused_not_crashed(demo_server, demo_dsn):
    client = Client(demo_server, _address())
    for headers in (basic("nul\x00name", "x"), basic("\ud800".encode("utf-8", "surrogatepass").decode("latin-1"), "x"),
                    {"Authorization": "Basic ####"}, {"Authorization": "Bearer "}, basic("a" * 5000, "b" * 5000)):
        assert client.get("/ogc", headers=headers).status in (400, 401), headers


def test_a_token_flood_is_throttled_per_address(demo_server, demo_dsn):
    from data.users import TOKEN_ADDRESS_FAILURES

    flooder, other = Client(demo_server, _address()), Client(demo_server, _address())
    conn = connect(demo_dsn)
    good = issue_token(conn, "demo-analyst", "flood-test")
    conn.commit()
    conn.close()
    for _ in range(TOKEN_ADDRESS_FAILURES):  # a token miss is refused before it is recorded: the
        assert flooder.get("/api/v1/me", headers=bearer("wrong")).status == 401  # limit-th still says 401
    assert flooder.get("/api/v1/me", headers=bearer("wrong")).status == 429
    assert flooder.get("/api/v1/me", headers=bearer(good)).status == 200  # a real token still works
    assert other.get("/api/v1/me", headers=bearer("wrong")).status == 401


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(demo_dsn, victim, proxies):
    """Behind ONEMAP_TRUSTED_PROXIES proxies a failed login is recorded (and throttled) under the
    client's own address from X-Forwarded-For; with none the header is anyone's to forge, and ignored."""
    from app import Settings, create_app

    app = create_app(Settings(dsn=demo_dsn, trusted_proxies=proxies))
    forged = f"198.51.100.{proxies + 10}"
    client = app.test_client()
    r = client.get("/ogc", headers={**basic(victim, "guess"), "X-Forwarded-For": forged},
                   environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert r.status_code == 401
    seen = scalar(demo_dsn, "SELECT detail->>'address' FROM audit_log WHERE action = 'login_failed' "
                            "AND detail->>'username' = %(u)s ORDER BY id DESC LIMIT 1", {"u": victim})
    assert seen == (forged if proxies else "127.0.0.1")
