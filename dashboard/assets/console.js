/* The dispatch console's browser side (dashboard/console.py): reload the incident table when the
   filters change or something happened. Its alert sound is assets/onemap_sound.js (shared with the wall). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    onemap_console: {
        reload: function (query, refresh, id) {
            const nothing = window.dash_clientside.no_update;
            const grids = window.dash_ag_grid;
            const api = grids && grids.getApi ? (function () {
                try { return grids.getApi(id); } catch (e) { return null; }
            })() : null;
            if (!api) { return nothing; }
            const fired = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
            if (fired.some(function (p) { return p.indexOf("c-query") === 0; })) {
                window.onemapConsoleRechecks = 0;
                api.purgeInfiniteCache();  // new filters: from the first page
                api.paginationGoToFirstPage();
            } else {
                api.refreshInfiniteCache();  // an action or a live event: the same page, fresh rows
            }
            return nothing;
        },
        recheck: function (answered, id) {
            const nothing = window.dash_clientside.no_update;
            if (!answered || !answered.rows) { return nothing; }
            setTimeout(function () {
                const grids = window.dash_ag_grid;
                let api = null;
                try { api = grids && grids.getApi ? grids.getApi(id) : null; } catch (e) { return; }
                if (!api) { return; }
                const shown = document.querySelectorAll("#" + id + " .ag-center-cols-container .ag-row[row-id]").length;
                const tries = window.onemapConsoleRechecks || 0;
                if (shown === 0 && tries < 3) {  // rows exist and none is drawn: the answer went astray
                    window.onemapConsoleRechecks = tries + 1;
                    api.refreshInfiniteCache();
                }
            }, 1500);
            return nothing;
        }
    }
});
