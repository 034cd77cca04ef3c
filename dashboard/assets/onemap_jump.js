/* "Jump to" a search hit (dashboard/search_box.py), the same on the leaders' page and the console:
   the page's server callback puts the target in its "<p>-jump" store, and this moves the page's
   map "<p>-map" there — to a unit's bounds, or to a point at the target's zoom — and, when the
   target names an ``outline`` (a layer URL: the console's), draws it in "<p>-place-layer" of that
   map. A map that is not on the page (the console before an incident or place is shown) is left
   alone. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onemap_jump: {
        go: function (target, storeId) {
            const nothing = window.dash_clientside.no_update;
            const mapId = String(storeId || "").replace(/-jump$/, "-map");
            if (!target || typeof target !== "object" || !document.getElementById(mapId)) { return nothing; }
            const fly = target.fly !== false;  // the console's small map moves without an animation
            let viewport = null;
            if (Array.isArray(target.bounds) && target.bounds.length === 2) {
                viewport = {bounds: target.bounds, transition: fly ? "flyToBounds" : "fitBounds"};
            } else if (typeof target.lat === "number" && typeof target.lon === "number") {
                viewport = {center: [target.lat, target.lon], zoom: Number(target.zoom) || 15,
                            transition: fly ? "flyTo" : "setView"};
            }
            if (viewport) {
                window.dash_clientside.set_props(mapId, {viewport: viewport});
                if (typeof target.outline === "string") {  // the place's own layer on that map (the console's)
                    window.dash_clientside.set_props(mapId.replace(/-map$/, "-place-layer"), {url: target.outline});
                }
                window.onemapJumps = (window.onemapJumps || 0) + 1;  // moved (tests read it)
            }
            return nothing;
        }
    }
});
