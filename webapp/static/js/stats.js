/* Statistics: the squads' evaluation ranking, cases by category and by day, and a heat map of cells. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el, boot = GP.boot;
  var period = document.getElementById("period");
  var categoryChart = echarts.init(document.getElementById("chart-category"));
  var dayChart = echarts.init(document.getElementById("chart-day"));
  // Marks when both charts have finished drawing (animations included), for people and tests alike.
  var drawn = {};
  [["category", categoryChart], ["day", dayChart]].forEach(function (pair) {
    pair[1].on("finished", function () {
      drawn[pair[0]] = true;
      if (drawn.category && drawn.day) document.body.dataset.chartsDrawn = "1";
    });
  });
  var heatMap = GP.makeMap("heat-map", {scrollWheelZoom: false});
  var heatLayer = null, heatLegend = null, grid = null;
  function noData() {
    return {text: GP.t("stats.no_data"), left: "center", top: "middle", textStyle: {color: "#999", fontSize: 14}};
  }
  var FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

  function range() {
    var now = new Date(), since = null;
    if (period.value === "7" || period.value === "30") since = new Date(now.getTime() - Number(period.value) * 86400000);
    if (period.value === "year") since = new Date(now.getFullYear(), 0, 1);
    return since ? "?since=" + encodeURIComponent(since.toISOString()) : "";
  }

  function ranking(rows) {
    // Like a bureau's annual evaluation: best closure rate first, then on-time rate, then fewer overdue.
    rows.sort(function (a, b) {
      return (b.closure_rate || 0) - (a.closure_rate || 0) || (b.on_time_rate || 0) - (a.on_time_rate || 0) ||
        a.overdue_open - b.overdue_open || b.cases - a.cases;
    });
    // With no closed case anywhere there is nothing to rank on: list the squads without places or medals.
    var ranked = rows.some(function (row) { return row.closed > 0; });
    if (!ranked) rows.sort(function (a, b) { return a.squad_code < b.squad_code ? -1 : 1; });
    document.getElementById("ranking-note").textContent = GP.t(ranked ? "stats.order_note" : "stats.unranked");
    var tbody = document.querySelector("#ranking tbody");
    tbody.innerHTML = "";
    rows.forEach(function (row, index) {
      var mine = boot.me.squad_code === row.squad_code;
      tbody.appendChild(el("tr", {className: mine ? "mine" : "", "data-squad": row.squad_code}, [
        ranked ? el("td", {className: "rank rank-" + (index + 1), text: String(index + 1)})
               : el("td", {className: "rank", text: GP.t("common.none")}),
        el("td", {text: row.squad_name + " (" + row.squad_code + ")"}),
        el("td", {className: "num", text: String(row.cases)}),
        el("td", {className: "num", text: String(row.handled)}),
        el("td", {className: "num", text: String(row.closed)}),
        el("td", {className: "num" + (row.overdue_open ? " bad" : ""), text: String(row.overdue_open)}),
        el("td", {className: "num", text: GP.percent(row.closure_rate)}),
        el("td", {className: "num", text: GP.percent(row.on_time_rate)}),
        el("td", {className: "num", text: GP.percent(row.rework_rate)}),
        el("td", {className: "num", text: row.avg_handling_work_h === null ? GP.t("common.none")
                                                                         : row.avg_handling_work_h.toFixed(1)}),
        // Satisfaction from the callers' follow-up ratings (回访); "—" while a squad has none rated.
        el("td", {className: "num", title: GP.t("stats.rated", {n: row.rated || 0}),
                  text: GP.percent(row.satisfaction_rate)})
      ]));
    });
  }

  /* The dispatchers' verdicts on camera and drone cases: the precision the cameras reach in production. */
  function reviewTable(rows) {
    var tbody = document.querySelector("#review-stats tbody");
    tbody.innerHTML = "";
    if (!rows.length) tbody.appendChild(el("tr", {}, [el("td", {colSpan: 9, className: "muted", text: GP.t("stats.no_data")})]));
    rows.forEach(function (row) {
      tbody.appendChild(el("tr", {"data-source": row.source, "data-rule": row.rule || ""}, [
        el("td", {text: GP.t("source." + row.source)}),
        el("td", {text: row.rule ? GP.t("rule." + row.rule) : GP.t("common.none")}),
        el("td", {className: "num confirmed", text: String(row.confirmed)}),
        el("td", {className: "num rejected", text: String(row.rejected)}),
        el("td", {className: "num", text: String(row.false_detection)}),
        el("td", {className: "num", text: String(row.not_a_violation)}),
        el("td", {className: "num", text: String(row.duplicate)}),
        el("td", {className: "num", text: String(row.pending)}),
        el("td", {className: "num precision", text: GP.percent(row.precision)})
      ]));
    });
  }

  /* Plates: repeat offenders (masked) and warnings against penalties among cases with a plate. */
  function plateTable(stats) {
    document.getElementById("plate-summary").textContent = GP.t("stats.plate_summary", {
      plates: stats.plates, cases: stats.cases_with_plate, warned: stats.warned, penalties: stats.penalties});
    var tbody = document.querySelector("#repeat-plates tbody");
    tbody.innerHTML = "";
    if (!stats.repeat_plates.length) tbody.appendChild(el("tr", {}, [el("td", {colSpan: 2, className: "muted", text: GP.t("stats.no_data")})]));
    stats.repeat_plates.forEach(function (row) {
      tbody.appendChild(el("tr", {}, [el("td", {text: row.plate}), el("td", {className: "num", text: String(row.cases)})]));
    });
  }

  /* Every local date from the first to the last one with cases: quiet days count as 0, not as missing. */
  function everyDay(dates) {
    if (!dates.length) return [];
    dates.sort();
    var day = new Date(dates[0] + "T00:00:00Z"), last = new Date(dates[dates.length - 1] + "T00:00:00Z"), out = [];
    for (; day <= last; day = new Date(day.getTime() + 86400000)) out.push(day.toISOString().slice(0, 10));
    return out;
  }

  function charts(counts) {
    var categories = Object.keys(counts.by_category).sort(function (a, b) { return counts.by_category[b] - counts.by_category[a]; });
    categoryChart.setOption({
      textStyle: {fontFamily: FONT}, animation: false,
      title: categories.length ? undefined : noData(),
      tooltip: {trigger: "item"},
      grid: {left: 8, right: "48%", top: 10, bottom: 10, containLabel: true},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", inverse: true, data: categories.map(GP.categoryName), axisLabel: {fontFamily: FONT}},
      series: [
        {type: "bar", data: categories.map(function (code) {
          return {value: counts.by_category[code], itemStyle: {color: GP.categoryColor(code)}};
        }),
         label: {show: true, position: "right"}, barMaxWidth: 22, name: GP.t("stats.case_count")},
        {type: "pie", radius: ["30%", "62%"], center: ["76%", "50%"], name: GP.t("stats.case_count"),
         label: {position: "inside", formatter: "{d}%", color: "#fff", fontSize: 11, fontFamily: FONT},
         data: categories.map(function (code) {
           return {name: GP.categoryName(code), value: counts.by_category[code], itemStyle: {color: GP.categoryColor(code)}};
         })}
      ]
    }, true);
    var days = everyDay(Object.keys(counts.by_day));
    dayChart.setOption({
      textStyle: {fontFamily: FONT}, animation: false,
      title: days.length ? undefined : noData(),
      tooltip: {trigger: "axis"},
      grid: {left: 16, right: 24, top: 16, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: days.map(function (day) { return day.slice(5); }), boundaryGap: false},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "line", name: GP.t("stats.case_count"), smooth: true, smoothMonotone: "x", areaStyle: {opacity: 0.15}, symbolSize: 7,
                showAllSymbol: true, data: days.map(function (day) { return counts.by_day[day] || 0; })}]
    }, true);
  }

  var HEAT = ["#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04"];
  function heat(counts) {
    var byCell = counts.by_cell, max = 0;
    Object.keys(byCell).forEach(function (code) { max = Math.max(max, byCell[code].cases); });
    function step(n) { return n ? Math.min(HEAT.length - 1, 1 + Math.floor((n / max) * (HEAT.length - 2) + 0.0001)) : 0; }
    if (heatLayer) heatLayer.remove();
    heatLayer = GP.gridLayer(grid, function (feature) {
      var n = (byCell[feature.properties.code] || {}).cases || 0;
      return {color: "#b9a48f", weight: 0.6, fillColor: HEAT[step(n)], fillOpacity: n ? 0.85 : 0.35};
    }).addTo(heatMap);
    heatLayer.eachLayer(function (layer) {
      var data = byCell[layer.feature.properties.code] || {cases: 0, open: 0};
      layer.getElement().setAttribute("data-heat-cell", layer.feature.properties.code);
      layer.bindTooltip(layer.feature.properties.code + " · " + GP.t("stats.case_count") + " " + data.cases);
    });
    if (!heatLegend) {
      heatLegend = L.control({position: "bottomright"});
      heatLegend.onAdd = function () { return el("div", {className: "legend heat-legend"}); };
      heatLegend.addTo(heatMap);
    }
    var box = heatLegend.getContainer();
    box.innerHTML = "";
    box.appendChild(el("strong", {text: GP.t("stats.case_count")}));
    var scale = el("div", {className: "heat-scale"});
    HEAT.forEach(function (color) { scale.appendChild(el("span", {style: "background:" + color})); });
    box.appendChild(scale);
    box.appendChild(el("div", {className: "heat-ends"}, [el("span", {text: "0"}), el("span", {text: String(max)})]));
  }

  function load() {
    return Promise.all([GP.api("GET", "/api/stats/squads" + range()), GP.api("GET", "/api/stats/cases" + range()),
                        GP.api("GET", "/api/stats/review" + range()), GP.api("GET", "/api/plates/stats" + range())])
      .then(function (loaded) {
        ranking(loaded[0]); charts(loaded[1]); heat(loaded[1]); reviewTable(loaded[2]); plateTable(loaded[3]);
        document.body.dataset.ready = "1";
      })
      .catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
  }

  period.addEventListener("change", load);
  window.addEventListener("resize", function () { categoryChart.resize(); dayChart.resize(); });
  GP.loadCategories().then(function () { return GP.loadGrid(boot.squad); }).then(function (collection) {
    grid = collection;
    var outline = GP.gridLayer(grid, {});
    if (grid.features.length) heatMap.fitBounds(outline.getBounds(), {padding: [8, 8]});
    else heatMap.setView([32.12, 114.07], 13);
    return load();
  }).then(function () {
    var pending = null;  // live: refresh at most every few seconds, whatever the event rate
    GP.live(function () {
      if (!pending) pending = setTimeout(function () { pending = null; load(); }, 3000);
    });
  });
})();
