/* The dispatch console's browser side (dashboard/console.py): the incident table's rows and its
   reloads. Its alert sound is assets/onemap_sound.js (shared with the wall).

   The table is AG Grid's infinite row model with a datasource of our own: each page the grid asks
   for is fetched from /console/rows (dashboard/console_cb.rows_response, the signed-in user's
   jurisdiction and role) and handed back to the very request that asked for it. A page asked for
   under filters that have since changed is dropped by the grid itself (its block is gone), so a
   late answer can neither fill the table with old rows nor leave it empty. A failed fetch is tried
   again twice, then the table says it failed (the next reload asks again). */
(function () {
    const TRIES = 3;
    const TIMEOUT_MS = 20000;
    const state = {query: {}, lang: "zh", words: {failed: "", signedOut: ""}, failures: 0, pending: 0,
                   answered: null};

    function say(text) {
        window.dash_clientside.set_props("c-total", {children: text});
    }

    function url(params) {
        const sort = (params.sortModel || [])[0] || {};
        const args = new URLSearchParams({q: JSON.stringify(state.query || {}), start: String(params.startRow),
                                          end: String(params.endRow), sort: sort.colId || "",
                                          dir: sort.sort || "desc", lang: state.lang});
        return "/console/rows?" + args.toString();
    }

    function fetchRows(address, tries) {
        const abort = new AbortController();  // a hung request gives its place up (the grid waits on it)
        const timer = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
        return fetch(address, {credentials: "same-origin", headers: {"Accept": "application/json"},
                               signal: abort.signal})
            .finally(function () { clearTimeout(timer); })
            .then(function (r) {
                if (r.status >= 400 && r.status < 500) {  // refused or signed out: asking again won't help
                    const err = new Error(String(r.status));
                    err.final = true;
                    throw err;
                }
                if (!r.ok) { throw new Error(String(r.status)); }
                return r.json();
            })
            .catch(function (err) {
                state.failures += 1;
                if (err.final || tries <= 1) { throw err; }
                return new Promise(function (ok) { setTimeout(ok, 400 * (TRIES - tries + 1)); })
                    .then(function () { return fetchRows(address, tries - 1); });
            });
    }

    const datasource = {
        getRows: function (params) {
            const filters = JSON.stringify(state.query || {});
            const current = function () { return filters === JSON.stringify(state.query || {}); };
            state.pending += 1;
            fetchRows(url(params), TRIES).finally(function () { state.pending -= 1; }).then(function (body) {
                // a block dropped meanwhile ignores it; past the count's cap the total is unknown
                // (null) until a page comes back short
                const asked = params.endRow - params.startRow;
                const last = body.total !== null ? body.total
                    : (body.rows.length < asked ? params.startRow + body.rows.length : -1);
                params.successCallback(body.rows, last);
                if (current()) {  // a late answer for old filters: not its count
                    state.answered = filters;
                    say(body.label);
                }
            }).catch(function (err) {
                params.failCallback();
                if (current()) {
                    say(err.message === "401" || err.message === "403" ? state.words.signedOut : state.words.failed);
                }
            });
        }
    };

    function install(api) {
        // dash-ag-grid sets its own datasource (its getRowsRequest bridge) once, when it handles the
        // grid's gridReady, and the grid's API can be had before that: ours goes in after it, or
        // it would be replaced (the table then waits for an answer that never comes)
        if (api.__omWaiting) { return; }
        api.__omWaiting = true;
        const since = Date.now();
        (function wait() {
            if (api.getGridOption("datasource") || Date.now() - since > 30000) {
                api.__omWaiting = false;
                api.setGridOption("datasource", datasource);
            } else {
                setTimeout(wait, 20);
            }
        })();
    }

    window.onemapConsoleRows = state;  // (tests read failures, pending and answered)
    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        onemap_console: {
            reload: function (query, refresh, id, lang, words) {
                const fired = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
                const isQuery = fired.some(function (p) { return p.indexOf("c-query") === 0; });
                state.lang = lang === "en" ? "en" : "zh";
                state.words = words || state.words;  // the page's words (i18n: console.rows_*)
                if (isQuery) { state.query = query || {}; }
                window.dash_ag_grid.getApiAsync(id).then(function (api) {
                    if (api.getGridOption("datasource") !== datasource) {
                        install(api);  // the first reload, or a new grid: reads from the first page
                    } else if (isQuery) {
                        api.purgeInfiniteCache();  // new filters: from the first page
                        api.paginationGoToFirstPage();
                    } else {
                        api.refreshInfiniteCache();  // an action or a live event: the same page, fresh rows
                    }
                });
                return window.dash_clientside.no_update;
            }
        }
    });
})();
