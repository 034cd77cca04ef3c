/* The registry (台账) in the field app: a grid worker's houses, households and people, and each
   household's visit log (日走访). Reads come from /api/v1/registry (masked for the role, inside the
   worker's cell); every write goes through the outbox like a report: it gets its client UUID when it
   is made (the Idempotency-Key header, or the visit's id), survives being offline, and a replay is
   the same write on the server. Text from data goes in as text (textContent), never as markup. */
"use strict";
(function () {
  const A = window.FieldApp, S = A.store, t = A.t, el = A.el, clear = A.clear;
  const EDITORS = ["worker", "admin", "dispatcher"];
  const K = { houses: "field.reg.houses", hh: "field.reg.hh." };
  const USES = ["residential", "commercial", "mixed", "public", "industrial", "agricultural", "other"];
  const RESIDENCE = ["registered", "migrant", "overseas", "unregistered"];
  const KINDS = ["family", "collective"];
  const FLAGS = ["nobody_home", "needs_help", "dispute", "hazard", "changed"];
  // stored as the registry stores them (the Chinese name); shown in the UI language
  const ETHNICITIES = [["han", "汉族"], ["mongol", "蒙古族"], ["hui", "回族"], ["manchu", "满族"], ["tibetan", "藏族"],
                       ["uyghur", "维吾尔族"], ["daur", "达斡尔族"], ["evenki", "鄂温克族"], ["other", "其他"]];
  const PATHS = { reg_house: "/api/v1/registry/houses", reg_household: "/api/v1/registry/households",
                  reg_person: "/api/v1/registry/people" };
  const reg = { houses: [], house: null, household: null, editing: null, pin: null, revealFor: null };

  function $(id) { return document.getElementById(id); }
  function option(sel, value, label) { const o = el("option", "", label); o.value = value; sel.appendChild(o); }
  function ethName(value) {
    const e = ETHNICITIES.find(function (x) { return x[1] === value; });
    return e ? t("eth_" + e[0]) : value;
  }
  function same(a, b) { return a !== null && a !== undefined && String(a) === String(b); }

  // -- GB 11643: the ID number's check digit, and the sex and birth date it gives -----------------
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], CHECK = "10X98765432";
  function idInfo(raw) {
    const n = String(raw || "").trim().toUpperCase();
    if (!/^[1-9][0-9]{16}[0-9X]$/.test(n)) return { error: "err_id_format" };
    const y = +n.slice(6, 10), m = +n.slice(10, 12), d = +n.slice(12, 14), born = new Date(Date.UTC(y, m - 1, d));
    if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || y < 1880 || born > new Date()) {
      return { error: "err_id_date" };
    }
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += (+n[i]) * WEIGHTS[i];
    if (CHECK[sum % 11] !== n[17]) return { error: "err_id_check" };
    return { number: n, sex: (+n[16]) % 2 ? "M" : "F", birth: n.slice(6, 10) + "-" + n.slice(10, 12) + "-" + n.slice(12, 14) };
  }
  function maskId(n) { return n ? n.slice(0, 3) + "*".repeat(n.length - 7) + n.slice(-4) : null; }
  function maskPhone(p) { return p ? p.slice(0, 3) + "****" + p.slice(-4) : null; }
  const PHONE = /^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$/;

  // The server's refusal as a word key (shown in the UI language, also after a switch): the server
  // names the field; its own words are English.
  function serverReason(res) {
    const e = (res.body && res.body.error) || {}, f = e.fields || {};
    if (res.status === 403) return { key: "err_outside" };
    if (res.status === 404) return { key: "err_not_found" };
    if (res.status === 409) return { key: "err_key_reused" };
    if (f.id_number) {
      const m = String(f.id_number);
      return { key: /check digit/.test(m) ? "err_id_check" : /already/.test(m) ? "err_id_taken"
               : /date/.test(m) ? "err_id_date" : "err_id_format" };
    }
    if (f.phone) return { key: "err_phone" };
    if (f.lon || f.lat) return { key: "err_point" };
    if (f.address) return { key: "err_address" };
    if (f.name) return { key: "err_name" };
    if (f.house || f.household) return { key: "err_parent" };
    return { key: "err_other", vars: { e: e.message || ("HTTP " + res.status) } };
  }
  function serverMessage(res) { const r = serverReason(res); return t(r.key, r.vars); }

  // -- the outbox: queue, send, and what is still waiting ----------------------------------------
  function queue(kind, body, label, extra) {
    const item = Object.assign({ id: A.uuid(), kind: kind, created: Date.now(), status: "pending", label: label, body: body }, extra || {});
    if (kind === "reg_visit") item.id = body.id;
    return S.put(item).then(function () {
      A.toast(navigator.onLine ? t("sending") : t("queued"));
      A.renderOutbox();
      A.sync();
      return item;
    });
  }
  // Sent: the clear ID number and phone leave the phone's storage (the server keeps them as secrets).
  function scrub(it) {
    if (it.body.id_number && it.body.id_number.indexOf("*") < 0) it.body.id_number = maskId(it.body.id_number);
    if (it.body.phone && it.body.phone.indexOf("*") < 0) it.body.phone = maskPhone(it.body.phone);
  }
  function send(it) {
    const path = it.kind === "reg_visit" ? "/api/v1/registry/households/" + encodeURIComponent(it.household) + "/visits" : PATHS[it.kind];
    return A.api(path, { method: "POST", json: it.body, headers: { "Idempotency-Key": it.id } }).then(function (res) {
      if (res.ok) { scrub(it); it.answer = res.body; return A.finish(it, "sent"); }
      if (A.retryable(res.status) || res.status === 401) A.fail(res);
      scrub(it);
      const r = serverReason(res);
      it.reasonKey = r.key; it.reasonVars = r.vars || null;
      return A.finish(it, "refused", t(r.key, r.vars));
    });
  }
  function waiting() {
    return S.all().then(function (items) {
      return items.filter(function (i) { return i.kind.indexOf("reg_") === 0 && i.status === "pending"; });
    }).catch(function () { return []; });
  }

  // -- houses ---------------------------------------------------------------------------------
  function loadHouses() {
    const q = $("g-q").value.trim();
    $("g-error").hidden = true;
    drawHouses(A.readJSON(K.houses) || [], q);
    if (!navigator.onLine) return;
    A.api("/api/v1/registry/houses?limit=500" + (q ? "&q=" + encodeURIComponent(q) : "")).then(function (res) {
      if (res.ok) {
        if (!q) A.writeJSON(K.houses, res.body.items);
        drawHouses(res.body.items, q);
      } else {
        $("g-error").textContent = serverMessage(res); $("g-error").hidden = false;
      }
    }).catch(function () { /* offline: the cached list */ });
  }
  function withWaiting(houses, pending) {
    const out = houses.map(function (h) { return Object.assign({}, h); });
    pending.filter(function (i) { return i.kind === "reg_house"; }).forEach(function (i) {
      const known = out.find(function (h) { return h.uid === i.body.uid; });
      const fields = { address: i.body.address, use: i.body.use, floors: i.body.floors, lon: i.body.lon, lat: i.body.lat, waiting: true };
      if (known) Object.assign(known, fields);
      else out.unshift(Object.assign({ uid: i.body.uid, households: [], cell_code: "" }, fields));
    });
    return out;
  }
  function drawHouses(houses, q) {
    waiting().then(function (pending) {
      reg.houses = withWaiting(houses, pending).filter(function (h) { return !q || (h.address || "").indexOf(q) >= 0; });
      const ul = $("g-houses");
      clear(ul);
      $("g-empty").hidden = reg.houses.length > 0;
      reg.houses.forEach(function (h) {
        const li = el("li"), b = el("button", "item");
        b.type = "button"; b.setAttribute("data-uid", h.uid);
        b.appendChild(el("span", "t", h.address));
        b.appendChild(el("span", "badge", t("use_" + h.use)));
        if (h.waiting) b.appendChild(el("span", "badge local", t("pending")));
        b.appendChild(el("div", "hint", t("reg_n_households", { n: (h.households || []).length }) + (h.cell_code ? " · " + h.cell_code : "")));
        b.addEventListener("click", function () { openHouse(h.uid); });
        li.appendChild(b); ul.appendChild(li);
      });
    });
  }
  function findHouse(uid) { return reg.houses.find(function (h) { return h.uid === uid; }); }

  function openHouse(uid) {
    const h = findHouse(uid);
    if (!h) return;
    reg.house = h;
    A.show("v-house");
  }
  function drawHouse() {
    const h = reg.house;
    if (!h) return;
    $("h-title").textContent = h.address;
    $("h-meta").textContent = [t("use_" + h.use), h.floors ? t("reg_n_floors", { n: h.floors }) : "", h.cell_code,
                               h.waiting ? t("pending") : ""].filter(Boolean).join(" · ");
    waiting().then(function (pending) {
      const list = (h.households || []).map(function (x) { return Object.assign({}, x); });
      pending.filter(function (i) { return i.kind === "reg_household" && (same(i.body.house, h.uid) || same(i.body.house, h.id)); })
        .forEach(function (i) {
          if (!list.some(function (x) { return x.uid === i.body.uid; })) list.push({ uid: i.body.uid, kind: i.body.kind, members: 0, waiting: true });
        });
      const ul = $("h-households");
      clear(ul);
      list.forEach(function (x, n) {
        const li = el("li"), b = el("button", "item");
        b.type = "button"; b.setAttribute("data-uid", x.uid);
        b.appendChild(el("span", "t", t("reg_household_n", { n: n + 1 })));
        b.appendChild(el("span", "badge", t("kind_" + x.kind)));
        if (x.waiting) b.appendChild(el("span", "badge local", t("pending")));
        b.appendChild(el("div", "hint", x.members === null || x.members === undefined ? "" : t("reg_n_members", { n: x.members })));
        b.addEventListener("click", function () { reg.household = Object.assign({ n: n + 1 }, x); A.show("v-household"); });
        li.appendChild(b); ul.appendChild(li);
      });
    });
  }
  function addHousehold() {
    const h = reg.house, body = { uid: A.uuid(), house: h.uid, kind: $("h-kind").value };
    queue("reg_household", body, h.address).then(drawHouse);
  }

  // -- the house form (add or edit); the point from GPS, a tap on the map, or typed ----------------
  function houseForm(h) {
    reg.editing = h || null;
    $("gh-title").textContent = t(h ? "reg_edit_house" : "reg_add_house");
    $("gh-addr").value = h ? h.address : ""; $("gh-use").value = h ? h.use : "residential";
    $("gh-floors").value = h && h.floors ? h.floors : "";
    $("gh-lat").value = h ? h.lat.toFixed(6) : ""; $("gh-lon").value = h ? h.lon.toFixed(6) : "";
    $("gh-error").hidden = true;
    A.show("v-ghouse");
    const map = A.makeMap("gh-map");
    if (!reg.mapReady) {
      reg.mapReady = true;
      A.cellsLayer(map, A.me().unit_code).then(function (layer) {
        const b = A.ownBounds(layer);
        if (b && !$("gh-lat").value) map.fitBounds(b);
      });
      map.on("click", function (ev) { setPoint(ev.latlng.lat, ev.latlng.lng); });
    }
    setTimeout(function () { map.invalidateSize(); }, 50);
    if (h) setPoint(h.lat, h.lon); else gps();
  }
  function gps() {
    A.getPosition().then(function (p) { if (!reg.editing) setPoint(p.lat, p.lon); }).catch(function () { /* type it or tap the map */ });
  }
  function setPoint(lat, lon) {
    const map = A.makeMap("gh-map"), ll = [lat, lon];
    $("gh-lat").value = (+lat).toFixed(6); $("gh-lon").value = (+lon).toFixed(6);
    if (!reg.pin) reg.pin = window.L.marker(ll).addTo(map); else reg.pin.setLatLng(ll);
    map.setView(ll, Math.max(map.getZoom(), 15));
  }
  function saveHouse(ev) {
    ev.preventDefault();
    const err = $("gh-error"), address = $("gh-addr").value.trim(), floors = $("gh-floors").value.trim();
    const lat = parseFloat($("gh-lat").value), lon = parseFloat($("gh-lon").value);
    let problem = null;
    if (!address) problem = "err_address";
    else if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) problem = "err_point";
    else if (floors && !/^[0-9]{1,3}$/.test(floors)) problem = "err_floors";
    if (problem) { err.textContent = t(problem); err.hidden = false; return; }
    const h = reg.editing;
    const body = { uid: h ? h.uid : A.uuid(), address: address, use: $("gh-use").value,
                   floors: floors ? parseInt(floors, 10) : null, lon: lon, lat: lat };
    queue("reg_house", body, address).then(function () {
      if (h) { Object.assign(h, body, { waiting: true }); reg.house = h; A.show("v-house"); } else A.show("v-reg");
    });
  }

  // -- a household: members (masked), a reveal with a reason, the visit log ------------------------
  function drawHousehold() {
    const x = reg.household, h = reg.house;
    if (!x || !h) return;
    $("hh-title").textContent = h.address + " · " + t("reg_household_n", { n: x.n });
    $("hh-meta").textContent = t("kind_" + x.kind) + (x.waiting ? " · " + t("pending") : "");
    $("hh-reveal").hidden = true; reg.revealFor = null;
    $("hh-kind").value = x.kind; $("hh-moved").value = "";
    $("hv-time").value = A.localInput(new Date());
    const cached = A.readJSON(K.hh + x.uid);
    drawMembers(cached);
    if (x.id && navigator.onLine) {
      A.api("/api/v1/registry/households/" + x.id).then(function (res) {
        if (res.ok) { A.writeJSON(K.hh + x.uid, res.body); drawMembers(res.body); }
      }).catch(function () { /* offline: cached */ });
    }
  }
  function drawMembers(detail) {
    const x = reg.household;
    waiting().then(function (pending) {
      const people = ((detail && detail.members) || []).map(function (p) { return Object.assign({}, p); });
      pending.filter(function (i) { return i.kind === "reg_person" && (same(i.body.household, x.uid) || same(i.body.household, x.id)); })
        .forEach(function (i) {
          const b = i.body, info = b.id_number && b.id_number.indexOf("*") < 0 ? idInfo(b.id_number) : {};
          const shown = { uid: b.uid, name: b.name, ethnicity: b.ethnicity, residence: b.residence, relation: b.relation,
                          registered_address: b.registered_address, waiting: true,
                          id_masked: b.id_number && b.id_number.indexOf("*") >= 0 ? b.id_number : maskId(info.number),
                          phone_masked: b.phone && b.phone.indexOf("*") >= 0 ? b.phone : maskPhone(b.phone),
                          sex: info.sex, birth_date: info.birth };
          const known = people.find(function (p) { return p.uid === b.uid; });
          if (known) Object.assign(known, shown, { sex: known.sex, birth_date: known.birth_date }); else people.push(shown);
        });
      const ul = $("hh-people");
      clear(ul);
      people.forEach(function (p) { ul.appendChild(personItem(p)); });
      if (!people.length) ul.appendChild(el("li", "hint", t("reg_no_members")));
      const visits = ((detail && detail.visits) || []).slice();
      pending.filter(function (i) { return i.kind === "reg_visit" && (same(i.household, x.uid) || same(i.household, x.id)); })
        .forEach(function (i) {
          if (!visits.some(function (v) { return v.id === i.body.id; })) {
            visits.unshift({ id: i.body.id, note: i.body.note, flags: i.body.flags, visited_at: i.localTime, waiting: true });
          }
        });
      const vl = $("hh-visits");
      clear(vl);
      visits.forEach(function (v) {
        const li = el("li");
        li.setAttribute("data-id", v.id);
        li.appendChild(el("span", "t", A.fmtTime(v.visited_at)));
        (v.flags || []).forEach(function (f) { li.appendChild(el("span", "badge", t("flag_" + f))); });
        if (v.waiting) li.appendChild(el("span", "badge local", t("pending")));
        if (v.note) li.appendChild(el("div", "hint", v.note));
        vl.appendChild(li);
      });
    });
  }
  function personItem(p) {
    const li = el("li", "person");
    li.setAttribute("data-uid", p.uid);
    li.appendChild(el("span", "t", p.name));
    if (p.relation) li.appendChild(el("span", "badge", p.relation));
    if (p.waiting) li.appendChild(el("span", "badge local", t("pending")));
    li.appendChild(el("div", "hint", [p.sex ? t("sex_" + p.sex) : "", p.birth_date || "", p.ethnicity ? ethName(p.ethnicity) : "",
                                      p.residence ? t("res_" + p.residence) : ""].filter(Boolean).join(" · ")));
    const ids = el("div", "ids");
    ids.appendChild(el("span", "idn", t("reg_id_short") + " " + (p.id_number || p.id_masked || "—")));
    ids.appendChild(el("span", "phn", t("reg_phone_short") + " " + (p.phone || p.phone_masked || "—")));
    li.appendChild(ids);
    const row = el("div", "row");
    const edit = el("button", "ghost", t("reg_edit"));
    edit.type = "button"; edit.setAttribute("data-act", "edit");
    edit.addEventListener("click", function () { personForm(p); });
    row.appendChild(edit);
    if (p.id && !p.id_number && (p.id_masked || p.phone_masked)) {
      const reveal = el("button", "ghost", t("reg_reveal"));
      reveal.type = "button"; reveal.setAttribute("data-act", "reveal");
      reveal.addEventListener("click", function () { askReveal(p); });
      row.appendChild(reveal);
    }
    li.appendChild(row);
    return li;
  }
  // A reveal is online only, needs a stated reason, and is audited by the database; the clear
  // numbers are shown in this list only, never kept on the phone.
  function askReveal(p) {
    reg.revealFor = p;
    $("rv-reason").value = ""; $("rv-error").hidden = true; $("hh-reveal").hidden = false;
    $("rv-reason").focus();
  }
  function doReveal() {
    const p = reg.revealFor, reason = $("rv-reason").value.trim(), err = $("rv-error");
    if (reason.length < 4) { err.textContent = t("err_reason"); err.hidden = false; return; }
    if (!navigator.onLine) { err.textContent = t("reg_reveal_offline"); err.hidden = false; return; }
    A.api("/api/v1/registry/people/" + p.id + "/reveal", { method: "POST", json: { reason: reason } }).then(function (res) {
      if (!res.ok) { err.textContent = serverMessage(res); err.hidden = false; return; }
      $("hh-reveal").hidden = true;
      const li = document.querySelector("#hh-people li[data-uid='" + p.uid + "']");
      if (li) li.replaceWith(personItem(Object.assign({}, p, { id_number: res.body.id_number || "—", phone: res.body.phone || "—" })));
    }).catch(function () { err.textContent = t("network"); err.hidden = false; });
  }
  function saveHousehold() {
    const x = reg.household, h = reg.house, moved = $("hh-moved").value;
    const body = { uid: x.uid, house: h.uid, kind: $("hh-kind").value, moved_out_at: moved || null };
    queue("reg_household", body, h.address).then(function () {
      x.kind = body.kind; $("hh-edit").open = false; drawHousehold();
    });
  }
  function saveVisit(ev) {
    ev.preventDefault();
    const x = reg.household, h = reg.house, when = new Date($("hv-time").value || Date.now());
    const flags = Array.prototype.slice.call(document.querySelectorAll("#hv-flags input:checked")).map(function (i) { return i.value; });
    const body = { id: A.uuid(), kind: "household", place: h.address, note: $("hv-note").value, flags: flags,
                   visited_at: when.toISOString() };
    queue("reg_visit", body, h.address, { household: x.id || x.uid, localTime: A.localInput(when) }).then(function () {
      $("hv-note").value = "";
      document.querySelectorAll("#hv-flags input").forEach(function (i) { i.checked = false; });
      drawHousehold();
    });
  }

  // -- the person form: the ID number checked as it is typed; sex and birth date shown from it ------
  function personForm(p) {
    reg.editing = p || null;
    $("gp-title").textContent = t(p ? "reg_edit_person" : "reg_add_person");
    $("gp-name").value = p ? p.name || "" : "";
    $("gp-id").value = p ? p.id_masked || "" : "";
    $("gp-phone").value = p ? p.phone_masked || "" : "";
    $("gp-eth").value = p && p.ethnicity ? p.ethnicity : "汉族";
    $("gp-res").value = p && p.residence ? p.residence : "registered";
    $("gp-rel").value = p ? p.relation || "" : "";
    $("gp-addr").value = p ? p.registered_address || "" : "";
    $("gp-sex").value = p && p.sex ? p.sex : ""; $("gp-birth").value = p && p.birth_date ? p.birth_date : "";
    $("gp-error").hidden = true;
    showIdInfo();
    A.show("v-gperson");
  }
  function showIdInfo() {
    const v = $("gp-id").value.trim(), box = $("gp-idinfo");
    box.className = "hint";
    $("gp-noid").hidden = !!v;  // without an ID number, sex and birth date are entered
    $("gp-error").hidden = true;
    if (!v) { box.textContent = ""; return; }
    if (v.indexOf("*") >= 0) { box.textContent = t("reg_id_unchanged"); return; }
    const info = idInfo(v);
    if (info.error) { box.textContent = v.length < 18 ? "" : t(info.error); if (v.length >= 18) box.className = "err"; return; }
    box.textContent = t("reg_id_says", { sex: t("sex_" + info.sex), birth: info.birth });
  }
  function savePerson(ev) {
    ev.preventDefault();
    const err = $("gp-error"), x = reg.household, p = reg.editing;
    const name = $("gp-name").value.trim(), idv = $("gp-id").value.trim().toUpperCase(), phone = $("gp-phone").value.trim();
    let problem = null;
    if (!name) problem = "err_name";
    else if (idv && idv.indexOf("*") < 0 && idInfo(idv).error) problem = idInfo(idv).error;
    else if (phone && phone.indexOf("*") < 0 && !PHONE.test(phone.replace(/[\s()]/g, ""))) problem = "err_phone";
    if (problem) { err.textContent = t(problem); err.hidden = false; return; }
    const body = { uid: p ? p.uid : A.uuid(), household: x.id || x.uid, name: name, id_number: idv || null,
                   phone: phone || null, ethnicity: $("gp-eth").value, residence: $("gp-res").value,
                   relation: $("gp-rel").value.trim(), registered_address: $("gp-addr").value.trim() };
    if (!idv) { body.sex = $("gp-sex").value || null; body.birth_date = $("gp-birth").value || null; }
    queue("reg_person", body, name).then(function () { A.show("v-household"); });
  }

  // -- words, wiring --------------------------------------------------------------------------
  function words() {
    const me = A.me();
    $("tab-reg").hidden = !me || EDITORS.indexOf(me.role) < 0;
    document.querySelectorAll("[data-tp]").forEach(function (n) { n.placeholder = t(n.getAttribute("data-tp")); });
    [["gh-use", USES, "use_"], ["h-kind", KINDS, "kind_"], ["hh-kind", KINDS, "kind_"], ["gp-res", RESIDENCE, "res_"],
     ["gp-sex", ["", "M", "F"], "sex_"]].forEach(function (d) {
      const sel = $(d[0]), was = sel.value;
      clear(sel);
      d[1].forEach(function (v) { option(sel, v, v ? t(d[2] + v) : "—"); });
      if (was) sel.value = was;
    });
    const eth = $("gp-eth"), was = eth.value;
    clear(eth);
    ETHNICITIES.forEach(function (e) { option(eth, e[1], t("eth_" + e[0])); });
    if (was) eth.value = was;
    const flags = $("hv-flags"), on = {};
    flags.querySelectorAll("input:checked").forEach(function (i) { on[i.value] = true; });
    clear(flags);
    FLAGS.forEach(function (f) {
      const label = el("label"), box = el("input");
      box.type = "checkbox"; box.name = "hv-flag"; box.value = f; box.checked = !!on[f];
      label.appendChild(box); label.appendChild(el("span", "", t("flag_" + f)));
      flags.appendChild(label);
    });
    if (!$("v-reg").hidden) loadHouses();
    if (!$("v-house").hidden) drawHouse();
    if (!$("v-household").hidden) drawHousehold();
    if (!$("gp-form").closest(".view").hidden) showIdInfo();
  }
  function refresh() {
    // what was queued has landed: read the lists again (and the open house with its new ids)
    if (!$("v-reg").hidden) loadHouses();
    if (reg.house && (!$("v-house").hidden || !$("v-household").hidden)) {
      A.api("/api/v1/registry/houses?limit=500").then(function (res) {
        if (!res.ok) return;
        A.writeJSON(K.houses, res.body.items);
        const fresh = res.body.items.find(function (h) { return h.uid === reg.house.uid; });
        if (!fresh) return;
        reg.house = fresh;
        if (reg.household) {
          const hh = (fresh.households || []).find(function (x) { return x.uid === reg.household.uid; });
          if (hh) reg.household = Object.assign({ n: reg.household.n }, hh);
        }
        if (!$("v-house").hidden) drawHouse();
        if (!$("v-household").hidden) drawHousehold();
      }).catch(function () { /* later */ });
    }
  }

  const H = A.hooks;
  ["reg_house", "reg_household", "reg_person", "reg_visit"].forEach(function (k) { H.send[k] = send; });
  H.show["v-reg"] = loadHouses;
  H.show["v-house"] = drawHouse;
  H.show["v-household"] = drawHousehold;
  ["v-house", "v-household", "v-ghouse", "v-gperson"].forEach(function (v) { H.parent[v] = "v-reg"; });
  H.words.push(words);
  H.synced.push(refresh);
  H.signOut.push(function () {
    Object.keys(localStorage).filter(function (k) { return k.indexOf("field.reg.") === 0; })
      .forEach(function (k) { localStorage.removeItem(k); });
    reg.houses = []; reg.house = null; reg.household = null;
  });

  $("g-search").addEventListener("submit", function (ev) { ev.preventDefault(); loadHouses(); });
  $("g-add-house").addEventListener("click", function () { houseForm(null); });
  $("h-back").addEventListener("click", function () { A.show("v-reg"); });
  $("h-edit").addEventListener("click", function () { houseForm(reg.house); });
  $("h-add-hh").addEventListener("click", addHousehold);
  $("hh-back").addEventListener("click", function () { A.show("v-house"); });
  $("hh-add-person").addEventListener("click", function () { personForm(null); });
  $("rv-go").addEventListener("click", doReveal);
  $("hv-form").addEventListener("submit", saveVisit);
  $("hh-save").addEventListener("click", saveHousehold);
  $("gh-back").addEventListener("click", function () { A.show(reg.editing ? "v-house" : "v-reg"); });
  $("gh-gps").addEventListener("click", gps);
  $("gh-form").addEventListener("submit", saveHouse);
  $("gp-back").addEventListener("click", function () { A.show("v-household"); });
  $("gp-id").addEventListener("input", showIdInfo);
  $("gp-form").addEventListener("submit", savePerson);
})();
