/* The dispatch console's browser side (dashboard/console.py): reload the incident table when the
   filters change or something happened. Its alert sound is assets/onemap_sound.js (shared with the wall).

   One page request at a time: dash-ag-grid's infinite-row bridge keeps one slot for the request it
   waits on, so an answer that comes back after the grid asked anew can be handed to the wrong
   request and the page it was for is never drawn (an empty table under the right count). A reload
   asked for while an answer is awaited waits for that answer (c-answered); an answer whose rows
   are not drawn is answered again (c-retry), up to three times. */
(function () {
    const BUSY_MS = 8000;  // an answer awaited longer than this is taken as lost: stop waiting for it
    const load = {since: 0, again: null, rechecks: 0};

    function gridApi(id) {
        const grids = window.dash_ag_grid;
        let api = null;
        try { api = grids && grids.getApi ? grids.getApi(id) : null; } catch (e) { return null; }
        if (api) { api.__omId = id; }
        return api;
    }

    function busy() { return load.since > 0 && Date.now() - load.since < BUSY_MS; }

    function run(api, what) {
        load.since = Date.now();
        if (what === "query") {
            load.rechecks = 0;
            api.purgeInfiniteCache();  // new filters: from the first page
            api.paginationGoToFirstPage();
        } else if (what === "lost" || drawn(api.__omId) === 0) {
            // nothing drawn: a block still waiting is neither refreshed nor asked for again (the
            // grid's new request equals the last, and Dash sends an unchanged value once), so the
            // server answers the grid's latest request again
            window.dash_clientside.set_props("c-retry", {data: Date.now()});
        } else {
            api.refreshInfiniteCache();  // an action or a live event: the same page, fresh rows
        }
    }

    function drawn(id) {
        return document.querySelectorAll("#" + id + " .ag-center-cols-container .ag-row[row-id]").length;
    }

    window.onemapConsoleLoad = load;  // (tests read rechecks)
    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        onemap_console: {
            reload: function (query, refresh, id) {
                const nothing = window.dash_clientside.no_update;
                const api = gridApi(id);
                if (!api) { return nothing; }
                const fired = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
                const what = fired.some(function (p) { return p.indexOf("c-query") === 0; }) ? "query" : "refresh";
                if (busy()) {  // after the awaited answer (a query outranks a refresh)
                    load.again = load.again === "query" ? "query" : what;
                    return nothing;
                }
                run(api, what);
                return nothing;
            },
            recheck: function (answered, id) {
                const nothing = window.dash_clientside.no_update;
                const api = gridApi(id);
                load.since = 0;  // the awaited answer came
                if (!api) { return nothing; }
                if (load.again) {
                    const what = load.again;
                    load.again = null;
                    run(api, what);
                    return nothing;
                }
                if (!answered || !answered.rows) { return nothing; }
                let waits = 0;
                const check = function () {
                    if (load.rechecks >= 3) { return; }
                    if ((busy() || load.again) && waits++ < 10) { setTimeout(check, 1000); return; }  // another load runs
                    if (drawn(id) === 0) {  // rows exist and none is drawn: the answer went astray
                        load.rechecks += 1;
                        run(api, "lost");
                    }
                };
                setTimeout(check, 1500);
                return nothing;
            }
        }
    });
})();
