/* OneMap map styling: functions referenced from Python through dash-extensions' Namespace. */
window.onemap = Object.assign({}, window.onemap, {
    map: {
        cellStyle: function (feature, context) {
            const h = context.hideout || {};
            const classes = h.classes || [0], colors = h.colors || ["#444"];
            const v = feature.properties[h.field || "density"] || 0;
            let color = colors[0];
            for (let i = 0; i < classes.length; i++) { if (v >= classes[i]) { color = colors[i]; } }
            return {fillColor: color, fillOpacity: 0.8, color: "#3e5c76", weight: 0.5, opacity: 0.8};
        },
        villageStyle: function () {
            return {fill: false, color: "#8fb8de", weight: 1.4, opacity: 0.85};
        },
        townStyle: function () {
            return {fill: false, color: "#ffffff", weight: 3.5, opacity: 0.95};
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
        facilityPoint: function (feature, latlng) {
            const c = {governance_centre: "#ef476f", police_station: "#118ab2", school: "#06d6a0",
                       clinic: "#ffffff", mediation_station: "#ffd166", department_base: "#8d99ae"};
            return L.circleMarker(latlng, {pane: "pane-facilities", radius: 5, color: "#111", weight: 1,
                                           fillColor: c[feature.properties.kind] || "#ccc", fillOpacity: 1});
        },
        label: function (feature, layer, context) {
            const h = context.hideout || {};
            const p = feature.properties;
            const name = (h.lang === "en" && p.name_en) ? p.name_en : p.name;
            const permanent = !!h.permanent;
            layer.bindTooltip(name, {permanent: permanent, direction: "center",
                                     className: permanent ? "onemap-label" : "onemap-tip"});
        }
    }
});
