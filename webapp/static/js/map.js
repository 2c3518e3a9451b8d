/* Squad live map: the squad's cells shaded by open cases, case markers by category, live toasts. */
(function () {
  "use strict";
  var GP = window.GP, boot = GP.boot;
  var element = document.getElementById("map");
  var squad = element.dataset.squad || "";
  var map = GP.makeMap(element);
  var cases = {};     // id → case (open ones only)
  var markers = {};   // id → Leaflet marker
  var cellLayer = null;
  var squadRoom = boot.me.role === "squad_leader" || boot.me.role === "officer";

  var picker = document.querySelector(".map-squad select");
  if (picker) picker.addEventListener("change", function () { picker.form.submit(); });

  function visible(kase) { return GP.OPEN.indexOf(kase.status) >= 0 && (!squad || kase.squad_code === squad); }

  function shade(count) {
    if (!count) return {color: "#5b6b7f", weight: 1, fillColor: "#e8eef5", fillOpacity: 0.35};
    var steps = ["#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#ef6a4c", "#d7463c"];
    return {color: "#8a5a44", weight: 1, fillColor: steps[Math.min(count, steps.length) - 1], fillOpacity: 0.6};
  }
  function reshade() {
    if (!cellLayer) return;
    var open = {};
    Object.keys(cases).forEach(function (id) { var c = cases[id]; open[c.cell_code] = (open[c.cell_code] || 0) + 1; });
    cellLayer.eachLayer(function (layer) {
      var code = layer.feature.properties.code;
      layer.setStyle(shade(open[code] || 0));
      layer.setTooltipContent(code + " · " + GP.t("map.open_cases") + ": " + (open[code] || 0));
    });
  }

  function popup(kase) {
    var box = GP.el("div", {className: "case-popup"}, [
      GP.el("strong", {text: "#" + kase.id + " " + GP.categoryName(kase.category)}),
      GP.el("div", {}, [GP.el("span", {className: "status status-" + kase.status, text: GP.t("status." + kase.status)}),
                        kase.overdue ? GP.el("span", {className: "status overdue", text: GP.t("console.overdue")}) : null]),
      GP.el("div", {className: "small", text: (kase.address || "") + " · " + kase.cell_code}),
      GP.el("div", {className: "small", text: GP.t("field.reported_at") + " " + GP.time(kase.reported_at)}),
      GP.el("div", {className: "small", text: GP.t("field.deadline_at") + " " + GP.time(kase.deadline_at)})
    ]);
    var actions = GP.el("div", {className: "actions"});
    GP.actionButtons(kase, actions, function (updated) { upsert(updated); map.closePopup(); });
    box.appendChild(actions);
    return box;
  }

  function upsert(kase) {
    var id = kase.id;
    if (!visible(kase)) {
      delete cases[id];
      if (markers[id]) { markers[id].remove(); delete markers[id]; }
      reshade();
      return;
    }
    cases[id] = Object.assign(cases[id] || {}, kase);
    var current = cases[id];
    if (markers[id]) {
      markers[id].setLatLng(GP.toMap(current.lon, current.lat)).setIcon(GP.caseIcon(current));
    } else {
      markers[id] = L.marker(GP.toMap(current.lon, current.lat), {icon: GP.caseIcon(current), riseOnHover: true}).addTo(map);
    }
    markers[id].unbindPopup().bindPopup(function () { return popup(cases[id]); }, {minWidth: 220});
    reshade();
  }

  function announce(event) {
    var kase = event.case, values = {id: kase.id, category: GP.categoryName(kase.category)};
    if (event.kind === "dispatched" && (!squad || kase.squad_code === squad)) {
      GP.toast(GP.t("map.new_dispatch", values), "alert").dataset.caseId = kase.id;
      GP.beep();
    } else if (event.kind === "created") {
      GP.toast(GP.t("map.new_case", values), "info").dataset.caseId = kase.id;
      if (squadRoom) GP.beep();
    } else if (event.kind === "returned" || event.kind === "reopened") {
      GP.toast(GP.t("map.returned", values), "alert").dataset.caseId = kase.id;
      GP.beep();
    } else if (event.kind === "overdue") {
      GP.toast(GP.t("map.overdue", values), "alert").dataset.caseId = kase.id;
    }
  }

  GP.loadCategories().then(function () {
    GP.legend(map);
    return Promise.all([
      GP.loadGrid(squad),
      GP.api("GET", "/api/cases?" + GP.OPEN.map(function (s) { return "status=" + s; }).join("&") +
             (squad ? "&squad=" + encodeURIComponent(squad) : "") + "&limit=1000")
    ]);
  }).then(function (loaded) {
    var grid = loaded[0], list = loaded[1];
    cellLayer = GP.gridLayer(grid, function () { return shade(0); }).addTo(map);
    if (grid.features.length) map.fitBounds(cellLayer.getBounds(), {padding: [10, 10]});
    else map.setView([32.12, 114.07], 13);
    // Paths exist only once the map has a view: name each cell on its path after that.
    cellLayer.eachLayer(function (layer) {
      layer.bindTooltip(layer.feature.properties.code, {sticky: true});
      layer.getElement().setAttribute("data-cell", layer.feature.properties.code);
    });
    list.items.forEach(upsert);
    element.dataset.ready = "1";
    GP.live(function (event) { upsert(event.case); announce(event); });
  }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
