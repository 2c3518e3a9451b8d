/* Officer's phone view: my squad's dispatched and accepted cases, accept, report the result with a photo. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el, boot = GP.boot;
  var list = document.getElementById("task-list");
  var squad = boot.squad || "";
  var tasks = {};
  var complaints = {};  // case id → its complaint block, fetched once and moved into each new card
  function complaintOf(id) { return complaints[id] || (complaints[id] = GP.complaint(id)); }
  var STATES = ["dispatched", "accepted"];
  function mine(kase) { return kase.assigned_to === boot.me.name ? 1 : 0; }

  function card(kase) {
    var actions = el("div", {className: "actions"});
    GP.actionButtons(kase, actions, function (updated) { upsert(updated); GP.toast(GP.t("tasks.done"), "info"); });
    return el("article", {className: "task" + (kase.overdue ? " overdue" : ""), "data-case-id": kase.id, "data-status": kase.status}, [
      el("header", {}, [
        el("span", {className: "dot", style: "background:" + GP.categoryColor(kase.category)}),
        el("strong", {text: GP.categoryName(kase.category)}),
        el("span", {className: "status status-" + kase.status, text: GP.t("status." + kase.status)}),
        mine(kase) ? el("span", {className: "status assigned", text: GP.t("tasks.assigned_to_me")}) : null,
        kase.overdue ? el("span", {className: "status overdue", text: GP.t("console.overdue")}) : null]),
      el("div", {className: "address", text: kase.address || kase.cell_code}),
      // the vehicle's plate (the case's squad sees it) and the first-offence rule's suggestion (首违不罚)
      kase.plate ? el("div", {className: "plate-line", text: GP.t("field.plate") + " " + kase.plate +
        (kase.leniency ? " · " + GP.t(kase.leniency === "warned" ? "plate.leniency_first" : "plate.leniency_later") : "")}) : null,
      el("div", {className: "small muted",
                 text: "#" + kase.id + " · " + kase.cell_code + " · " + GP.t("field.reported_at") + " " + GP.time(kase.reported_at)}),
      el("div", {className: "deadline" + (kase.overdue ? " bad" : ""), text: GP.t("field.deadline_at") + " " + GP.time(kase.deadline_at)}),
      complaintOf(kase.id),
      actions]);
  }
  function render() {
    var items = Object.keys(tasks).map(function (id) { return tasks[id]; });
    // Dispatched to me by name first, then the most urgent: overdue, then the nearest deadline.
    items.sort(function (a, b) {
      return (mine(b) - mine(a)) || (b.overdue - a.overdue) || String(a.deadline_at || "9").localeCompare(String(b.deadline_at || "9")) || a.id - b.id;
    });
    var shown = {};
    Array.prototype.forEach.call(list.children, function (node) { shown[node.dataset.caseId] = node; });
    list.innerHTML = "";
    items.forEach(function (kase) {
      var old = shown[kase.id];
      // Keep a card whose form is being filled in (a photo chosen, a note typed) while nothing changed.
      var keep = old && old.querySelector(".action-form") && old.dataset.status === kase.status;
      list.appendChild(keep ? old : card(kase));
    });
    document.getElementById("task-count").textContent = items.length || "";
    document.getElementById("task-empty").hidden = items.length > 0;
  }
  function upsert(kase) {
    var ours = STATES.indexOf(kase.status) >= 0 && (!squad || kase.squad_code === squad);
    if (ours) tasks[kase.id] = Object.assign(tasks[kase.id] || {}, kase);
    else { delete tasks[kase.id]; delete complaints[kase.id]; }
    render();
  }

  GP.loadCategories().then(function () {
    return GP.api("GET", "/api/cases?status=dispatched&status=accepted&limit=500" + (squad ? "&squad=" + encodeURIComponent(squad) : ""));
  }).then(function (loaded) {
    loaded.items.forEach(function (kase) { tasks[kase.id] = kase; });
    render();
    document.body.dataset.ready = "1";
    GP.live(function (event) {
      var isNew = !tasks[event.case.id];
      upsert(event.case);
      var back = event.kind === "returned" || event.kind === "reopened";
      if (isNew && tasks[event.case.id] && (event.kind === "dispatched" || back)) {
        var words = {id: event.case.id, category: GP.categoryName(event.case.category)};
        GP.toast(GP.t(back ? "map.returned" : "map.new_dispatch", words), "alert");
        GP.beep();
      }
    });
  }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
