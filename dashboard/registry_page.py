"""The registries page (/registry): counts and charts of residents and houses for the caller's
jurisdiction, and compact forms for grid workers and dispatchers to add or update houses,
households, people, organisations and their staff, public-order places, schools and protected
lines. Callbacks read the caller from the
request, never from inputs, and call ``data.registry``, which decides who may and where; a refusal
comes back as a message, never a 500. Names and numbers are text, never markup.
"""
from __future__ import annotations

import uuid

import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update

from dashboard.charts import _layout
from dashboard.i18n import t as words
from data import registry, registry_other
from data.incidents import IncidentError
from db.core import pooled, writer
from domain import policy
from domain import registry as vocab
from web.auth import current_actor

AGE_BANDS = ("child", "working", "old")


def _field(label: str, comp) -> html.Label:
    return html.Label([html.Span(label, className="analyst-label"), comp], className="analyst-field")


def _input(id_: str, kind: str = "text") -> dcc.Input:
    return dcc.Input(id=id_, type=kind, debounce=False)  # type: ignore[arg-type]


def _person_form(t: dict) -> html.Div:
    return html.Div([
        html.H3(t["person_form"]), dcc.Store(id="registry-person-uid", data=str(uuid.uuid4())),
        _field(t["household"], _input("registry-person-household")),
        _field(t["name"], _input("registry-person-name")),
        _field(t["id_number"], _input("registry-person-id")),
        _field(t["ethnicity"], dcc.Dropdown(id="registry-person-ethnicity", value=vocab.ETHNICITIES[0], clearable=False,
                                            options=list(vocab.ETHNICITIES))),
        _field(t["residence"], dcc.Dropdown(id="registry-person-residence", value="registered", clearable=False,
                                            options=[{"label": t["residences"][k], "value": k}
                                                     for k in vocab.RESIDENCE])),
        _field(t["phone"], _input("registry-person-phone", "tel")),
        html.Button(t["save"], id="registry-person-save", n_clicks=0, className="registry-save"),
        html.Div(id="registry-person-message", role="alert", className="analyst-message"),
    ], className="registry-form")


def _house_form(t: dict) -> html.Div:
    return html.Div([
        html.H3(t["house_form"]), dcc.Store(id="registry-house-uid", data=str(uuid.uuid4())),
        _field(t["address"], _input("registry-house-address")),
        _field(t["use"], dcc.Dropdown(id="registry-house-use", value="residential", clearable=False,
                                      options=[{"label": t["uses"][k], "value": k} for k in vocab.HOUSE_USES])),
        _field(t["lon"], _input("registry-house-lon", "number")),
        _field(t["lat"], _input("registry-house-lat", "number")),
        html.Button(t["save"], id="registry-house-save", n_clicks=0, className="registry-save"),
        html.Div(id="registry-house-message", role="alert", className="analyst-message"),
        html.H3(t["household_form"]), dcc.Store(id="registry-household-uid", data=str(uuid.uuid4())),
        _field(t["house"], _input("registry-household-house")),
        html.Button(t["save"], id="registry-household-save", n_clicks=0, className="registry-save"),
        html.Div(id="registry-household-message", role="alert", className="analyst-message"),
    ], className="registry-form")


# The other registries' forms: (form, words key, validator/saver kind, fields). A field is
# (key, words key, "text" | "number" | the vocabulary's codes and the words key of their names).
OTHER_FORMS: tuple[tuple[str, str, tuple], ...] = (
    ("org", "org_form", (("kind", "kind", (vocab.ORG_KINDS, "org_kinds")), ("name", "org_name", "text"),
                         ("credit_code", "credit_code", "text"), ("address", "address", "text"),
                         ("lon", "lon", "number"), ("lat", "lat", "number"))),
    ("staff", "staff_form", (("org", "org", "text"), ("name", "name", "text"), ("post", "post", "text"),
                             ("phone", "phone", "text"))),
    ("place", "place_form", (("kind", "kind", (vocab.PLACE_KINDS, "place_kinds")), ("name", "org_name", "text"),
                             ("org", "org", "text"), ("lon", "lon", "number"), ("lat", "lat", "number"))),
    ("school", "school_form", (("name", "org_name", "text"), ("stage", "stage", (vocab.SCHOOL_STAGES, "stages")),
                               ("students", "students", "number"), ("surroundings", "surroundings", "text"),
                               ("lon", "lon", "number"), ("lat", "lat", "number"))),
    ("line", "line_form", (("kind", "kind", (vocab.LINE_KINDS, "line_kinds")), ("name", "org_name", "text"),
                           ("unit_code", "unit_code", "text"))),
)


def _fid(form: str, key: str) -> str:
    return f"registry-{form}-{key}"


def _other_form(t: dict, form: str, title: str, fields: tuple) -> html.Div:
    children: list = [html.H3(t[title]), dcc.Store(id=_fid(form, "uid"), data=str(uuid.uuid4()))]
    for key, label, kind in fields:
        comp: dcc.Dropdown | dcc.Input
        if isinstance(kind, tuple):
            codes, names = kind
            comp = dcc.Dropdown(id=_fid(form, key), value=codes[0], clearable=False,
                                options=[{"label": t[names][c], "value": c} for c in codes])
        else:
            comp = _input(_fid(form, key), kind)
        children.append(_field(t[label], comp))
    children += [html.Button(t["save"], id=_fid(form, "save"), n_clicks=0, className="registry-save"),
                 html.Div(id=_fid(form, "message"), role="alert", className="analyst-message")]
    return html.Div(children, className="registry-form", id=_fid(form, "form"))


def layout(lang: str = "zh", nav_home: str = "") -> html.Div:
    """The page's components; numbers and lists arrive through the callbacks."""
    t = words(lang)["registry"]
    q = "?lang=en" if lang == "en" else ""
    return html.Div([
        html.Div([html.A("← " + nav_home, href="/" + q, className="om-nav", id="registry-back"),
                  html.Div(t["title"], className="om-title registry-title")], className="om-header"),
        html.Div([
            dcc.Store(id="registry-lang", data=lang),
            html.Div([_field(t["unit"], _input("registry-unit")),
                      html.Button(t["show"], id="registry-show", n_clicks=0, className="registry-save")],
                     className="registry-bar"),
            html.Div(id="registry-message", role="alert", className="analyst-message"),
            html.Div(id="registry-summary"), html.Small(t["suppressed"]),
            html.Div([_person_form(t), _house_form(t)], className="registry-forms"),
            html.H3(t["other_forms"]),
            html.Div([_other_form(t, form, title, fields) for form, title, fields in OTHER_FORMS],
                     className="registry-forms"),
            html.H3(t["members_form"]),
            html.Div([_input("registry-members-household"),
                      html.Button(t["lookup"], id="registry-members-show", n_clicks=0, className="registry-save")],
                     className="registry-bar"),
            html.Div(id="registry-members"),
        ], className="registry-main"),
    ], id="registry-page", className="analyst-page")


def _cell(value) -> str:
    return "–" if value is None else str(value)  # text, never markup


def _table(columns: list[tuple[str, str]], rows: list[dict], id_: str) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(n) for _, n in columns])),
                       html.Tbody([html.Tr([html.Td(_cell(r.get(k))) for k, _ in columns]) for r in rows[:500]])],
                      id=id_, className="registry-table")


def _charts(t: dict, shape: dict) -> list:
    sexes = ("M", "F")
    age = go.Figure([go.Bar(name=t["sexes"][s], x=[t["age"][b] for b in AGE_BANDS],
                            y=[next((r["n"] for r in shape["age"] if r["key"] == b and r["sex"] == s), 0)
                               for b in AGE_BANDS]) for s in sexes])
    use = go.Figure(go.Bar(x=[t["uses"].get(r["key"], r["key"]) for r in shape["use"]],
                           y=[r["n"] for r in shape["use"]], marker_color="#7b9acc"))
    return [html.H3(t["structure"]), dcc.Graph(figure=_layout(age, dark=False), config={"displayModeBar": False}),
            html.H3(t["by_use"]), dcc.Graph(figure=_layout(use, dark=False), config={"displayModeBar": False})]


def summary(dsn: str, actor, unit: str | None, lang: str) -> list:
    """Counts per unit, the charts, and special groups for the roles that handle them."""
    t = words(lang)["registry"]
    with pooled(dsn) as conn:
        counts = registry.counts(conn, actor, unit or None)
        shape = registry.structure(conn, actor, unit or None)
        special = (registry.special_counts(conn, actor, unit or None)
                   if policy.sees(actor, policy.SPECIAL_GROUP) else None)
    c = t["col"]
    out = [_table([("unit_code", c["unit"]), ("name", c["unit"]), ("population", c["population"]),
                   ("households", c["households"]), ("houses", c["houses"])], counts, "registry-counts"),
           *_charts(t, shape)]
    if special is not None:
        rows = [{**r, "kind": t["groups"].get(r["kind"], r["kind"])} for r in special]
        out += [html.H3(t["special"]), _table([("unit_code", c["unit"]), ("kind", c["kind"]),
                                               ("members", c["members"]), ("on_time", c["on_time"])],
                                              rows, "registry-special")]
    return out


def _saved(t: dict, stored: dict, created: bool) -> str:
    return t["saved" if created else "updated"].format(id=stored["id"], cell=stored["cell_code"])


def _save(dsn: str, validate, save, payload: dict, lang: str):
    """Validate and store for the signed-in user: (message, a new UUID for the next record)."""
    t = words(lang)["registry"]
    actor = current_actor()
    if actor is None:
        return "401", no_update
    try:
        item = validate(payload)
        with writer(dsn) as conn:
            stored, created = save(conn, actor, item)
            conn.commit()
    except IncidentError as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message
        return t["refused"].format(reason=detail), no_update
    return _saved(t, stored, created), str(uuid.uuid4())


def _ref(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() else (text or None)


def register(app, dsn: str) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output("registry-summary", "children"), Output("registry-message", "children"),
                  Input("registry-show", "n_clicks"), State("registry-unit", "value"), State("registry-lang", "data"))
    def show(_n, unit, lang):
        actor = current_actor()
        if actor is None:
            return no_update, "401"
        try:
            return summary(dsn, actor, (unit or "").strip() or None, lang), ""
        except IncidentError as exc:
            return [], exc.message

    @app.callback(Output("registry-person-message", "children"), Output("registry-person-uid", "data"),
                  Input("registry-person-save", "n_clicks"), State("registry-person-uid", "data"),
                  State("registry-person-household", "value"), State("registry-person-name", "value"),
                  State("registry-person-id", "value"), State("registry-person-ethnicity", "value"),
                  State("registry-person-residence", "value"), State("registry-person-phone", "value"),
                  State("registry-lang", "data"), prevent_initial_call=True)
    def save_person(_n, uid, household, name, id_number, ethnicity, residence, phone, lang):
        payload = {"uid": uid, "household": _ref(household), "name": name, "id_number": id_number,
                   "ethnicity": ethnicity, "residence": residence, "phone": phone}
        return _save(dsn, registry.validate_person, registry.save_person, payload, lang)

    @app.callback(Output("registry-house-message", "children"), Output("registry-house-uid", "data"),
                  Input("registry-house-save", "n_clicks"), State("registry-house-uid", "data"),
                  State("registry-house-address", "value"), State("registry-house-use", "value"),
                  State("registry-house-lon", "value"), State("registry-house-lat", "value"),
                  State("registry-lang", "data"), prevent_initial_call=True)
    def save_house(_n, uid, address, use, lon, lat, lang):
        payload = {"uid": uid, "address": address, "use": use, "lon": lon, "lat": lat}
        return _save(dsn, registry.validate_house, registry.save_house, payload, lang)

    @app.callback(Output("registry-household-message", "children"), Output("registry-household-uid", "data"),
                  Input("registry-household-save", "n_clicks"), State("registry-household-uid", "data"),
                  State("registry-household-house", "value"), State("registry-lang", "data"),
                  prevent_initial_call=True)
    def save_household(_n, uid, house, lang):
        payload = {"uid": uid, "house": _ref(house)}
        return _save(dsn, registry.validate_household, registry.save_household, payload, lang)

    for form, _title, fields in OTHER_FORMS:
        _register_other(app, dsn, form, tuple(key for key, _label, _kind in fields))

    @app.callback(Output("registry-members", "children"), Input("registry-members-show", "n_clicks"),
                  State("registry-members-household", "value"), State("registry-lang", "data"),
                  prevent_initial_call=True)
    def members(_n, household, lang):
        t, actor = words(lang)["registry"], current_actor()
        ref = _ref(household)
        if actor is None:
            return "401"
        if not isinstance(ref, int):
            return t["refused"].format(reason=t["household"])
        try:
            with pooled(dsn) as conn:
                found = registry.household(conn, actor, ref)
        except IncidentError as exc:
            return exc.message
        c = t["col"]
        columns = [("name", c["name"]), ("sex", c["sex"]), ("birth_date", c["birth"]), ("id_masked", c["id"]),
                   ("phone_masked", c["phone"]), ("relation", c["relation"])]
        rows = [{k: (t["sexes"].get(p[k] or "", "") if k == "sex" else p[k]) for k, _ in columns}
                for p in found["members"]]
        return _table(columns, rows, "registry-members-table")


def _register_other(app, dsn: str, form: str, keys: tuple[str, ...]) -> None:
    """The save callback of one of the other registries' forms (``data.registry_other`` decides)."""

    @app.callback(Output(_fid(form, "message"), "children"), Output(_fid(form, "uid"), "data"),
                  Input(_fid(form, "save"), "n_clicks"), State(_fid(form, "uid"), "data"),
                  *(State(_fid(form, k), "value") for k in keys), State("registry-lang", "data"),
                  prevent_initial_call=True)
    def save(_n, uid, *values):
        *fields, lang = values
        payload = {"uid": uid, **{k: (_ref(v) if k == "org" else v) for k, v in zip(keys, fields, strict=True)}}
        return _save(dsn, registry_other.VALIDATE[form], registry_other.SAVE[form], payload, lang)
