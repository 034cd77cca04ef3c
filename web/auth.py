"""Authentication for the Flask server: sessions for browsers, bearer tokens for apps, CSRF.

``install_auth(server, dsn)`` once in ``create_app``; then ``current_actor()`` anywhere in a
request, and ``@require_actor(roles=...)`` on JSON views. Every route needs a logged-in actor
unless it is listed in ``PUBLIC_PATHS``/``PUBLIC_PREFIXES`` (deny by default, so a new Dash
route or layer endpoint is protected without anyone remembering to).

Sessions are held by the server (``user_session``, migration 0013): the signed cookie carries a
random session id and the CSRF token, nothing else. Every request looks the id up, so logout,
a password change (``/account/password`` or ``onemap users passwd``) and ``onemap users
disable`` end a session at once, saved copies of the cookie included; ``stream_guard()`` lets a
live stream notice within seconds. Sessions end after 12 h unused and 7 days after login.

Failed logins on every path (form, HTTP basic on /ogc, bearer token, Open311 api_key, kiosk
token) go through ``password_actor``/``token_actor``: audited, and throttled per (account,
address), per address and per account (``data.users``), so an anonymous caller cannot lock an
account's owner out of their own machine; a throttled caller gets 429 before any password hash
is computed.

Cookies: the session cookie is signed (Flask), HttpOnly and SameSite=Strict, and Secure unless
the request's host is this machine (127.0.0.1/localhost/::1), where browsers accept plain HTTP.
``ONEMAP_COOKIE_SECURE=1``/``0`` overrides that guess; behind a TLS-terminating proxy keep it
at 1. The signing key comes from ``ONEMAP_SECRET_KEY`` or ``var/secret_key`` (created 0600).

CSRF: SameSite=Strict already keeps the session cookie off cross-site requests; as a second
line (old browsers, sibling subdomains) every cookie-authenticated POST/PUT/PATCH/DELETE must
send the session's token in ``X-CSRFToken``. The token is also in the ``_csrf_token`` cookie,
readable by scripts, which is where Dash's renderer reads it from (``getCSRFHeader`` in
dash-renderer, default cookie ``_csrf_token`` and header ``X-CSRFToken``). The login form
carries it in a hidden field. Bearer-token requests are exempt: browsers never add that header
by themselves.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, current_app, g, jsonify, redirect, render_template_string, request, session
from flask.sessions import SecureCookieSessionInterface

from config import Settings
from data.audit import audit
from data.stats import region_timezone_of as region_timezone
from data.users import (
    MAX_FAILURES,
    MIN_PASSWORD,
    ROLES,
    AccountDisabled,
    AccountLocked,
    Actor,
    AuthError,
    BadCredentials,
    UserError,
    actor_for_session,
    actor_for_token,
    authenticate,
    end_session,
    set_password,
    start_session,
)
from db.core import writer
from domain.clock import fmt_local
from i18n import words
from web.security import install_security

log = logging.getLogger("onemap.auth")

SESSION_COOKIE = "onemap_session"
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads
CSRF_HEADER = "X-CSRFToken"  # the header Dash's renderer sends
CSRF_FIELD = "csrf_token"
SESSION_LIFETIME = timedelta(hours=12)  # a working day; refreshed on every request
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
PASSWORD_PATH = "/account/password"  # checks its CSRF token itself (a plain form cannot send headers)
PUBLIC_PATHS = frozenset({"/login", "/logout", "/kiosk", "/healthz", "/favicon.ico", "/_favicon.ico"})
# /api/ and /open311/ authenticate per view (bearer tokens, API keys) and answer in JSON.
# /field/: the field app's shell (no data)
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/api/", "/open311/", "/field/")
NO_CSRF_PREFIXES = ("/open311/",)  # never reads the session, so a session cookie proves nothing there
MACHINE_PREFIXES = ("/_dash-", "/layers/")  # fetched by scripts: 401, not a redirect
EXTENSION = "onemap_auth"
DEFAULT_SECRET_FILE = Path(__file__).resolve().parent.parent / "var" / "secret_key"


# -- configuration --------------------------------------------------------------------------

def load_secret_key(path: Path = DEFAULT_SECRET_FILE) -> str:
    """``ONEMAP_SECRET_KEY``, else the key in ``path``, created once with mode 0600."""
    configured = Settings().secret_key
    if configured:
        return configured.get_secret_value()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()  # another process (or an earlier run) made it
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def cookie_secure() -> bool:
    """Whether cookies get the Secure flag for the current request (see the module docstring)."""
    forced = current_app.extensions[EXTENSION]["secure"]
    if forced is not None:
        return forced
    return request.is_secure or (request.host.rsplit(":", 1)[0].lower() not in LOCAL_HOSTS)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with Secure decided per request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure()


def install_auth(server: Flask, dsn: str, secret_key: str | None = None) -> None:
    """Protect every route of ``server``: login pages, session and token auth, CSRF checks."""
    server.secret_key = secret_key or load_secret_key()
    server.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Strict", PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)
    server.session_interface = _SessionInterface()
    server.extensions[EXTENSION] = {"dsn": dsn, "secure": Settings().cookie_secure}
    server.before_request(_gate)
    server.after_request(_set_csrf_cookie)
    install_security(server)
    server.add_url_rule("/login", "onemap_login", _login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "onemap_logout", _logout, methods=["GET", "POST"])
    server.add_url_rule("/kiosk", "onemap_kiosk", _kiosk, methods=["GET"])
    server.add_url_rule(PASSWORD_PATH, "onemap_password", _password, methods=["GET", "POST"])


# -- who is asking --------------------------------------------------------------------------

def client_address() -> str | None:
    """The caller's address as this server sees it (a proxy in front must set REMOTE_ADDR)."""
    return request.remote_addr or None


def password_actor(conn, username: str, password: str, path: str) -> Actor:
    """``authenticate`` for this request's address (throttled and audited per path); the caller
    commits, on failure too."""
    return authenticate(conn, username, password, address=client_address(), path=path)


def token_actor(conn, token: str, path: str) -> Actor:
    """``actor_for_token`` for this request's address (a miss is throttled and audited); the
    caller commits, on failure too."""
    return actor_for_token(conn, token, address=client_address(), path=path)


def throttled_response(exc: AccountLocked):
    """429 JSON with ``Retry-After`` for a throttled login attempt."""
    retry = max(1, int((exc.until - datetime.now(timezone.utc)).total_seconds()) + 1)
    response = _json_error(429, "too_many_failed_logins",
                           f"too many failed logins from your address; try again in {retry} s")
    response.headers["Retry-After"] = str(retry)
    return response


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def current_actor() -> Actor | None:
    """The Actor of this request (bearer token, else session cookie), or None; cached per request.

    None also when ``install_auth`` was never called on this app: no auth means no one.
    """
    if EXTENSION not in current_app.extensions:
        return None
    if "onemap_actor" not in g:
        g.onemap_actor = _resolve_actor()
    return g.onemap_actor


def _resolve_actor() -> Actor | None:
    dsn = current_app.extensions[EXTENSION]["dsn"]
    if request.headers.get("Authorization"):
        token = _bearer()
        if not token:
            return None  # another scheme: not ours, and no falling back to the cookie
        with writer(dsn, autocommit=True) as conn:  # one statement, no BEGIN/COMMIT round trips
            try:
                return token_actor(conn, token, "bearer")  # one statement (user_token_actor.sql)
            except AccountLocked as exc:
                g.onemap_throttled = exc
                return None
            except BadCredentials:  # the failure's audit and throttling record are committed
                return None
    session_id = session.get("sid")
    if not session_id:
        if session.get("uid"):  # a cookie from before server-side sessions: no longer valid
            session.clear()
        return None
    with writer(dsn) as conn:
        by_session = actor_for_session(conn, session_id)
        conn.commit()  # the idle timeout slides
    if by_session is None:  # logged out, expired, password changed or account disabled
        session.clear()
    return by_session


def stream_guard(check_every_s: float = 2.0):
    """A callable for a long response (a live stream): True while this request's credential
    (session or bearer token) is still live, re-checked at most every ``check_every_s``.

    Call it in the request; the returned function needs no request context, so a stream's loop
    can call it between events and stop when it returns False (logout, password change,
    disabled account, revoked token).
    """
    dsn = current_app.extensions[EXTENSION]["dsn"]
    token, session_id = _bearer(), session.get("sid")
    state = {"checked": time.monotonic(), "alive": current_actor() is not None}

    def alive() -> bool:
        if not state["alive"]:
            return False
        now = time.monotonic()
        if now - state["checked"] < check_every_s:
            return True
        state["checked"] = now
        try:
            with writer(dsn) as conn:
                if token:
                    try:
                        actor_for_token(conn, token)
                        found = True
                    except AuthError:
                        found = False
                else:
                    found = actor_for_session(conn, session_id) is not None if session_id else False
                conn.commit()
        except Exception as exc:  # the database is away: keep the stream, check again next time
            from db.outage import is_unavailable, tracker

            if is_unavailable(exc):  # one log line per outage episode, not a traceback per check
                tracker(dsn).report(exc, "live stream session check")
            else:
                log.warning("could not re-check a live stream's session", exc_info=True)
            return True
        state["alive"] = found
        return found

    return alive


def _json_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="onemap"'
    return response


def require_actor(roles=None):
    """Decorator: 401 JSON without valid credentials, 403 for a role not in ``roles`` (None: any).

    Read-only (kiosk) tokens are refused on POST/PUT/PATCH/DELETE with 403 too.
    """
    if callable(roles):  # used bare: @require_actor
        return require_actor()(roles)
    allowed = frozenset(roles) if roles else None
    if allowed and not allowed <= set(ROLES):
        raise ValueError(f"unknown roles {sorted(allowed - set(ROLES))}; roles: {ROLES}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return _json_error(401, "unauthorized", "log in, or send 'Authorization: Bearer <token>'")
            if allowed is not None and actor.role not in allowed:
                return _json_error(403, "forbidden", f"role {actor.role!r} may not do this")
            if actor.read_only and request.method in UNSAFE_METHODS:
                return _json_error(403, "read_only", "this token is read-only")
            return view(*args, **kwargs)
        return wrapper
    return decorate


# -- the gate in front of every route -------------------------------------------------------

def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _csrf_ok(sent: str | None) -> bool:
    expected = session.get("csrf")
    if not (isinstance(expected, str) and expected and sent):
        return False
    return hmac.compare_digest(expected, sent)


def _wants_html() -> bool:
    """A browser navigating (redirect it to the login page) rather than a script (answer 401)."""
    if request.method not in ("GET", "HEAD") or request.path.startswith(MACHINE_PREFIXES):
        return False
    if request.headers.get("X-Requested-With") or request.headers.get("Authorization"):
        return False
    return request.accept_mimetypes.accept_html or not request.headers.get("Accept")


def _gate():
    """before_request: CSRF on cookie-authenticated writes, then a logged-in actor for non-public routes."""
    path = request.path
    if g.get("onemap_throttled") is None and request.headers.get("Authorization") \
            and not path.startswith(NO_CSRF_PREFIXES):
        current_actor()  # resolve credentials now, so a throttled address gets its 429 below
    if g.get("onemap_throttled") is not None:
        return throttled_response(g.onemap_throttled)
    if (request.method in UNSAFE_METHODS and session.get("sid") and _bearer() is None
            and path not in ("/login", "/logout", PASSWORD_PATH) and not path.startswith(NO_CSRF_PREFIXES)
            and not _csrf_ok(request.headers.get(CSRF_HEADER))):
        return _json_error(403, "csrf_failed", f"missing or wrong {CSRF_HEADER} header; reload the page")
    if _is_public(path) or current_actor() is not None:
        return None
    if _wants_html():
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    return _json_error(401, "unauthorized", "log in first")


def _set_csrf_cookie(response):
    """after_request: mirror the session's CSRF token into a script-readable cookie."""
    token = session.get("csrf")
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()),
                            secure=cookie_secure(), httponly=False, samesite="Strict", path="/")
    elif not token and request.cookies.get(CSRF_COOKIE):
        response.delete_cookie(CSRF_COOKIE, path="/", samesite="Strict", secure=cookie_secure())
    return response


# -- login and logout -----------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``//evil.example`` or ``https://…`` must not become an open redirect."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) < 32 for ch in target)):
        return "/"
    return target


def _lang() -> str:
    return "en" if (request.values.get("lang") or "").lower() == "en" else "zh"


def _login():
    """GET: the login form. POST: check the password, start a fresh session, go to ``next``."""
    lang, nxt = _lang(), _safe_next(request.values.get("next"))
    t = words(lang)["login"]
    if request.method == "GET" and current_actor() is not None and _bearer() is None:
        return redirect(nxt)
    status, message = 200, None
    if request.method == "POST":
        status, message = _try_login(t)
        if status == 303:
            return redirect(nxt, code=303)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    insecure = cookie_secure() and not request.is_secure
    html = render_template_string(LOGIN_PAGE, t=t, lang=lang, nxt=nxt, message=message,
                                  csrf=session["csrf"], field=CSRF_FIELD,
                                  username=request.form.get("username", ""), insecure=insecure,
                                  other_lang="zh" if lang == "en" else "en")
    return html, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def _try_login(t: dict) -> tuple[int, str | None]:
    """(303, None) after a successful login, else (status, message for the form)."""
    if not _csrf_ok(request.form.get(CSRF_FIELD)):
        session["csrf"] = secrets.token_urlsafe(32)
        return 400, t["expired"]
    username, password = request.form.get("username", ""), request.form.get("password", "")
    with writer(current_app.extensions[EXTENSION]["dsn"]) as conn:
        try:
            actor = password_actor(conn, username, password, "form")
        except AccountLocked as exc:
            conn.commit()
            until = fmt_local(exc.until, region_timezone(conn, Settings().region_code) or "UTC", "%H:%M")
            log.warning("login refused (%s throttled) from %s", exc.scope, client_address())
            key = "locked" if exc.scope == "pair" else "throttled"
            return 429, t[key].format(n=MAX_FAILURES, until=until)
        except AccountDisabled:
            conn.commit()  # audited
            return 403, t["disabled"]
        except BadCredentials:
            conn.commit()  # the audit record and the throttling count
            log.warning("login failed from %s", client_address())
            return 401, t["bad"]
        assert actor.user_id is not None  # a password signs in an account
        audit(conn, actor, "login", "app_user", actor.user_id, {"ip": client_address()})
        session_id = start_session(conn, actor.user_id, client_address())
        conn.commit()
    _begin_session(session_id)
    g.onemap_actor = actor
    return 303, None


def _begin_session(session_id: str, read_only: bool = False) -> None:
    """Put a fresh server-side session in the cookie (a new id on every login: no fixation)."""
    session.clear()
    session.permanent = True
    session.update(sid=session_id, csrf=secrets.token_urlsafe(32))
    if read_only:
        session["read_only"] = True


def _kiosk():
    """A wall screen signs in once with a read-only token in the URL (`onemap users token USER
    --read-only`), then keeps a normal session; it lands on the wall display."""
    token = request.args.get("token", "")
    dsn = current_app.extensions[EXTENSION]["dsn"]
    with writer(dsn) as conn:
        try:
            actor = token_actor(conn, token, "kiosk")
        except AccountLocked as exc:
            return throttled_response(exc)
        except BadCredentials:
            conn.commit()  # audited and counted
            return _json_error(401, "unauthorized", "unknown, revoked or expired kiosk token")
        if not actor.read_only:
            return _json_error(403, "not_read_only",
                               "kiosks take read-only tokens: onemap users token USER --read-only")
        audit(conn, actor, "kiosk_login", "app_user", actor.user_id, {"ip": client_address()})
        session_id = start_session(conn, actor.user_id, client_address(), read_only=True)
        conn.commit()
    _begin_session(session_id, read_only=True)
    return redirect("/wall" + ("?lang=en" if _lang() == "en" else ""), code=303)


def _logout():
    """End the session (GET is fine: a SameSite=Strict cookie is never sent cross-site)."""
    actor = current_actor() if _bearer() is None else None
    if actor is not None:
        with writer(current_app.extensions[EXTENSION]["dsn"]) as conn:
            end_session(conn, session["sid"], "logout")
            audit(conn, actor, "logout", "app_user", actor.user_id)
            conn.commit()
    session.clear()
    return redirect("/login" + ("?lang=en" if _lang() == "en" else ""), code=303)


def _password():
    """A signed-in user changes their own password: the current one, then the new one twice.

    Every other session of the account ends; this browser gets a fresh session. A form (GET
    shows it) or JSON ``{"current", "new"}`` (a phone with its bearer token; answers JSON).
    """
    actor = current_actor()
    lang = _lang()
    t = words(lang)["password"]
    as_json = request.is_json or _bearer() is not None
    if actor.read_only:  # a kiosk's session or token changes nothing, its account's password least
        return _json_error(403, "read_only", "a read-only (kiosk) session cannot change the password")
    if request.method == "GET":
        return _password_page(t, lang, 200, None)
    asked, refusal = _password_input(t, lang, as_json)
    if refusal is not None:
        return refusal
    current, new = asked
    with writer(current_app.extensions[EXTENSION]["dsn"]) as conn:
        try:
            password_actor(conn, actor.username, current, "form")
        except AccountLocked as exc:
            conn.commit()
            return throttled_response(exc) if as_json else _password_page(t, lang, 429, t["locked"])
        except AuthError:
            conn.commit()  # audited and counted like any failed login
            return (_json_error(403, "wrong_password", t["wrong"]) if as_json
                    else _password_page(t, lang, 403, t["wrong"]))
        try:
            ended = set_password(conn, actor.username, new)  # ends every session of the account
        except UserError as exc:
            conn.rollback()
            return _json_error(400, "bad_request", str(exc))
        audit(conn, actor, "password_changed", "app_user", actor.user_id,
              {"ip": client_address(), "sessions_ended": ended})
        session_id = None if _bearer() else start_session(conn, actor.user_id, client_address(),
                                                          read_only=actor.read_only)
        conn.commit()
    if session_id:
        _begin_session(session_id, read_only=actor.read_only)
    if as_json:
        return jsonify({"changed": True, "sessions_ended": ended})
    return _password_page(t, lang, 200, None, done=True)


def _password_input(t: dict, lang: str, as_json: bool):
    """((current, new), None) from the form or JSON body, or (None, the response that refuses them:
    CSRF, types, the second entry, the length)."""
    data = (request.get_json(silent=True) or {}) if request.is_json else request.form
    if not isinstance(data, dict) and not hasattr(data, "getlist"):
        return None, _json_error(400, "bad_request", "send a JSON object {\"current\", \"new\"}")
    if _bearer() is None and not (_csrf_ok(data.get(CSRF_FIELD)) or _csrf_ok(request.headers.get(CSRF_HEADER))):
        if as_json:
            return None, _json_error(403, "csrf_failed", f"missing or wrong {CSRF_HEADER} header; reload the page")
        return None, _password_page(t, lang, 400, t["expired"])
    current, new = data.get("current", ""), data.get("new", "")
    if not isinstance(current, str) or not isinstance(new, str):
        return None, _json_error(400, "bad_request", "'current' and 'new' must be strings")
    if not as_json and new != data.get("again", ""):
        return None, _password_page(t, lang, 400, t["mismatch"])
    if len(new) < MIN_PASSWORD or "\x00" in new:
        message = t["short"].format(n=MIN_PASSWORD)
        return None, (_json_error(400, "password_too_short", message) if as_json
                      else _password_page(t, lang, 400, message))
    return (current, new), None


def _password_page(t: dict, lang: str, status: int, message: str | None, done: bool = False):
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    html = render_template_string(PASSWORD_PAGE, t=t, lang=lang, message=message, done=done,
                                  csrf=session["csrf"], field=CSRF_FIELD)
    return html, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


# Jinja autoescapes every value; no scripts (the CSP allows none inline).
PASSWORD_PAGE = """<!doctype html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ t.title }}</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  background:#0b1a2b;color:#e8eef5;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
form{background:#12263d;padding:32px 36px;border-radius:8px;width:320px}
h1{font-size:20px;margin:0 0 20px}label{display:block;margin:12px 0 4px;font-size:14px}
input[type=password]{width:100%;box-sizing:border-box;padding:8px;border-radius:4px;
  border:1px solid #35506e;background:#0b1a2b;color:#e8eef5;font-size:15px}
button{margin-top:20px;width:100%;padding:10px;border:0;border-radius:4px;background:#2a9d8f;color:#fff;font-size:16px}
.msg{background:#6b1d1d;border-left:4px solid #e76f51;padding:8px 10px;font-size:14px}
.ok{background:#1d4b3b;border-left:4px solid #2a9d8f;padding:8px 10px;font-size:14px}
a{display:block;margin-top:14px;color:#9fb3c8;font-size:13px}
</style></head><body>
<form method="post" action="/account/password{{ '?lang=en' if lang == 'en' else '' }}">
  <h1>{{ t.title }}</h1>
  {% if done %}<div class="ok" role="status" id="password-done">{{ t.done }}</div>{% endif %}
  {% if message %}<div class="msg" role="alert" id="password-error">{{ message }}</div>{% endif %}
  <input type="hidden" name="{{ field }}" value="{{ csrf }}">
  <label for="current">{{ t.current }}</label>
  <input type="password" id="current" name="current" autocomplete="current-password" required>
  <label for="new">{{ t.new }}</label>
  <input type="password" id="new" name="new" autocomplete="new-password" required>
  <label for="again">{{ t.again }}</label>
  <input type="password" id="again" name="again" autocomplete="new-password" required>
  <button type="submit">{{ t.submit }}</button>
  <a href="/{{ '?lang=en' if lang == 'en' else '' }}">{{ t.back }}</a>
</form></body></html>
"""


# Self-contained (no CDN, no scripts); Jinja autoescapes every value in render_template_string.
LOGIN_PAGE = """<!doctype html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  background:#0b1a2b;color:#e8eef5;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
form{background:#12263d;padding:32px 36px;border-radius:8px;width:320px;box-shadow:0 8px 30px #0008}
h1{font-size:20px;margin:0 0 20px}label{display:block;margin:12px 0 4px;font-size:14px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;border-radius:4px;
  border:1px solid #35506e;background:#0b1a2b;color:#e8eef5;font-size:15px}
button{margin-top:20px;width:100%;padding:10px;border:0;border-radius:4px;background:#2a9d8f;
  color:#fff;font-size:16px;cursor:pointer}
.msg{background:#6b1d1d;border-left:4px solid #e76f51;padding:8px 10px;margin-bottom:8px;font-size:14px}
.warn{background:#5a4a12;border-left:4px solid #e9c46a;padding:8px 10px;margin-bottom:8px;font-size:13px}
.lang{display:block;margin-top:14px;text-align:right;color:#9fb3c8;font-size:13px}
</style></head><body>
<form method="post" action="/login" autocomplete="on">
  <h1>{{ t.heading }}</h1>
  {% if insecure %}<div class="warn" role="alert">{{ t.insecure }}</div>{% endif %}
  {% if message %}<div class="msg" role="alert" id="login-error">{{ message }}</div>{% endif %}
  <input type="hidden" name="{{ field }}" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ nxt }}">
  <input type="hidden" name="lang" value="{{ lang }}">
  <label for="username">{{ t.username }}</label>
  <input type="text" id="username" name="username" value="{{ username }}" autocomplete="username"
         autocapitalize="none" required autofocus>
  <label for="password">{{ t.password }}</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit">{{ t.submit }}</button>
  <a class="lang" href="/login?lang={{ other_lang }}&amp;next={{ nxt | urlencode }}">{{ t.switch }}</a>
</form></body></html>
"""
