/* "Jump to" a search hit (dashboard/search_box.py), the same on the leaders' page and the console:
   the page's server callback puts the target in its "<p>-jump" store, and this moves the page's
   map "<p>-map" there — to a unit's bounds, or to a point at the target's zoom. A map that is not
   on the page (the console before an incident or place is shown) is left alone. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onemap_jump: {
        go: function (target, storeId) {
            const nothing = window.dash_clientside.no_update;
            const mapId = String(storeId || "").replace(/-jump$/, "-map");
            if (!target || typeof target !== "object" || !document.getElementById(mapId)) { return nothing; }
            let viewport = null;
            if (Array.isArray(target.bounds) && target.bounds.length === 2) {
                viewport = {bounds: target.bounds, transition: "flyToBounds"};
            } else if (typeof target.lat === "number" && typeof target.lon === "number") {
                viewport = {center: [target.lat, target.lon], zoom: Number(target.zoom) || 15, transition: "flyTo"};
            }
            if (viewport) {
                window.dash_clientside.set_props(mapId, {viewport: viewport});
                window.onemapJumps = (window.onemapJumps || 0) + 1;  // moved (tests read it)
            }
            return nothing;
        }
    }
});
