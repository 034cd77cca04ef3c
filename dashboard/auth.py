"""Dash pieces for the logged-in user: a badge with name, role, jurisdiction, a link to change
the password (``/account/password``) and a logout link.

Authentication itself lives in ``web.auth`` (plain Flask); the layout function calls
``user_badge(current_actor(), lang)`` while it renders, inside the request.
"""
from __future__ import annotations

from dash import html

from dashboard.i18n import t as words


def role_label(role: str, lang: str = "zh") -> str:
    """The role's name in ``lang`` (zh or en)."""
    return words(lang)["roles"].get(role, role)


def user_badge(actor, lang: str = "zh", unit_name: str | None = None) -> html.Div:
    """Header badge: who is logged in, in which role and jurisdiction, and a logout link.

    The link is a plain ``<a>`` so logging out is a full page load (the session cookie changes).
    """
    t = words(lang)["badge"]
    suffix = "?lang=en" if lang == "en" else ""
    if actor is None:
        return html.Div(html.A(t["login"], href="/login" + suffix, className="om-user-logout"),
                        className="om-user", id="user-badge")
    scope = unit_name or actor.unit_code
    return html.Div([
        html.Span(actor.display_name or actor.username, className="om-user-name"),
        html.Span(role_label(actor.role, lang), className="om-user-role"),
        html.Span(scope, className="om-user-scope", title=f"{t['scope']}: {actor.unit_code}"),
        html.A(t["password"], href="/account/password" + suffix, className="om-user-logout",
               id="user-password"),
        html.A(t["logout"], href="/logout" + suffix, className="om-user-logout"),
    ], className="om-user", id="user-badge", title=actor.username)
