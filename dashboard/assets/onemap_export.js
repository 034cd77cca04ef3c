/* "Save PNG" and "Print" of the map as it is on screen, in the browser and offline: the visible
   vector panes (SVG) are drawn on a canvas, then the cluster numbers and labels, a title, the
   legend of the side panel, the scale bar and a north arrow. Print opens the same picture in the
   page's print view (a data: image; onemap.css @media print shows only it). */
(function () {
    function visible(el) {
        for (let e = el; e && e !== document.body; e = e.parentElement) {
            if (getComputedStyle(e).display === "none") { return false; }
        }
        return true;
    }
    function svgImage(svg) {
        const clone = svg.cloneNode(true);
        clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
        const r = svg.getBoundingClientRect();
        clone.setAttribute("width", r.width);
        clone.setAttribute("height", r.height);
        clone.removeAttribute("style");
        const xml = new XMLSerializer().serializeToString(clone);
        return new Promise(function (resolve) {
            const img = new Image();
            img.onload = function () { resolve({img: img, rect: r}); };
            img.onerror = function () { resolve(null); };
            img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
        });
    }
    function text(ctx, s, x, y, font, color, align) {
        ctx.font = font;
        ctx.fillStyle = color;
        ctx.textAlign = align || "left";
        ctx.textBaseline = "middle";
        ctx.fillText(s, x, y);
    }
    function legendRows() {
        const rows = [];
        document.querySelectorAll("#m-legend > div").forEach(function (el) {
            if (el.classList.contains("om-legend-title")) {
                rows.push({title: el.innerText});
            } else {
                const sw = el.querySelector(".om-sw");
                const st = sw ? getComputedStyle(sw) : null;
                rows.push({text: el.innerText, shape: sw ? (sw.className.match(/om-sw-(\w+)/) || [])[1] : "dot",
                           color: st ? (sw.classList.contains("om-sw-ring") ? st.borderTopColor : st.backgroundColor) : "#ccc"});
            }
        });
        return rows;
    }
    function drawLegend(ctx, w, h) {
        const rows = legendRows();
        if (!rows.length) { return; }
        const lineH = 18, width = 300, height = rows.length * lineH + 16;
        const x = w - width - 12, y = Math.max(12, h - height - 40);
        ctx.fillStyle = "rgba(11, 22, 34, 0.9)";
        ctx.fillRect(x, y, width, height);
        ctx.strokeStyle = "#486581";
        ctx.strokeRect(x, y, width, height);
        rows.forEach(function (r, i) {
            const cy = y + 8 + i * lineH + lineH / 2;
            if (r.title) { text(ctx, r.title, x + 8, cy, "bold 12px sans-serif", "#9fb3c8"); return; }
            ctx.fillStyle = r.color;
            ctx.strokeStyle = r.color;
            if (r.shape === "line") { ctx.fillRect(x + 10, cy - 1.5, 18, 3); }
            else if (r.shape === "area") { ctx.fillRect(x + 10, cy - 5, 18, 10); }
            else if (r.shape === "ring") { ctx.lineWidth = 3; ctx.beginPath(); ctx.arc(x + 19, cy, 5, 0, 7); ctx.stroke(); }
            else { ctx.beginPath(); ctx.arc(x + 19, cy, 5, 0, 7); ctx.fill(); }
            text(ctx, r.text, x + 36, cy, "12px sans-serif", "#e6edf3");
        });
    }
    function drawScale(ctx, box, h) {
        const line = document.querySelector("#m-map .leaflet-control-scale-line");
        if (!line) { return; }
        const r = line.getBoundingClientRect();
        const x = 16, y = h - 24;
        ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
        ctx.fillRect(x, y - 8, r.width, 14);
        ctx.strokeStyle = "#111";
        ctx.strokeRect(x, y - 8, r.width, 14);
        text(ctx, line.innerText, x + 4, y - 1, "11px sans-serif", "#111");
    }
    function drawNorth(ctx, w, lang) {
        const x = w - 36, y = 30;
        ctx.fillStyle = "#ffffff";
        ctx.beginPath(); ctx.moveTo(x, y - 16); ctx.lineTo(x + 10, y + 12); ctx.lineTo(x, y + 6);
        ctx.lineTo(x - 10, y + 12); ctx.closePath(); ctx.fill();
        text(ctx, lang === "en" ? "N" : "北", x, y + 26, "bold 14px sans-serif", "#ffffff", "center");
    }
    function render() {
        const map = document.querySelector("#m-map");
        if (!map) { return Promise.resolve(null); }
        const box = map.getBoundingClientRect();
        const w = Math.round(box.width), h = Math.round(box.height), head = 36;
        const svgs = Array.prototype.filter.call(map.querySelectorAll(".leaflet-pane svg"), visible);
        return Promise.all(svgs.map(svgImage)).then(function (images) {
            const canvas = document.createElement("canvas");
            canvas.width = w;
            canvas.height = h + head;
            const ctx = canvas.getContext("2d");
            ctx.fillStyle = "#0b1622";
            ctx.fillRect(0, 0, w, h + head);
            const lang = (document.querySelector("#root") || {}).dataset ? document.querySelector("#root").dataset.lang : "zh";
            const crumbs = Array.prototype.map.call(document.querySelectorAll("#m-crumbs button"),
                                                    function (b) { return b.getAttribute("title") || b.innerText; });
            const title = (document.querySelector("#title") || {innerText: ""}).innerText;
            text(ctx, title + (crumbs.length ? "  ·  " + crumbs.join(" › ") : ""), 12, head / 2,
                 "bold 16px sans-serif", "#e6edf3");
            ctx.save();
            ctx.translate(0, head);
            ctx.beginPath(); ctx.rect(0, 0, w, h); ctx.clip();
            images.forEach(function (it) {
                if (it) { ctx.drawImage(it.img, it.rect.left - box.left, it.rect.top - box.top, it.rect.width, it.rect.height); }
            });
            map.querySelectorAll(".om-cluster div").forEach(function (el) {
                if (!visible(el)) { return; }
                const r = el.getBoundingClientRect(), st = getComputedStyle(el);
                const cx = r.left - box.left + r.width / 2, cy = r.top - box.top + r.height / 2;
                ctx.fillStyle = "rgba(11, 22, 34, 0.78)";
                ctx.strokeStyle = st.borderTopColor;
                ctx.lineWidth = 3;
                ctx.beginPath(); ctx.arc(cx, cy, r.width / 2 - 1.5, 0, 7); ctx.fill(); ctx.stroke();
                text(ctx, el.innerText, cx, cy, "bold " + st.fontSize + " sans-serif", "#ffffff", "center");
            });
            map.querySelectorAll(".onemap-label").forEach(function (el) {
                if (!visible(el)) { return; }
                const r = el.getBoundingClientRect();
                ctx.shadowColor = "#000"; ctx.shadowBlur = 4;
                text(ctx, el.innerText, r.left - box.left + r.width / 2, r.top - box.top + r.height / 2,
                     "bold 16px sans-serif", "#ffd166", "center");
                ctx.shadowBlur = 0;
            });
            drawLegend(ctx, w, h);
            drawScale(ctx, box, h);
            drawNorth(ctx, w, lang);
            ctx.restore();
            return canvas;
        });
    }
    function stamp() {
        const d = new Date(), p = function (n) { return String(n).padStart(2, "0"); };
        return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + "-" + p(d.getHours()) + p(d.getMinutes());
    }
    function save() {
        render().then(function (canvas) {
            if (!canvas) { return; }
            canvas.toBlob(function (blob) {
                const a = document.createElement("a");
                a.href = URL.createObjectURL(blob);
                a.download = "onemap-" + stamp() + ".png";
                document.body.appendChild(a);
                a.click();
                setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
            }, "image/png");
        });
    }
    function print() {
        render().then(function (canvas) {
            if (!canvas) { return; }
            let img = document.getElementById("om-print-image");
            if (!img) {
                img = document.createElement("img");
                img.id = "om-print-image";
                document.body.appendChild(img);
            }
            img.onload = function () { window.print(); };
            img.src = canvas.toDataURL("image/png");
        });
    }
    window.onemapExport = {render: render, save: save, print: print};
    document.addEventListener("click", function (e) {
        const t = e.target;
        if (!(t instanceof Element)) { return; }
        if (t.closest("#m-png")) { save(); }
        else if (t.closest("#m-print")) { print(); }
    });
})();
