/* Squad live map: the squad's cells shaded by open cases, case pins by category and state, the list of open cases
   beside it, live toasts that pan to their case. A case dispatched to another squad moves off this map live. */
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
  var listBody = document.getElementById("case-list");
  var listToggle = document.getElementById("list-toggle");
  if (listToggle) listToggle.addEventListener("click", function () { document.body.classList.toggle("list-open"); });

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
      GP.el("div", {className: "small", text: GP.t("field.deadline_at") + " " + GP.time(kase.deadline_at)}),
      GP.complaint(kase.id)  // what the caller said and the photos, fetched when the popup opens
    ]);
    var actions = GP.el("div", {className: "actions"});
    GP.actionButtons(kase, actions, function (updated) { upsert(updated); map.closePopup(); });
    box.appendChild(actions);
    return box;
  }

  function where(kase) { return kase.address || kase.cell_code || ""; }

  var listPending = false;
  /* Redraw the list once per frame however many cases changed (the first load brings up to 1000). */
  function renderList() {
    if (listPending) return;
    listPending = true;
    requestAnimationFrame(function () { listPending = false; drawList(); });
  }
  /* The open cases beside the map: overdue first, then the newest report; a click pans to the pin. */
  function drawList() {
    var items = Object.keys(cases).map(function (id) { return cases[id]; });
    items.sort(function (a, b) {
      return (b.overdue - a.overdue) || String(b.reported_at).localeCompare(String(a.reported_at)) || b.id - a.id;
    });
    listBody.innerHTML = "";
    if (!items.length) listBody.appendChild(GP.el("li", {className: "muted", text: GP.t("map.list_empty")}));
    items.forEach(function (kase) {
      var dot = GP.el("span", {className: "dot"});
      dot.style.background = GP.categoryColor(kase.category);
      listBody.appendChild(GP.el("li", {"data-case-id": kase.id, className: kase.overdue ? "overdue" : "",
                                        onclick: function () { focus(kase.id); }}, [
        GP.el("div", {}, [dot, GP.el("strong", {text: "#" + kase.id + " " + GP.categoryName(kase.category)}), " ",
          GP.el("span", {className: "status status-" + kase.status, text: GP.t("status." + kase.status)}),
          kase.overdue ? GP.el("span", {className: "status overdue", text: GP.t("console.overdue")}) : null]),
        GP.el("div", {className: "small muted", text: where(kase) + " · " + GP.time(kase.reported_at)})]));
    });
    document.getElementById("case-count").textContent = items.length || "";
  }

  /* Pan to a case's pin and open its popup. */
  function focus(id) {
    if (!markers[id]) return;
    document.body.classList.remove("list-open");
    map.setView(markers[id].getLatLng(), Math.max(map.getZoom(), 16));
    markers[id].openPopup();
  }

  /* A case that arrives outside the view (dispatched here from another squad's cells): widen the view to it. */
  function bringIntoView(id) {
    var at = markers[id] && markers[id].getLatLng();
    if (at && !map.getBounds().contains(at)) map.fitBounds(map.getBounds().extend(at), {padding: [30, 30]});
  }

  function remove(id) {
    delete cases[id];
    if (markers[id]) { markers[id].remove(); delete markers[id]; }
    reshade();
    renderList();
  }

  function upsert(kase) {
    var id = kase.id;
    if (!visible(kase)) {
      remove(id);
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
    renderList();
  }

  /* A toast that names where the case is; a click on it pans to the case. */
  function say(key, kase, kind) {
    var text = GP.t(key, {id: kase.id, category: GP.categoryName(kase.category)}) + (where(kase) ? " · " + where(kase) : "");
    var toast = GP.toast(text, kind);
    if (!toast) return;
    toast.dataset.caseId = kase.id;
    toast.classList.add("clickable");
    toast.addEventListener("click", function () { focus(kase.id); });
  }

  function announce(event) {
    var kase = event.case;
    if (event.kind === "dispatched" && (!squad || kase.squad_code === squad)) {
      bringIntoView(kase.id);
      say("map.new_dispatch", kase, "alert");
      GP.beep();
    } else if (event.kind === "created") {
      say("map.new_case", kase, "info");
      if (squadRoom) GP.beep();
    } else if (event.kind === "returned" || event.kind === "reopened") {
      say("map.returned", kase, "alert");
      GP.beep();
    } else if (event.kind === "overdue") {
      say("map.overdue", kase, "alert");
    }
  }

  function onEvent(event) {
    if (event.kind === "moved_away") {  // dispatched to another squad: all this squad may know is that it left
      if (cases[event.case.id]) GP.toast(GP.t("map.moved_away", {id: event.case.id}), "info").dataset.caseId = event.case.id;
      remove(event.case.id);
      return;
    }
    upsert(event.case);
    announce(event);
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
    drawList();
    var socket = GP.live(onEvent);
    // Leaders and the centre also see the officers on patrol and their tracks (officers.js); officers do not.
    var watcher = boot.me.role === "squad_leader" || boot.me.role === "dispatcher" || boot.me.role === "admin";
    return watcher && GP.officersLayer ? GP.officersLayer(map, squad, socket) : null;
  }).then(function () {
    element.dataset.ready = "1";
  }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
