/* OneMap map styling: functions referenced from Python through dash-extensions' Namespace. */
window.onemap = Object.assign({}, window.onemap, {
    hideouts: {},  // the newest hideout per layer (key: component id), see hideout() below
    map: {
        /* The layer's newest hideout: one that changed while its layer was still loading is
           not handed to the layer by dash-leaflet, so the clientside callbacks keep it here. */
        hideout: function (context) {
            const h = (context && context.hideout) || {};
            return (h.key && window.onemap.hideouts[h.key]) || h;
        },
        /* Inside the selected unit (hideout.unit: a code prefix), or no unit selected. */
        inside: function (code, unit) {
            return !unit || (typeof code === "string" && code.indexOf(unit) === 0);
        },
        /* The theme's colour for a cell: the class of its value (hideout.values by code). */
        cellStyle: function (feature, context) {
            const h = window.onemap.map.hideout(context);
            const classes = h.classes || [], colors = h.colors || [];
            const code = feature.properties.code;
            const v = h.values ? h.values[code] : null;
            let color = h.none || "#3a4a5c";
            if (v !== null && v !== undefined) {
                for (let i = 0; i < classes.length; i++) { if (v >= classes[i]) { color = colors[i]; } }
            }
            const inside = window.onemap.map.inside(code, h.unit);
            /* outside the unit: dimmed, never blacked out */
            return {fillColor: color, fillOpacity: inside ? 0.8 : 0.3, color: inside ? "#3e5c76" : "#24384d",
                    weight: 0.5, opacity: inside ? 0.8 : 0.5};
        },
        villageStyle: function (feature, context) {
            const h = window.onemap.map.hideout(context);
            const inside = window.onemap.map.inside(feature.properties.code, h.unit);
            return {fill: false, color: "#8fb8de", weight: 1.4, opacity: inside ? 0.85 : 0.35};
        },
        townStyle: function (feature, context) {
            const h = window.onemap.map.hideout(context);
            const inside = window.onemap.map.inside(feature.properties.code, h.unit) ||
                (h.unit || "").indexOf(feature.properties.code) === 0;
            return {fill: false, color: "#ffffff", weight: 3.5, opacity: inside ? 0.95 : 0.45};
        },
        patrolStyle: function (feature) {  // colours: mapview.PATROL_COLORS
            const done = feature.properties.patrolled === true;
            return {fill: true, fillColor: done ? "#57cc99" : "#ff9f1c", fillOpacity: done ? 0.35 : 0.2,
                    color: done ? "#57cc99" : "#ff9f1c", weight: 1, dashArray: done ? null : "3 3"};
        },
        bannerStyle: function () {
            return {fill: false, color: "#ff6b6b", weight: 4, opacity: 1, dashArray: "8 6"};
        },
        roadStyle: function (feature) {
            const w = {national: 3.5, provincial: 2.8, county: 1.8, urban: 1.2, township: 1.2, track: 0.9};
            const c = {national: "#ff9f1c", provincial: "#ffbf69", county: "#d4b483", urban: "#c9c9c9",
                       township: "#a68a64", track: "#8c7a5b"};
            const k = feature.properties.road_class;
            return {color: c[k] || "#888", weight: w[k] || 1, opacity: 0.9,
                    dashArray: k === "track" ? "3 4" : null};
        },
        facilityPoint: function (feature, latlng, context) {
            const h = window.onemap.map.hideout(context);
            const c = h.colors || {};
            const p = feature.properties;
            /* a facility outside the unit stays on the map (a route may start there), dimmed */
            const inside = !h.unit || !p.unit_code || String(p.unit_code).indexOf(h.unit) === 0;
            return L.circleMarker(latlng, {pane: "pane-facilities", radius: 5, color: "#111", weight: 1,
                                           fillColor: c[p.kind] || "#ccc", fillOpacity: inside ? 1 : 0.55,
                                           opacity: inside ? 1 : 0.55});
        },
        /* The suggested new station (dashboard/station.py): a large mark of its own colour and its
           numbers as a label; the label is data, so it goes in as text, never markup. */
        stationPoint: function (feature, latlng, context) {
            const h = (context && context.hideout) || {};
            const marker = L.circleMarker(latlng, {pane: "pane-station", radius: 11, color: "#0b1622", weight: 3,
                                                   fillColor: h.color || "#7fff00", fillOpacity: 1,
                                                   className: "om-station-mark"});
            const text = document.createElement("span");
            text.textContent = String(feature.properties.label || "");
            marker.bindTooltip(text, {permanent: true, direction: "top", offset: [0, -12],
                                      className: "om-station-label"});
            return marker;
        },
        /* What the search box found: a white ring over it, above every other layer. */
        foundPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {pane: "pane-found", radius: 16, color: "#ffffff", weight: 4, fill: false,
                                           dashArray: "6 4", interactive: false, className: "om-found"});
        },
        workerPoint: function (feature, latlng) {
            return L.circleMarker(latlng, {pane: "pane-workers", radius: 3.5, color: "#0b1622", weight: 1,
                                           fillColor: "#4cc9f0", fillOpacity: 0.95});
        },
        incidentPoint: function (feature, latlng, context) {
            const h = context.hideout || {};
            const p = feature.properties;
            const colors = h.colors || {};
            if (p.cluster) {
                /* a cluster's number is a label, not a target: a click goes to the cell under
                   the cursor (a large cluster must not open its neighbour's cell) */
                const big = !!h.wall;
                const r = big ? Math.max(22, Math.min(46, 10 + Math.sqrt(p.count) * 2.2))
                              : Math.max(6, Math.min(30, 4 + Math.sqrt(p.count) * 1.4));
                const color = p.overdue > 0 ? colors.overdue : (p.open > 0 ? colors.in_hand : colors.solved);
                const count = Number(p.count) || 0;  // goes into markup below: a number, never a string
                const label = count >= 1000 ? (count / 1000).toFixed(1) + "k" : String(count);
                const icon = L.divIcon({className: "om-cluster" + (big ? " om-cluster-wall" : "") +
                                                   (p.overdue > 0 ? " om-alarm" : ""),
                    iconSize: [2 * r, 2 * r],
                    html: '<div style="width:' + 2 * r + 'px;height:' + 2 * r + 'px;line-height:' + 2 * r +
                          'px;border-color:' + color + '">' + label + '</div>'});
                return L.marker(latlng, {icon: icon, pane: "pane-incidents", interactive: false,
                                         keyboard: false});
            }
            const flash = (h.flash || []).indexOf(p.id) >= 0;
            const marker = L.circleMarker(latlng, {pane: "pane-incidents", radius: flash ? 9 : 6,
                bubblingMouseEvents: false,  // a click opens the incident, not a drill-down
                color: flash ? "#ffffff" : "#111", weight: flash ? 3 : 1,
                fillColor: colors[p.class] || "#ccc", fillOpacity: 0.95,
                className: flash ? "om-flash" : (p.class === "overdue" ? "om-alarm" : "")});
            return marker;
        },
        /* Houses (实有房屋): a count per cell at low zoom, a small dot per house, a footprint as a
           polygon at the highest zooms (houseStyle). The count is a number, never a string. */
        housePoint: function (feature, latlng, context) {
            const h = context.hideout || {};
            const p = feature.properties;
            if (p.cluster) {
                const count = Number(p.count) || 0;
                const r = Math.max(7, Math.min(22, 5 + Math.sqrt(count)));
                const icon = L.divIcon({className: "om-cluster om-cluster-house", iconSize: [2 * r, 2 * r],
                    html: '<div style="width:' + 2 * r + 'px;height:' + 2 * r + 'px;line-height:' + 2 * r +
                          'px;border-color:' + (h.color || "#e9c46a") + '">' + String(count) + '</div>'});
                return L.marker(latlng, {icon: icon, pane: "pane-houses", interactive: false, keyboard: false});
            }
            return L.circleMarker(latlng, {pane: "pane-houses", radius: 3, color: "#111", weight: 1,
                                           fillColor: h.color || "#e9c46a", fillOpacity: 0.95});
        },
        houseStyle: function (feature, context) {
            const h = (context && context.hideout) || {};
            return {color: h.color || "#e9c46a", weight: 1.5, fillColor: h.color || "#e9c46a", fillOpacity: 0.45};
        },
        /* Labels by level: the children of the selected unit are named on the map (the unit
           itself at cell level); everything else has its name on hover only. */
        label: function (feature, layer, context) {
            const h = window.onemap.map.hideout(context);
            const p = feature.properties;
            const name = (h.lang === "en" && p.name_en) ? p.name_en : p.name;
            if (!name) { return; }
            const unit = h.unit || "";
            const code = typeof p.code === "string" ? p.code : "";
            const permanent = h.unit !== undefined && code !== "" &&
                ((code.length === unit.length + 3 && code.indexOf(unit) === 0) ||
                 (code === unit && code.length >= 15));
            // A string given to Leaflet becomes innerHTML: names come from data (an imported grid
            // unit may be called "<img onerror=…>"), so they go in as a text node, never markup.
            const text = document.createElement("span");
            text.textContent = String(name);
            const level = Number(p.level) || 0;  // a number: safe in a class name
            layer.bindTooltip(text, {permanent: permanent, direction: "center",
                                     className: (permanent ? "onemap-label" : "onemap-tip") + " om-l-" + level});
        }
    }
});

/* Clientside callbacks: the wall's clock runs in the browser (no server round trip a second). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onemap: {
        clock: function (_n, tz) {  // tz: the region's zone, from its database row (wall.layout)
            const now = new Date();
            const fmt = new Intl.DateTimeFormat("zh-CN", {timeZone: tz || "UTC", year: "numeric",
                month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
                hour12: false});
            return fmt.format(now);
        }
    }
});

/* Live stream: an EventSource that never gives up and never loses its place. The browser's own
   reconnects (after a dropped stream) send Last-Event-ID by themselves; but a refused attempt
   (503 while the database is away, 429, 401) closes a native EventSource for good. This one then
   opens a new one after 1-4 s, with ?last_event_id= so the server replays what the page missed
   (dashboard/live.py). dash-extensions' EventSource component constructs window.EventSource,
   and builds a new one whenever it re-renders: the last id is remembered per URL for the page. */
(function () {
    const Native = window.EventSource;
    if (!Native || Native.onemapResilient) { return; }
    const lastIds = {};
    function Resilient(url, opts) {
        this.url = url;
        this.opts = opts;
        this.readyState = Native.CONNECTING;
        this.onopen = null;
        this.onmessage = null;
        this.onerror = null;
        this._closed = false;
        this._delay = 1000;
        this._connect();
    }
    Resilient.CONNECTING = Native.CONNECTING;
    Resilient.OPEN = Native.OPEN;
    Resilient.CLOSED = Native.CLOSED;
    Resilient.onemapResilient = true;
    Resilient.prototype._connect = function () {
        const self = this;
        let url = this.url;
        const last = lastIds[this.url];
        if (last) {
            url += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(last);
        }
        const src = new Native(url, this.opts);
        this._src = src;
        src.onopen = function (e) {
            self.readyState = Native.OPEN;
            self._delay = 1000;
            if (self.onopen) { self.onopen(e); }
        };
        src.onmessage = function (e) {
            if (e.lastEventId) { lastIds[self.url] = e.lastEventId; }
            if (self.onmessage) { self.onmessage(e); }
        };
        src.onerror = function (e) {
            if (self._closed) { return; }
            self.readyState = Native.CONNECTING;
            if (src.readyState === Native.CLOSED) {  /* refused: the browser gave up, we do not */
                setTimeout(function () { if (!self._closed) { self._connect(); } }, self._delay);
                self._delay = Math.min(self._delay * 2, 4000);
            }
            if (self.onerror) { self.onerror(e); }
        };
    };
    Resilient.prototype.close = function () {
        this._closed = true;
        this.readyState = Native.CLOSED;
        if (this._src) { this._src.close(); }
    };
    window.EventSource = Resilient;
})();

/* Clientside callbacks of the map (dashboard/mapview.py): layer URLs are built here, in the
   browser, from the URLs the server put in the page. A pan, a zoom or a drill-down costs no server
   callback; the server checks the unit (and everything else) again when a URL is fetched. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onemap_map: {
        /* ``url`` with ``params`` set (null, "" and [] remove a parameter; arrays repeat it). */
        setParams: function (url, params) {
            const u = new URL(url, window.location.origin);
            Object.keys(params).forEach(function (k) {
                const v = params[k];
                u.searchParams.delete(k);
                if (v === null || v === undefined || v === "") { return; }
                (Array.isArray(v) ? v : [v]).forEach(function (x) { u.searchParams.append(k, String(x)); });
            });
            return u.pathname + (u.search || "");
        },
        /* The selected unit into the hideouts of the outline and facility layers (dim, labels). */
        unitHideouts: function (unit) {
            const hideouts = Array.prototype.slice.call(arguments, 1);
            return hideouts.map(function (h) {
                const next = Object.assign({}, h || {}, {unit: unit});
                if (next.key) { window.onemap.hideouts[next.key] = next; }
                return next;
            });
        },
        /* The cells' hideout: the unit (dim, labels) and the theme's classes, colours and values. */
        cellHideout: function (unit, theme, hideout) {
            const th = theme || {};
            const next = Object.assign({}, hideout || {}, {unit: unit, classes: th.classes || [],
                colors: th.colors || [], values: th.values || null, none: th.none});
            if (next.key) { window.onemap.hideouts[next.key] = next; }
            return next;
        },
        /* The map wrapper's classes: one om-hide-<pane> per layer switched off (onemap.css). */
        hiddenPanes: function (shown, options) {
            const on = shown || [];
            const classes = ["om-mapwrap"];
            (options || []).forEach(function (o) {
                if (on.indexOf(o.value) < 0) { classes.push("om-hide-" + String(o.value).replace(/:/g, "-")); }
            });
            return classes.join(" ");
        },
        /* The incidents layer for the viewport and the filters: clusters or points by zoom (the
           registry picks the variant), ``v`` a tick that refetches after a live event. */
        incidentUrl: function (zoom, bounds, unit, range, cats, level, tick, url) {
            if (!url) { return window.dash_clientside.no_update; }
            let bbox = null;
            if (bounds && bounds.length === 2) {
                const s = bounds[0][0], w = bounds[0][1], n = bounds[1][0], e = bounds[1][1];
                bbox = [w, s, e, n].map(function (x) { return Number(x).toFixed(5); }).join(",");
            }
            return window.dash_clientside.onemap_map.setParams(url, {
                unit: unit, zoom: (zoom === null || zoom === undefined) ? null : Math.round(zoom * 100) / 100,
                bbox: bbox, range: range, cat: cats || [], level: level, v: tick});
        },
        /* The houses layer for the viewport, fetched only while it is switched on (its base URL,
           limited to the jurisdiction, is in its hideout; null when the user may not have it). */
        houseUrl: function (zoom, bounds, unit, shown, hideout) {
            const base = (hideout || {}).base;
            if (!base) { return window.dash_clientside.no_update; }
            if ((shown || []).indexOf("houses") < 0) { return null; }
            let bbox = null;
            if (bounds && bounds.length === 2) {
                const s = bounds[0][0], w = bounds[0][1], n = bounds[1][0], e = bounds[1][1];
                bbox = [w, s, e, n].map(function (x) { return Number(x).toFixed(5); }).join(",");
            }
            return window.dash_clientside.onemap_map.setParams(base, {
                unit: unit, zoom: (zoom === null || zoom === undefined) ? null : Math.round(zoom * 100) / 100,
                bbox: bbox});
        },
        /* The wall's incidents refetch on each live tick. */
        tickUrl: function (tick, url) {
            return url ? window.dash_clientside.onemap_map.setParams(url, {v: tick}) : window.dash_clientside.no_update;
        },
        /* New reports flash: only the flash list of the incidents' hideout changes. */
        flashHideout: function (flash, hideout) {
            return Object.assign({}, hideout || {}, {flash: flash || []});
        }
    }
});
