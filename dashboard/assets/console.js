/* The dispatch console's browser side (dashboard/console.py): reload the incident table when the
   filters change or something happened, and an optional sound for a new alert. */
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
        },
        beep: function (count, sound, id) {
            if (!count || !sound || sound.indexOf("on") < 0) { return window.dash_clientside.no_update; }
            window.onemapConsoleBeeps = (window.onemapConsoleBeeps || 0) + 1;  // sounded (tests read it)
            try {
                const Ctx = window.AudioContext || window.webkitAudioContext;
                const audio = new Ctx();
                const osc = audio.createOscillator();
                const gain = audio.createGain();
                osc.type = "square";
                osc.frequency.value = 880;
                gain.gain.value = 0.08;
                osc.connect(gain);
                gain.connect(audio.destination);
                osc.start();
                osc.stop(audio.currentTime + 0.35);
            } catch (e) { /* no audio device: the visible alert stays */ }
            return window.dash_clientside.no_update;
        }
    }
});
