/* One alert sound for every page (the console and the wall): a short two-tone beep made with
   WebAudio (no audio file), at most once per key (an incident and its level) per page.

   Browsers keep audio suspended until the user has interacted with the page (the autoplay
   policy). A wall is unattended: open it as /wall?sound=1 and start the kiosk's Chromium with
   --autoplay-policy=no-user-gesture-required. Without that flag, a sound asked for before any
   click is counted but silent; the page then shows a hint (html.om-sound-blocked), and the first
   click or key anywhere resumes the audio for every later alert. */
(function () {
    const sound = {count: 0, played: {}, handled: {}, ctx: null, blocked: false};
    window.onemapSound = sound;

    function context() {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) { return null; }
        if (!sound.ctx) { sound.ctx = new Ctx(); }
        return sound.ctx;
    }
    function blocked(yes) {
        sound.blocked = yes;
        document.documentElement.classList.toggle("om-sound-blocked", yes);
    }
    /* After a user gesture: resume the audio (it may have been created suspended). */
    sound.unlock = function () {
        if (!sound.ctx) { blocked(false); return; }
        if (sound.ctx.state === "suspended") {
            sound.ctx.resume().then(function () { blocked(false); }, function () {});
        } else {
            blocked(false);
        }
    };
    document.addEventListener("pointerdown", sound.unlock, true);
    document.addEventListener("keydown", sound.unlock, true);

    function tone(ctx) {
        const gain = ctx.createGain();
        gain.gain.value = 0.08;
        gain.connect(ctx.destination);
        [[880, 0], [660, 0.2]].forEach(function (step) {
            const osc = ctx.createOscillator();
            osc.type = "square";
            osc.frequency.value = step[0];
            osc.connect(gain);
            osc.start(ctx.currentTime + step[1]);
            osc.stop(ctx.currentTime + step[1] + 0.18);
        });
    }
    /* Sound once for ``key`` (none given: always). Returns whether it sounded. The count and the
       html element's data-onemap-sounds say how many sounds were made (the tests read them). */
    sound.play = function (key) {
        if (key) {
            if (sound.played[key]) { return false; }
            sound.played[key] = true;
        }
        sound.count += 1;
        document.documentElement.setAttribute("data-onemap-sounds", String(sound.count));
        try {
            const ctx = context();
            if (!ctx) { return true; }
            if (ctx.state === "suspended") { ctx.resume().catch(function () {}); }
            tone(ctx);
            setTimeout(function () { blocked(ctx.state !== "running"); }, 400);
        } catch (e) { /* no audio device: the visible alert stays */ }
        return true;
    };
    /* An alert seen for the first time: sounded when ``on``; never sounded later either way (an
       alert that came while the sound was off stays silent when it is switched on). */
    sound.alert = function (key, on) {
        if (!key || sound.handled[key]) { return false; }
        sound.handled[key] = true;
        return on ? sound.play(key) : false;
    };

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        onemap_sound: {
            /* The wall: its alerts (assets/onemap_live.js, once per incident and level). */
            wallAlerts: function (alerts, toggle) {
                const on = Array.isArray(toggle) && toggle.indexOf("on") >= 0;
                (alerts || []).slice().reverse().forEach(function (a) {
                    if (a && a.incident_id) { sound.alert(a.incident_id + ":" + a.level, on); }
                });
                return sound.count;
            },
            /* The console: the server counts its alerts (one per incident and level). */
            consoleBeep: function (count, toggle) {
                if (!count || !Array.isArray(toggle) || toggle.indexOf("on") < 0) {
                    return window.dash_clientside.no_update;
                }
                window.onemapConsoleBeeps = (window.onemapConsoleBeeps || 0) + 1;  // sounded (tests read it)
                sound.play(null);
                return window.dash_clientside.no_update;
            }
        }
    });
})();
