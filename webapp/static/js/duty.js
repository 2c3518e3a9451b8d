/* The duty log (个人勤务台账) on /stats: per officer and squad for a day, week or month, and its XLSX export. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el, boot = GP.boot;
  var form = document.getElementById("duty-form");
  var body = document.querySelector("#duty-log tbody");
  var exportLink = document.getElementById("duty-export");

  function today() {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {timeZone: boot.timezone, year: "numeric", month: "2-digit", day: "2-digit"})
      .formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }
  /* A duration as H:MM:SS: a short patrol still shows its seconds. */
  function duration(seconds) {
    var s = Math.round(seconds), two = function (n) { return (n < 10 ? "0" : "") + n; };
    return Math.floor(s / 3600) + ":" + two(Math.floor(s % 3600 / 60)) + ":" + two(s % 60);
  }
  function km(metres) { return (metres / 1000).toFixed(2); }

  function row(squad, name, figures, total) {
    return el("tr", {className: total ? "mine" : "", "data-officer": total ? "" : name.username}, [
      el("td", {text: GP.squadShort(squad)}),
      el("td", {text: total ? GP.t("duty.total") : name.name}),
      el("td", {className: "num patrol-time", text: duration(figures.patrol_s || 0)}),
      el("td", {className: "num distance", text: km(figures.distance_m || 0)}),
      el("td", {className: "num check-ins-in", text: String(figures.check_ins_in_beat || 0)}),
      el("td", {className: "num", text: String(figures.check_ins_outside || 0)}),
      el("td", {className: "num found", text: String(figures.cases_found || 0)}),
      el("td", {className: "num", text: String(figures.cases_handled || 0)}),
      el("td", {className: "num", text: GP.percent(figures.on_time_rate)})]);
  }

  function load() {
    var query = "?period=" + form.elements.period.value + "&date=" + form.elements.date.value;
    exportLink.href = "/api/patrol/duty" + query + "&format=xlsx";
    return GP.api("GET", "/api/patrol/duty" + query).then(function (log) {
      body.innerHTML = "";
      log.squads.forEach(function (squad) {
        squad.officers.forEach(function (officer) { body.appendChild(row(squad.squad_code, officer, officer, false)); });
        if (squad.officers.length > 1) body.appendChild(row(squad.squad_code, null, squad.total, true));
      });
      if (!body.children.length) body.appendChild(el("tr", {}, [el("td", {colspan: 9, className: "muted", text: GP.t("duty.empty")})]));
      document.getElementById("duty").dataset.ready = "1";
    }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
  }

  form.elements.date.value = today();
  form.addEventListener("change", load);
  load();
})();
