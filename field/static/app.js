/* OneMap field app (vanilla JS, no build step). Every string from data is put in the page as
   text (textContent), never as markup. Writes go through the outbox (store.js) so they survive
   being offline and closing the browser; the outbox is sent in order when the network is back. */
"use strict";
(function () {
  const S = window.FieldStore, WORDS = window.FieldI18n, L = window.L;
  const K = { token: "field.token", me: "field.me", lang: "field.lang", cats: "field.categories",
              work: "field.work", inc: "field.incident.", cells: "field.cells", fac: "field.facilities",
              visits: "field.visits", week: "field.week", patrol: "field.patrol" };
  let lang = localStorage.getItem(K.lang) || "zh";
  let token = localStorage.getItem(K.token);
  let me = readJSON(K.me);
  // what registry.js (the 台账 tab) adds: views, outbox senders, word refreshes, sign-out clean-up
  const hooks = { show: {}, parent: {}, send: {}, words: [], synced: [], signOut: [] };
  const state = { pos: null, photos: [], actPhotos: [], action: null, incident: null, maps: {}, syncing: false,
                  patrolWatch: null, fixes: [], fixCount: 0, routeLayer: null };

  // -- small helpers ------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function readJSON(key) { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; } }
  function writeJSON(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full */ } }
  function t(key, vars) {
    let s = (WORDS[lang] && WORDS[lang][key]) || WORDS.zh[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.replace("{" + k + "}", String(vars[k])); });
    return s;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  // Leaflet treats a string tooltip as HTML: names from data go in as a text node instead.
  function textNode(text) { return el("span", "", text); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function toast(text) {
    const box = $("toast");
    box.textContent = text; box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 3500);
  }
  function uuid() { return crypto.randomUUID(); }
  function catName(c) {
    if (c.category && !c.category_name) {  // a list item carries only the code: name it from the categories
      const known = (readJSON(K.cats) || []).find(function (x) { return x.code === c.category; });
      if (known) c = known; else return c.category;
    }
    return lang === "en" ? (c.category_name_en || c.name_en || c.category_name || c.name) : (c.category_name || c.name);
  }
  function stateName(s) { return t("st_" + s); }
  function fmtTime(iso) {
    // the API writes every instant in the region's zone with its offset (+08:00): show that wall
    // time, the one the deadlines are set in, whatever zone the phone is set to
    if (!iso) return "";
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(String(iso));
    return m ? m[1] + "/" + m[2] + "/" + m[3] + " " + m[4] + ":" + m[5] : String(iso);
  }
  function localInput(d) {
    const p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  // -- words and network state --------------------------------------------------------------
  function applyWords() {
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    document.querySelectorAll("[data-t]").forEach(function (n) { n.textContent = t(n.getAttribute("data-t")); });
    $("lang").textContent = lang === "en" ? "中文" : "EN";
    if (me && me.role === "department") $("work-title").textContent = t("work_title_dept");
    showNet(); renderOutbox(); fillCategories();
    hooks.words.forEach(function (fn) { fn(); });
  }
  function showNet() {
    const on = navigator.onLine;
    $("net").textContent = on ? t("online") : t("offline");
    $("net").className = "net" + (on ? "" : " off");
  }

  // -- the API ------------------------------------------------------------------------------
  function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ "Accept": "application/json" }, opts.headers || {});
    if (token) headers["Authorization"] = "Bearer " + token;
    let body = opts.body;
    if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
    return fetch(path, { method: opts.method || "GET", headers: headers, body: body, cache: "no-store" })
      .then(function (r) {
        return r.text().then(function (text) {
          let data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (r.status === 401 && token && !opts.noSignOut) signOutLocal(t("session_ended"));
          return { status: r.status, ok: r.ok, body: data };
        });
      });
  }
  function why(res) {
    const e = res.body && res.body.error;
    if (!e) return "HTTP " + res.status;
    const fields = e.fields ? " (" + Object.keys(e.fields).map(function (k) { return k + ": " + e.fields[k]; }).join("; ") + ")" : "";
    return e.message + fields;
  }
  function retryable(status) { return status === 0 || status === 408 || status === 429 || status >= 500; }

  // -- sign in / out ------------------------------------------------------------------------
  function signIn(ev) {
    ev.preventDefault();
    const err = $("login-error");
    err.hidden = true;
    api("/api/v1/field/login", { method: "POST", noSignOut: true,
                                  json: { username: $("username").value, password: $("password").value } })
      .then(function (res) {
        if (!res.ok) {
          err.textContent = res.status === 429 ? t("locked") : res.status === 403 ? (why(res) || t("not_field")) : t("bad_login");
          err.hidden = false;
          return;
        }
        token = res.body.token; me = res.body;
        delete me.token;
        localStorage.setItem(K.token, token); writeJSON(K.me, me);
        $("password").value = "";
        start();
      })
      .catch(function () { err.textContent = t("network"); err.hidden = false; });
  }
  function signOutLocal(message) {
    token = null; me = null;
    [K.token, K.me, K.work, K.cells, K.fac, K.visits, K.week].forEach(function (k) { localStorage.removeItem(k); });
    stopPatrol();
    hooks.signOut.forEach(function (fn) { fn(); });
    $("tabs").hidden = true; $("logout").hidden = true;
    show("v-login");
    if (message) { $("login-error").textContent = message; $("login-error").hidden = false; }
  }
  function signOut() {
    api("/api/v1/field/logout", { method: "POST", noSignOut: true }).catch(function () { /* offline: forget it here */ })
      .then(function () { signOutLocal(null); });
  }

  // -- views --------------------------------------------------------------------------------
  function show(id) {
    document.querySelectorAll(".view").forEach(function (v) { v.hidden = v.id !== id; });
    document.querySelectorAll("#tabs button").forEach(function (b) {
      const tab = id === "v-incident" ? "v-work" : (hooks.parent[id] || id);
      b.classList.toggle("on", b.getAttribute("data-view") === tab);
    });
    Object.keys(state.maps).forEach(function (k) { state.maps[k].invalidateSize(); });
    if (id === "v-work") loadWork();
    if (id === "v-map") showMap();
    if (id === "v-patrol") loadPatrol();
    if (id === "v-report") ensureReportMap();
    if (hooks.show[id]) hooks.show[id]();
    window.scrollTo(0, 0);
  }

  function start() {
    $("login-error").hidden = true;
    $("tabs").hidden = false; $("logout").hidden = false;
    applyWords();
    loadCategories();
    show(me.role === "department" ? "v-work" : "v-report");
    if (localStorage.getItem(K.patrol) === "on") startPatrol();
    sync();
  }

  // -- categories ---------------------------------------------------------------------------
  function loadCategories() {
    return api("/api/v1/field/categories").then(function (res) {
      if (res.ok) { writeJSON(K.cats, res.body); fillCategories(); }
    }).catch(function () { /* offline: the cached list */ });
  }
  function fillCategories() {
    const sel = $("r-category"), cats = readJSON(K.cats) || [], was = sel.value;
    clear(sel);
    const none = el("option", "", t("choose_cat")); none.value = ""; sel.appendChild(none);
    cats.forEach(function (c) { const o = el("option", "", catName(c)); o.value = c.code; sel.appendChild(o); });
    sel.value = was;
    showDepartment();
  }
  function showDepartment() {
    const c = (readJSON(K.cats) || []).find(function (x) { return x.code === $("r-category").value; });
    const d = c && (lang === "en" ? (c.department_name_en || c.department_name) : c.department_name);
    $("r-dept").textContent = d ? t("department", { d: d }) : "";
  }

  // -- maps (no base tiles: our own layers make the map) -------------------------------------
  function makeMap(id) {
    if (state.maps[id]) return state.maps[id];
    const m = L.map(id, { zoomControl: true, attributionControl: false }).setView([38.18, 107.48], 12);
    state.maps[id] = m;
    return m;
  }
  function cellsLayer(map, mine) {
    const draw = function (gj) {
      if (!gj) return null;
      const layer = L.geoJSON(gj, { style: function (f) {
        const own = f.properties && (f.properties.own || f.properties.code === mine);
        return { color: own ? "#1b7f74" : "#5a7590", weight: own ? 3 : 1, fillColor: own ? "#2a9d8f" : "#9fb3c8",
                 fillOpacity: own ? 0.25 : 0.08 };
      }, onEachFeature: function (f, lyr) {
        if (f.properties && f.properties.name) lyr.bindTooltip(textNode(f.properties.name), { sticky: true });
      } }).addTo(map);
      return layer;
    };
    return fetchLayer("/api/v1/field/cells", K.cells).then(draw);
  }
  function fetchLayer(path, key) {
    return api(path)
      .then(function (res) { if (res.ok) { writeJSON(key, res.body); return res.body; } return readJSON(key); })
      .catch(function () { return readJSON(key); });
  }
  function ownBounds(layer) {
    let b = null;
    if (!layer) return null;
    layer.eachLayer(function (l) { if (l.feature && l.feature.properties && l.feature.properties.code === me.unit_code) b = l.getBounds(); });
    return b || (layer.getLayers().length ? layer.getBounds() : null);
  }

  // -- report -------------------------------------------------------------------------------
  function ensureReportMap() {
    if (!$("r-time").value) $("r-time").value = localInput(new Date());
    if (state.maps["r-map"]) return;
    const map = makeMap("r-map");
    cellsLayer(map, me.unit_code).then(function (layer) {
      const b = ownBounds(layer);
      if (b && !state.pos) map.fitBounds(b);
    });
    locate();
  }
  function getPosition() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error("no GPS")); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ lon: p.coords.longitude, lat: p.coords.latitude, acc: p.coords.accuracy });
      }, function (e) { reject(e); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }
  function locate() {
    getPosition().then(function (p) {
      state.pos = p;
      $("r-acc").textContent = t("accuracy", { m: Math.round(p.acc) });
      placePin();
      checkDuplicates();
    }).catch(function (e) { $("r-acc").textContent = t("no_gps", { e: e.message || e.code }); });
  }
  // Before sending: open cases nearby of the same or a related category (GET /api/v1/incidents/duplicates).
  function checkDuplicates() {
    const box = $("r-dups"), cat = $("r-category").value;
    clear(box); box.hidden = true;
    if (!cat || !state.pos || !navigator.onLine) return;
    const q = "?category=" + encodeURIComponent(cat) + "&lon=" + state.pos.lon + "&lat=" + state.pos.lat;
    api("/api/v1/incidents/duplicates" + q).then(function (res) {
      const items = res.ok && res.body ? res.body.items || [] : [];
      if (!items.length || $("r-category").value !== cat) return;
      box.appendChild(el("strong", "", t("dup_title")));
      const list = el("ul", "", "");
      items.forEach(function (d) {
        const name = lang === "en" ? (d.category_name_en || d.category_name) : d.category_name;
        list.appendChild(el("li", "", [name, stateName(d.state), t("dup_metres", { m: d.distance_m }),
                                       fmtTime(d.received_at)].join(" · ")));
      });
      box.appendChild(list);
      box.appendChild(el("p", "", t("dup_hint")));
      box.hidden = false;
    }).catch(function () { /* offline: nothing to suggest */ });
  }
  function placePin() {
    const map = makeMap("r-map"), ll = [state.pos.lat, state.pos.lon];
    if (!state.pin) {
      state.pin = L.marker(ll, { draggable: true, autoPan: true }).addTo(map);
      state.pin.on("dragend", function () {
        const p = state.pin.getLatLng();
        state.pos = { lon: p.lng, lat: p.lat, acc: state.pos ? state.pos.acc : null, moved: true };
        checkDuplicates();
      });
    } else {
      state.pin.setLatLng(ll);
    }
    map.setView(ll, Math.max(map.getZoom(), 15));
  }

  function resizePhoto(file, maxSide) {
    return new Promise(function (resolve, reject) {
      const url = URL.createObjectURL(file), img = new Image();
      img.onload = function () {
        const scale = Math.min(1, maxSide / Math.max(img.naturalWidth, img.naturalHeight));
        const c = document.createElement("canvas");
        c.width = Math.max(1, Math.round(img.naturalWidth * scale));
        c.height = Math.max(1, Math.round(img.naturalHeight * scale));
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) { b ? resolve(b) : reject(new Error("could not encode")); }, "image/jpeg", 0.82);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }
  function addPhotos(input, list, box) {
    const files = Array.prototype.slice.call(input.files || []);
    Promise.all(files.map(function (f) { return resizePhoto(f, 1600); })).then(function (blobs) {
      blobs.forEach(function (b) {
        list.push(b);
        const img = el("img"); img.src = URL.createObjectURL(b); img.alt = "";
        box.appendChild(img);
      });
      input.value = "";
    }).catch(function (e) { toast(String(e.message || e)); });
  }

  function submitReport(ev) {
    ev.preventDefault();
    const err = $("r-error"), cat = $("r-category").value;
    err.hidden = true;
    if (!cat) { err.textContent = t("need_category"); err.hidden = false; return; }
    if (!state.pos) { err.textContent = t("route_no_gps"); err.hidden = false; return; }
    const id = uuid(), observed = new Date($("r-time").value || Date.now());
    const c = (readJSON(K.cats) || []).find(function (x) { return x.code === cat; }) || { code: cat };
    const item = { id: id, kind: "report", created: Date.now(), status: "pending",
                   label: [catName(c), $("r-desc").value.slice(0, 30)].filter(Boolean).join(" · "),
                   body: { id: id, category: cat, description: $("r-desc").value, lon: state.pos.lon, lat: state.pos.lat,
                           observed_at: observed.toISOString() },
                   photos: state.photos.slice(), photosDone: 0 };
    S.put(item).then(function () {
      state.photos = []; clear($("r-previews")); $("r-desc").value = ""; $("r-category").value = "";
      $("r-time").value = localInput(new Date()); showDepartment(); checkDuplicates();
      toast(navigator.onLine ? t("sending") : t("queued")); renderOutbox(); sync();
    });
  }

  // -- the outbox ---------------------------------------------------------------------------
  function renderOutbox() {
    S.all().then(function (items) {
      const ul = $("outbox");
      clear(ul);
      items.slice().reverse().slice(0, 30).forEach(function (it) {
        const li = el("li");
        li.setAttribute("data-id", it.id); li.setAttribute("data-status", it.status);
        li.appendChild(el("span", "t", t("q_" + it.kind) + " · " + (it.label || "")));
        li.appendChild(el("span", "badge " + it.status, t(it.status)));
        if (it.photos && it.photos.length) li.appendChild(el("span", "badge", t("photos", { n: it.photos.length })));
        if (it.reason) li.appendChild(el("div", "hint", it.reasonKey ? t(it.reasonKey, it.reasonVars) : it.reason));
        ul.appendChild(li);
      });
    }).catch(function () { /* private mode without IndexedDB */ });
  }

  function sync() {
    if (!token || !navigator.onLine) return Promise.resolve();
    if (state.syncing) { state.again = true; return state.syncing; }  // one run at a time; go again after it
    state.again = false;
    state.syncing = S.all().then(function (items) {
      const todo = items.filter(function (i) { return i.status === "pending"; });
      let chain = Promise.resolve(true);
      todo.forEach(function (it) {
        chain = chain.then(function (go) {
          return go ? send(it).then(function () { state.sentSome = true; renderOutbox(); return true; }) : false;
        });
      });
      return chain;
    }).catch(function () { /* network away: try again later */ })
      .then(function () {
        state.syncing = null; renderOutbox();
        if (state.again) return sync();
        if (state.sentSome && state.incident && !$("v-incident").hidden) openIncident(state.incident.id);  // show what landed
        if (state.sentSome) hooks.synced.forEach(function (fn) { fn(); });
        state.sentSome = false;
      });
    return state.syncing;
  }

  function finish(it, status, reason) {
    it.status = status; it.reason = reason || null; it.sentAt = Date.now();
    if (status === "sent") it.photoCount = (it.photos || []).length;
    return S.put(it);
  }
  function fail(res) { const e = new Error(why(res)); e.retry = true; throw e; }

  function send(it) {
    if (it.kind === "report") return sendReport(it);
    if (it.kind === "action") return sendAction(it);
    if (hooks.send[it.kind]) return hooks.send[it.kind](it);
    const path = it.kind === "visit" ? "/api/v1/visits" : "/api/v1/positions";
    return api(path, { method: "POST", json: it.body }).then(function (res) {
      if (res.ok) return finish(it, "sent");
      if (retryable(res.status) || res.status === 401) fail(res);
      return finish(it, "refused", why(res));
    });
  }
  function sendReport(it) {
    const step = it.incidentId ? Promise.resolve(null) : api("/api/v1/incidents", { method: "POST", json: it.body });
    return step.then(function (res) {
      if (res) {
        if (!res.ok) {
          if (retryable(res.status) || res.status === 401) fail(res);
          return finish(it, "refused", why(res));
        }
        it.incidentId = res.body.id;
        if (it.photoBase === undefined) it.photoBase = (res.body.photos || []).length;
        return S.put(it).then(function () { return sendPhotos(it); });
      }
      return sendPhotos(it);
    });
  }
  function sendAction(it) {
    const step = it.done ? Promise.resolve(null)
      : api("/api/v1/incidents/" + it.incidentId + "/actions/" + it.action, { method: "POST", json: it.body });
    return step.then(function (res) {
      if (!res) return sendPhotos(it);
      if (res.ok || res.status === 409) {
        return (res.ok ? Promise.resolve(res) : api("/api/v1/incidents/" + it.incidentId)).then(function (cur) {
          const done = res.ok || ((cur.body && cur.body.timeline) || []).some(function (e) {
            return e.action === it.action && (e.note || "") === (it.body.note || "") && Date.parse(e.at) >= it.created - 600000;
          });
          if (!done) return finish(it, "refused", why(res));
          it.done = true;
          if (it.photoBase === undefined) it.photoBase = ((cur.body && cur.body.photos) || []).length;
          return S.put(it).then(function () { return sendPhotos(it); });
        });
      }
      if (retryable(res.status) || res.status === 401) fail(res);
      return finish(it, "refused", why(res));
    });
  }
  // Photos go one at a time after the report or action; a photo whose answer was lost is looked
  // for on the server (the incident's photo count) before it is sent again, so it is kept once.
  function sendPhotos(it) {
    const photos = it.photos || [];
    if (it.photosDone >= photos.length) return finish(it, "sent");
    const i = it.photosDone || 0;
    const check = it.photoTried === i
      ? api("/api/v1/incidents/" + it.incidentId).then(function (r) { return r.ok && (r.body.photos || []).length > it.photoBase + i; })
      : Promise.resolve(false);
    return check.then(function (already) {
      if (already) { it.photosDone = i + 1; return S.put(it).then(function () { return sendPhotos(it); }); }
      it.photoTried = i;
      return S.put(it).then(function () {
        return api("/api/v1/incidents/" + it.incidentId + "/photos",
                   { method: "POST", body: photos[i], headers: { "Content-Type": "image/jpeg" } });
      }).then(function (res) {
        if (res.ok) { it.photosDone = i + 1; it.photoTried = null; return S.put(it).then(function () { return sendPhotos(it); }); }
        if (retryable(res.status) || res.status === 401) fail(res);
        return finish(it, "refused", why(res));
      });
    });
  }

  // -- my work ------------------------------------------------------------------------------
  function workQuery() {
    return me.role === "department" ? "state=dispatched,in_progress,on_site&limit=200" : "state=open,resolved&limit=200";
  }
  function loadWork() {
    api("/api/v1/incidents?" + workQuery()).then(function (res) {
      if (res.ok) { writeJSON(K.work, res.body.items); renderWork(res.body.items, false); }
    }).catch(function () { renderWork(readJSON(K.work) || [], true); });
    renderWork(readJSON(K.work) || [], !navigator.onLine);
  }
  function renderWork(items, cached) {
    const ul = $("work-list");
    clear(ul);
    $("work-empty").hidden = items.length > 0;
    if (cached && items.length) ul.appendChild(el("li", "hint", t("cached")));
    items.forEach(function (it) {
      const li = el("li"), b = el("button", "item");
      b.type = "button"; b.setAttribute("data-id", it.id);
      b.appendChild(el("span", "t", catName(it)));
      b.appendChild(el("span", "badge", stateName(it.state)));
      if (it.overdue) b.appendChild(el("span", "badge overdue", t("overdue")));
      if (it.description) b.appendChild(el("div", "", it.description.slice(0, 60)));
      b.appendChild(el("div", "hint", (it.cell_code || "") + " · " + t("due", { t: fmtTime(it.due_at) })));
      b.addEventListener("click", function () { openIncident(it.id); });
      li.appendChild(b); ul.appendChild(li);
    });
  }

  function openIncident(id) {
    show("v-incident");
    const cached = readJSON(K.inc + id);
    if (cached) renderIncident(cached);
    api("/api/v1/incidents/" + id).then(function (res) {
      if (res.ok) { writeJSON(K.inc + id, res.body); renderIncident(res.body); }
    }).catch(function () { /* offline: the cached copy */ });
  }
  function renderIncident(inc) {
    state.incident = inc;
    $("i-title").textContent = catName(inc);
    $("i-meta").textContent = stateName(inc.state) + " · " + (inc.cell_code || "") + " · " + t("due", { t: fmtTime(inc.due_at) })
      + (inc.overdue ? " · " + t("overdue") : "");
    $("i-desc").textContent = inc.description || "";
    const box = $("i-actions");
    clear(box);
    (inc.allowed_actions || []).forEach(function (a) {
      const b = el("button", "", t("act_" + a));
      b.type = "button"; b.setAttribute("data-action", a);
      b.addEventListener("click", function () { chooseAction(a, b); });
      box.appendChild(b);
    });
    $("i-act-form").hidden = true;
    showPhotos(inc);
    $("i-geo").href = "geo:" + inc.lat + "," + inc.lon + "?q=" + inc.lat + "," + inc.lon;
    const tl = $("i-timeline");
    clear(tl);
    (inc.timeline || []).forEach(function (e) {
      const li = el("li", "", fmtTime(e.at) + " · " + t("act_" + e.action) + " → " + stateName(e.to_state));
      li.setAttribute("data-action", e.action);
      if (e.note) li.appendChild(el("div", "hint", e.note));
      tl.appendChild(li);
    });
    const map = makeMap("i-map");
    if (!state.incCells) state.incCells = cellsLayer(map, me.unit_code);  // context: the cells
    if (state.incMarker) map.removeLayer(state.incMarker);
    if (state.routeLayer) { map.removeLayer(state.routeLayer); state.routeLayer = null; }
    clear($("i-steps")); $("i-eta").textContent = "";
    state.incMarker = L.circleMarker([inc.lat, inc.lon], { radius: 10, color: "#fff", weight: 2, fillColor: "#e76f51", fillOpacity: 1 }).addTo(map);
    map.setView([inc.lat, inc.lon], 15);
    setTimeout(function () { map.invalidateSize(); }, 50);
  }
  // Photos need the token, so they are fetched as blobs and shown from blob: URLs.
  function showPhotos(inc) {
    const box = $("i-photos");
    clear(box);
    (inc.photos || []).forEach(function (p) {
      const img = el("img"); img.alt = ""; box.appendChild(img);
      fetch("/api/v1/incidents/" + inc.id + "/photos/" + p.id, { headers: { "Authorization": "Bearer " + token } })
        .then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (b) { if (b) img.src = URL.createObjectURL(b); else box.removeChild(img); })
        .catch(function () { if (img.parentNode) box.removeChild(img); });
    });
  }
  function chooseAction(action, button) {
    state.action = action; state.actPhotos = [];
    clear($("i-previews")); $("i-note").value = "";
    document.querySelectorAll("#i-actions button").forEach(function (b) { b.classList.toggle("on", b === button); });
    $("i-act-go").textContent = t("act_" + action);
    $("i-act-form").hidden = false;
  }
  function doAction() {
    const inc = state.incident, action = state.action;
    const where = action === "arrive" || action === "resolve" ? getPosition().catch(function () { return null; }) : Promise.resolve(null);
    where.then(function (p) {
      const body = { note: $("i-note").value || null };
      if (p) { body.lon = p.lon; body.lat = p.lat; }
      const item = { id: uuid(), kind: "action", created: Date.now(), status: "pending", incidentId: inc.id, action: action,
                     label: t("act_" + action) + " · " + catName(inc), body: body, photos: state.actPhotos.slice(), photosDone: 0 };
      return S.put(item);
    }).then(function () {
      $("i-act-form").hidden = true; state.actPhotos = []; clear($("i-previews"));
      renderOutbox();
      toast(navigator.onLine ? t("sending") : t("queued"));
      return sync();
    });
  }

  function route() {
    const inc = state.incident;
    if (!navigator.onLine) { toast(t("route_offline")); return; }
    getPosition().then(function (p) {
      return api("/api/v1/incidents/" + inc.id + "/route?from=" + p.lon.toFixed(6) + "," + p.lat.toFixed(6));
    }, function () { throw new Error(t("route_no_gps")); }).then(function (res) {
      if (!res.ok) { toast(why(res)); return; }
      const f = res.body, map = makeMap("i-map");
      if (state.routeLayer) map.removeLayer(state.routeLayer);
      state.routeLayer = L.geoJSON(f, { style: { color: "#1d3557", weight: 5, opacity: 0.85 } }).addTo(map);
      map.fitBounds(state.routeLayer.getBounds(), { padding: [20, 20] });
      $("i-eta").textContent = t("eta", { min: Math.max(1, Math.round(f.properties.minutes)),
                                          km: (f.properties.length_m / 1000 + f.properties.offroad_m / 1000).toFixed(1) });
      const ol = $("i-steps");
      clear(ol);
      (f.properties.steps || []).forEach(function (s) { ol.appendChild(el("li", "", s.text)); });
    }).catch(function (e) { toast(String(e.message || e)); });
  }

  // -- the map tab --------------------------------------------------------------------------
  function showMap() {
    const map = makeMap("m-map");
    setTimeout(function () { map.invalidateSize(); }, 50);
    if (state.mapDrawn) { drawWorkOnMap(map); return; }
    state.mapDrawn = true;
    cellsLayer(map, me.unit_code).then(function (layer) {
      const b = me.role === "worker" ? ownBounds(layer) : workBounds();
      if (b) map.fitBounds(b, { maxZoom: 15, padding: [30, 30] });
      return fetchLayer("/layers/facilities.geojson", K.fac);  // the jurisdiction's
    }).then(function (gj) {
      if (!gj) return;
      L.geoJSON(gj, { pointToLayer: function (f, ll) {
        return L.circleMarker(ll, { radius: 8, color: "#fff", weight: 2, fillColor: "#457b9d", fillOpacity: 1 });
      }, onEachFeature: function (f, lyr) { if (f.properties && f.properties.name) lyr.bindTooltip(textNode(f.properties.name)); } }).addTo(map);
    });
    drawWorkOnMap(map);
  }
  function workBounds() {
    const pts = (readJSON(K.work) || []).filter(function (it) { return it.lat !== null && it.lat !== undefined; })
      .map(function (it) { return [it.lat, it.lon]; });
    return pts.length ? L.latLngBounds(pts) : null;
  }
  function drawWorkOnMap(map) {
    if (state.workLayer) map.removeLayer(state.workLayer);
    state.workLayer = L.layerGroup().addTo(map);
    (readJSON(K.work) || []).forEach(function (it) {
      if (it.lat === null || it.lat === undefined) return;
      const m = L.circleMarker([it.lat, it.lon], { radius: 12, color: "#fff", weight: 2, fillColor: "#e76f51", fillOpacity: 1 });
      m.bindTooltip(textNode(catName(it)));
      m.on("click", function () { openIncident(it.id); });
      state.workLayer.addLayer(m);
    });
  }

  // -- patrol and visits --------------------------------------------------------------------
  function startPatrol() {
    if (!navigator.geolocation || state.patrolWatch !== null) return;
    localStorage.setItem(K.patrol, "on");
    state.patrolWatch = navigator.geolocation.watchPosition(function (p) {
      state.fixes.push({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy,
                         at: new Date(p.timestamp || Date.now()).toISOString() });
      state.fixCount += 1;
      if (state.fixes.length >= 10) flushFixes();
      patrolState();
    }, function () { /* keep watching */ }, { enableHighAccuracy: true, maximumAge: 10000 });
    state.flushTimer = setInterval(flushFixes, 30000);
    patrolState();
  }
  function stopPatrol() {
    if (state.patrolWatch !== null) navigator.geolocation.clearWatch(state.patrolWatch);
    state.patrolWatch = null;
    clearInterval(state.flushTimer);
    localStorage.removeItem(K.patrol);
    flushFixes();
    patrolState();
  }
  function flushFixes() {
    if (!state.fixes.length || !me) return Promise.resolve();
    const batch = state.fixes.splice(0, state.fixes.length);
    return S.put({ id: uuid(), kind: "positions", created: Date.now(), status: "pending",
                   label: batch.length + " × GPS", body: { positions: batch } }).then(function () { renderOutbox(); sync(); });
  }
  function patrolState() {
    const on = state.patrolWatch !== null;
    $("p-state").textContent = on ? t("patrol_on", { n: state.fixCount }) : t("patrol_off");
    $("p-toggle").textContent = on ? t("patrol_stop") : t("patrol_start");
  }
  function saveVisit(ev) {
    ev.preventDefault();
    const place = $("v-place").value.trim();
    if (!place) { toast(t("place_required")); return; }
    const kind = document.querySelector("input[name=v-kind]:checked").value;
    getPosition().catch(function () { return null; }).then(function (p) {
      const id = uuid(), body = { id: id, kind: kind, place: place, note: $("v-note").value, visited_at: new Date().toISOString() };
      if (p) { body.lon = p.lon; body.lat = p.lat; }
      return S.put({ id: id, kind: "visit", created: Date.now(), status: "pending", label: place, body: body });
    }).then(function () {
      $("v-place").value = ""; $("v-note").value = "";
      toast(navigator.onLine ? t("sending") : t("queued")); renderOutbox();
      return sync();
    }).then(loadPatrol);
  }
  function loadPatrol() {
    patrolState();
    const render = function (week, visits) {
      const box = $("week");
      clear(box);
      [["wk_cells", week && week.cells_covered], ["wk_reports", week && week.reports], ["wk_visits", week && week.visits]].forEach(function (k) {
        const d = el("div"); d.appendChild(el("b", "", k[1] === undefined || k[1] === null ? "–" : k[1]));
        d.appendChild(el("span", "hint", t(k[0]))); box.appendChild(d);
      });
      const ul = $("visit-list");
      clear(ul);
      (visits || []).forEach(function (v) {
        const li = el("li");
        li.appendChild(el("span", "t", v.place));
        li.appendChild(el("span", "badge", t(v.kind)));
        li.appendChild(el("div", "hint", fmtTime(v.visited_at) + (v.note ? " · " + v.note : "")));
        ul.appendChild(li);
      });
    };
    render(readJSON(K.week), readJSON(K.visits));
    Promise.all([api("/api/v1/field/week"), api("/api/v1/visits")]).then(function (r) {
      if (r[0].ok) writeJSON(K.week, r[0].body);
      if (r[1].ok) writeJSON(K.visits, r[1].body.items);
      render(readJSON(K.week), readJSON(K.visits));
    }).catch(function () { /* offline: cached */ });
  }

  // -- wiring -------------------------------------------------------------------------------
  function wire() {
    $("login-form").addEventListener("submit", signIn);
    $("logout").addEventListener("click", signOut);
    $("lang").addEventListener("click", function () {
      lang = lang === "en" ? "zh" : "en"; localStorage.setItem(K.lang, lang); applyWords();
      if (!$("v-patrol").hidden) loadPatrol();
      if (!$("v-work").hidden) loadWork();
    });
    document.querySelectorAll("#tabs button").forEach(function (b) {
      b.addEventListener("click", function () { show(b.getAttribute("data-view")); });
    });
    $("r-category").addEventListener("change", showDepartment);
    $("r-category").addEventListener("change", checkDuplicates);
    $("r-gps").addEventListener("click", locate);
    $("r-photo").addEventListener("change", function () { addPhotos($("r-photo"), state.photos, $("r-previews")); });
    $("i-photo").addEventListener("change", function () { addPhotos($("i-photo"), state.actPhotos, $("i-previews")); });
    $("report-form").addEventListener("submit", submitReport);
    $("i-back").addEventListener("click", function () { show("v-work"); });
    $("i-act-go").addEventListener("click", doAction);
    $("i-route").addEventListener("click", route);
    $("p-toggle").addEventListener("click", function () { state.patrolWatch === null ? startPatrol() : stopPatrol(); });
    $("visit-form").addEventListener("submit", saveVisit);
    window.addEventListener("online", function () { showNet(); sync(); });
    window.addEventListener("offline", showNet);
    setInterval(sync, 15000);
  }

  // the helpers registry.js builds on (one API client, one outbox, one word table)
  window.FieldApp = { hooks: hooks, store: S, api: api, why: why, retryable: retryable, finish: finish, fail: fail,
    t: t, el: el, clear: clear, toast: toast, uuid: uuid, readJSON: readJSON, writeJSON: writeJSON, show: show,
    sync: sync, renderOutbox: renderOutbox, getPosition: getPosition, makeMap: makeMap, cellsLayer: cellsLayer,
    ownBounds: ownBounds, fmtTime: fmtTime, localInput: localInput, textNode: textNode,
    me: function () { return me; }, lang: function () { return lang; } };

  function boot() {
    wire();
    applyWords();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(function () { /* http, or blocked */ });
      // a page loaded during the worker's activation, or by a hard reload, is not controlled: ask the worker to claim it
      navigator.serviceWorker.ready.then(function (reg) {
        if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage("claim");
      });
    }
    if (token && me) start(); else show("v-login");
  }
  // registry.js loads after this file: boot once every script of the page has run
  document.addEventListener("DOMContentLoaded", boot);
})();
