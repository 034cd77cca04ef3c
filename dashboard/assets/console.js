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
                api.purgeInfiniteCache();  // new filters: from the first page
                api.paginationGoToFirstPage();
            } else {
                api.refreshInfiniteCache();  // an action or a live event: the same page, fresh rows
            }
            return nothing;
        }
    }
});
