/* The roster page: who holds which cells when (五定一包), import from CSV/XLSX (bad rows named), the days with gaps in
   the configured hours, and a gap map of the cells nobody covers at a chosen time. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el, boot = GP.boot;
  var page = document.getElementById("roster");
  var squad = page.dataset.squad;
  var query = "?squad=" + encodeURIComponent(squad);
  var shifts = [];
  var picker = document.getElementById("roster-squad");
  if (picker) picker.addEventListener("change", function () { picker.form.submit(); });

  function daysText(days) {
    if (days === "workdays" || days === "restdays" || days === "daily") return GP.t("days." + days);
    return GP.t("roster.days_weekdays", {days: days});
  }
  function cellsText(cells) { return cells.length > 6 ? cells.slice(0, 6).join("、") + " … (" + cells.length + ")" : cells.join("、"); }

  function show(roster) {
    shifts = roster.shifts;
    var body = document.querySelector("#roster-table tbody");
    body.innerHTML = "";
    shifts.forEach(function (shift, index) {
      body.appendChild(el("tr", {"data-officer": shift.officer}, [
        el("td", {text: shift.name + " (" + shift.officer + ")"}), el("td", {text: shift.label}),
        el("td", {text: daysText(shift.days)}), el("td", {text: shift.start + "–" + shift.end}),
        el("td", {className: "cells", title: shift.cells.join(" "), text: cellsText(shift.cells)}),
        el("td", {}, [el("button", {type: "button", className: "link", text: GP.t("roster.remove"), onclick: function () {
          save(shifts.filter(function (_, other) { return other !== index; }));
        }})])]));
    });
    if (!shifts.length) body.appendChild(el("tr", {}, [el("td", {colspan: 6, className: "muted", text: GP.t("roster.empty")})]));
    var warnings = document.getElementById("roster-warnings");
    warnings.innerHTML = "";
    roster.warnings.forEach(function (warning) {
      warnings.appendChild(el("li", {text: GP.t("roster.warning", {date: warning.date, cells: warning.cells, of: warning.of_cells})}));
    });
    if (!roster.warnings.length) warnings.appendChild(el("li", {className: "ok", text: GP.t("roster.no_gaps")}));
    return coverage();
  }

  function save(rows) {
    var body = {shifts: rows.map(function (s) {
      return {officer: s.officer, label: s.label, days: s.days, start: s.start, end: s.end, cells: s.cells};
    })};
    return GP.api("PUT", "/api/patrol/roster" + query, body)
      .then(function (roster) { show(roster); return true; })
      .catch(function (failure) { refused(failure); return false; });
  }

  function refused(failure) {
    var box = document.getElementById("roster-result");
    box.innerHTML = "";
    var problems = failure.data && failure.data.params && failure.data.params.problems;
    if (!problems) { box.appendChild(el("p", {className: "error", text: GP.t("common.error", {message: failure.message})})); return; }
    box.appendChild(el("p", {className: "error", text: GP.t("roster.rejected")}));
    box.appendChild(el("ul", {className: "problems"}, problems.map(function (p) {
      var key = "roster_problem." + p.code, message = GP.boot.messages[key] ? GP.t(key, p.params) : p.message;
      return el("li", {"data-row": p.row, "data-field": p.field, "data-code": p.code,
                       text: GP.t("roster.problem", {row: p.row, field: GP.t("roster_field." + p.field), message: message})});
    })));
  }

  var adding = document.getElementById("roster-add");
  adding.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(adding);
    var row = {officer: data.get("officer"), label: data.get("label"), days: data.get("days"), start: data.get("start"),
               end: data.get("end"), cells: expand(String(data.get("cells")))};
    save(shifts.concat([row])).then(function (saved) { if (saved) adding.reset(); });
  });
  /* Cell codes as the roster file takes them: separated by commas or spaces, "first-last" a range. */
  function expand(text) {
    var codes = [];
    text.split(/[\s,;，；、]+/).filter(Boolean).forEach(function (part) {
      var range = /^(\d+)-(\d+)$/.exec(part);
      if (!range || range[1].length !== range[2].length) { codes.push(part); return; }
      for (var n = Number(range[1]); n <= Number(range[2]) && codes.length < 5000; n++) {
        codes.push(String(n).padStart(range[1].length, "0"));
      }
    });
    return codes;
  }
  GP.api("GET", "/api/patrol/members" + query).then(function (members) {
    members.forEach(function (member) {
      adding.elements.officer.appendChild(el("option", {value: member.username, text: member.name + " (" + member.username + ")"}));
    });
  });

  document.getElementById("roster-import").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target, data = new FormData(form);
    GP.api("POST", "/api/patrol/roster/import" + query, data).then(function (roster) {
      var box = document.getElementById("roster-result");
      box.innerHTML = "";
      box.appendChild(el("p", {className: "ok", text: GP.t("roster.imported", {n: roster.shifts.length})}));
      form.reset();
      return show(roster);
    }).catch(refused);
  });

  var map = GP.makeMap("gap-map", {scrollWheelZoom: false});
  var cells = null;
  var coverageForm = document.getElementById("coverage-form");
  function localNow() {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {timeZone: boot.timezone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false}).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + (parts.hour === "24" ? "00" : parts.hour) + ":" + parts.minute;
  }
  coverageForm.elements.at.value = localNow();

  function coverage() {
    var at = coverageForm.elements.at.value + ":00" + (boot.timezone_offset || "+08:00");
    return GP.api("GET", "/api/patrol/coverage" + query + "&at=" + encodeURIComponent(at)).then(function (found) {
      var open = {};
      found.uncovered.forEach(function (code) { open[code] = true; });
      cells.eachLayer(function (layer) {
        var code = layer.feature.properties.code, gap = !!open[code];
        layer.setStyle(gap ? {color: "#b71c1c", weight: 1, fillColor: "#e53935", fillOpacity: 0.55}
                           : {color: "#2e7d32", weight: 1, fillColor: "#a5d6a7", fillOpacity: 0.45});
        layer.getElement().setAttribute("data-uncovered", gap ? "1" : "0");
      });
      document.getElementById("coverage-info").textContent = GP.t("roster.uncovered", {n: found.uncovered.length,
                                                                                       of: cells.getLayers().length});
      var list = document.getElementById("cell-gaps");
      list.innerHTML = "";
      found.day_gaps.slice(0, 30).forEach(function (cell) {
        list.appendChild(el("li", {text: GP.t("roster.cell_gaps", {cell: cell.cell_code, gaps: cell.gaps.map(function (g) {
          return g[0] + "–" + g[1]; }).join("，")})}));
      });
      page.dataset.ready = "1";
    });
  }
  coverageForm.addEventListener("submit", function (event) { event.preventDefault(); coverage(); });

  GP.loadGrid(squad).then(function (grid) {
    cells = GP.gridLayer(grid, function () { return {color: "#5b6b7f", weight: 1, fillOpacity: 0.2}; }).addTo(map);
    if (grid.features.length) map.fitBounds(cells.getBounds(), {padding: [10, 10]});
    cells.eachLayer(function (layer) {
      layer.bindTooltip(layer.feature.properties.code, {sticky: true});
      layer.getElement().setAttribute("data-cell", layer.feature.properties.code);
    });
    return GP.api("GET", "/api/patrol/roster" + query);
  }).then(show).then(function () { GP.live(function () {}); })
    .catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
