/* Dispatcher console: the live case queue, one case's file and its transitions, the "locate manually" queue. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el;
  var filtersForm = document.getElementById("filters");
  var tbody = document.querySelector("#case-table tbody");
  var totalBadge = document.getElementById("queue-total");
  var rows = {};        // id → case shown in the table
  var total = 0;
  var selected = null;  // id of the case in the detail pane
  var miniMap = null, miniMarker = null;
  var locateMap = null, locateMarker = null, locateTicket = null, gridCollection = null;

  function filters() {
    var data = new FormData(filtersForm);
    return {status: data.get("status"), squad: data.get("squad"), category: data.get("category"),
            overdue: data.get("overdue") === "true"};
  }
  function query() {
    var f = filters(), params = new URLSearchParams();
    var statuses = f.status === "open" ? GP.OPEN : f.status ? [f.status] : [];
    statuses.forEach(function (s) { params.append("status", s); });
    if (f.squad) params.set("squad", f.squad);
    if (f.category) params.set("category", f.category);
    if (f.overdue) params.set("overdue", "true");
    params.set("limit", "200");
    return params.toString();
  }
  function matches(kase) {
    var f = filters();
    if (f.status === "open" && GP.OPEN.indexOf(kase.status) < 0) return false;
    if (f.status && f.status !== "open" && kase.status !== f.status) return false;
    if (f.squad && kase.squad_code !== f.squad) return false;
    if (f.category && kase.category !== f.category) return false;
    if (f.overdue && !kase.overdue) return false;
    return true;
  }

  function row(kase) {
    return el("tr", {"data-case-id": kase.id, className: (kase.overdue ? "overdue " : "") + (kase.id === selected ? "selected" : ""),
                     onclick: function () { select(kase.id); }}, [
      el("td", {text: "#" + kase.id}),
      el("td", {}, [el("span", {className: "dot", style: "background:" + GP.categoryColor(kase.category)}),
                    GP.categoryName(kase.category)]),
      el("td", {}, [el("span", {className: "status status-" + kase.status, text: GP.t("status." + kase.status)}),
                    kase.overdue ? el("span", {className: "status overdue", text: GP.t("console.overdue")}) : null]),
      el("td", {className: "squad", title: GP.squadName(kase.squad_code), text: GP.squadShort(kase.squad_code)}),
      el("td", {className: "address", title: kase.address || "", text: kase.address || kase.cell_code}),
      el("td", {text: GP.time(kase.reported_at)}),
      el("td", {text: GP.time(kase.deadline_at)})
    ]);
  }
  function render() {
    // Newest report first, as the API orders them.
    var ids = Object.keys(rows).map(Number).sort(function (a, b) {
      return String(rows[b].reported_at).localeCompare(String(rows[a].reported_at)) || b - a;
    });
    tbody.innerHTML = "";
    ids.forEach(function (id) { tbody.appendChild(row(rows[id])); });
    totalBadge.textContent = total;
  }
  function reload() {
    return GP.api("GET", "/api/cases?" + query()).then(function (list) {
      rows = {};
      list.items.forEach(function (kase) { rows[kase.id] = kase; });
      total = list.total;
      render();
    });
  }
  filtersForm.addEventListener("change", reload);

  /* One case's file (一案一档). */
  function field(label, value) {
    var empty = value === null || value === undefined || value === "";
    return [el("dt", {text: label}), el("dd", {text: empty ? GP.t("common.none") : String(value)})];
  }
  function select(id) {
    selected = id;
    document.getElementById("locate-view").hidden = true;
    Array.prototype.forEach.call(tbody.querySelectorAll("tr"), function (tr) {
      tr.classList.toggle("selected", Number(tr.dataset.caseId) === id);
    });
    return GP.api("GET", "/api/cases/" + id).then(showDetail).catch(function (failure) {
      GP.toast(GP.t("common.error", {message: failure.message}), "alert");
    });
  }
  function showDetail(kase) {
    if (kase.id !== selected) return;
    document.getElementById("detail-empty").hidden = true;
    document.getElementById("detail").hidden = false;
    document.getElementById("d-title").textContent = "#" + kase.id + " " + GP.categoryName(kase.category);
    var status = document.getElementById("d-status");
    status.className = "status status-" + kase.status + (kase.overdue ? " overdue" : "");
    status.textContent = GP.t("status." + kase.status) + (kase.overdue ? " · " + GP.t("console.overdue") : "");
    var file = document.getElementById("d-file");  // the case file (一案一档): downloads, not fetch calls
    file.innerHTML = "";
    [["pdf", GP.t("casefile.download_pdf")], ["zip", GP.t("casefile.download_zip")]].forEach(function (link) {
      file.appendChild(el("a", {className: "small", href: "/api/cases/" + kase.id + "/file?format=" + link[0],
                                "data-format": link[0], text: link[1]}));
    });
    var fields = document.getElementById("d-fields");
    fields.innerHTML = "";
    [[GP.t("field.address"), kase.address], [GP.t("field.cell"), kase.cell_code], [GP.t("field.squad"), GP.squadName(kase.squad_code)],
     [GP.t("field.priority"), kase.priority], [GP.t("field.reported_at"), GP.time(kase.reported_at)],
     [GP.t("field.deadline_at"), kase.deadline_at ? GP.time(kase.deadline_at) : null],
     [GP.t("field.result"), kase.handling_result ? GP.t("result." + kase.handling_result) : null],
     [GP.t("field.rework"), kase.rework_count]].forEach(function (pair) {
      field(pair[0], pair[1]).forEach(function (node) { fields.appendChild(node); });
    });
    if (kase.reject_reason) field(GP.t("field.reason"), kase.reject_reason).forEach(function (node) { fields.appendChild(node); });

    var actions = document.getElementById("d-actions");
    if (!GP.actionButtons(kase, actions, function (updated) { showDetail(updated); upsertRow(updated); })) {
      actions.appendChild(el("p", {className: "muted", text: GP.t("console.no_actions")}));
    }

    showSignoffs(kase);
    document.getElementById("d-review-box").hidden = !kase.review_flags.length;
    var flags = document.getElementById("d-review");
    flags.innerHTML = "";
    kase.review_flags.forEach(function (flag) {
      flags.appendChild(el("li", {className: "status overdue", "data-flag": flag.flag,
        text: GP.t("review." + flag.flag) + (flag.step ? " · " + GP.signoffStep(flag.step) : "")}));
    });

    var timeline = document.getElementById("d-timeline");
    timeline.innerHTML = "";
    kase.timeline.forEach(function (event) {
      var extra = [];
      if (event.data && event.data.reason) extra.push(GP.t("field.reason") + ": " + event.data.reason);
      if (event.data && event.data.result) extra.push(GP.t("result." + event.data.result));
      if (event.data && event.data.squad) extra.push("→ " + GP.squadName(event.data.squad));
      if (event.note) extra.push(event.note);
      timeline.appendChild(el("li", {className: "kind-" + event.kind}, [
        el("span", {className: "when", text: GP.time(event.at)}),
        el("strong", {text: GP.t("event." + event.kind)}), " ", el("span", {className: "muted", text: event.actor}),
        extra.length ? el("div", {className: "small", text: extra.join(" · ")}) : null]));
    });

    var tickets = document.getElementById("d-tickets");
    tickets.innerHTML = "";
    kase.tickets.forEach(function (ticket) {
      var reporter = ticket.reporter && (ticket.reporter.name || ticket.reporter.phone)
        ? GP.t("field.reporter") + ": " + [ticket.reporter.name, ticket.reporter.phone].filter(Boolean).join(" ") : "";
      tickets.appendChild(el("li", {}, [
        el("strong", {text: GP.t("console.ticket", {id: ticket.id}) + " · " + GP.t("source." + ticket.source)}), " ",
        el("span", {className: "muted", text: GP.time(ticket.received_at)}),
        el("div", {text: ticket.text}),
        reporter ? el("div", {className: "small muted", text: reporter}) : null,
        kase.tickets.length > 1 ? el("button", {className: "link small", text: GP.t("console.split"), onclick: function () {
          GP.api("POST", "/api/cases/" + kase.id + "/split", {ticket_id: ticket.id})
            .then(function () { select(kase.id); })
            .catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
        }}) : null]));
    });

    var photos = document.getElementById("d-evidence");
    photos.innerHTML = "";
    kase.evidence.forEach(function (item) {
      if (item.uri.indexOf("evidence/") === 0) {
        var src = "/api/evidence/" + item.id;
        photos.appendChild(el("a", {href: src, target: "_blank"}, [
          el("img", {src: src, alt: item.caption || "", title: item.caption || ""})]));
      } else {
        photos.appendChild(el("div", {className: "small muted", text: (item.caption || "") + " " + item.uri}));
      }
    });
    if (!kase.evidence.length) photos.appendChild(el("p", {className: "muted small", text: GP.t("console.no_evidence")}));

    if (!miniMap) {
      miniMap = GP.makeMap("d-map", {zoomControl: false, attributionControl: false});
      if (gridCollection) GP.gridLayer(gridCollection, {color: "#9aa9ba", weight: 1, fillOpacity: 0.05}).addTo(miniMap);
    }
    var at = GP.toMap(kase.lon, kase.lat);
    if (miniMarker) miniMarker.setLatLng(at).setIcon(GP.caseIcon(kase));
    else miniMarker = L.marker(at, {icon: GP.caseIcon(kase)}).addTo(miniMap);
    miniMap.invalidateSize();
    miniMap.setView(at, 16);
  }

  /* Sign-off (签批): each step the city marks, signed (who, when, opinion) or a form for a signer. */
  function showSignoffs(kase) {
    var list = document.getElementById("d-signoffs");
    document.getElementById("d-signoffs-box").hidden = !kase.signoffs.length;
    list.innerHTML = "";
    kase.signoffs.forEach(function (item) {
      var label = GP.signoffStep(item.step);
      if (item.signed_by) {
        list.appendChild(el("li", {className: "signed", "data-step": item.step}, [
          el("strong", {text: label}), " ", el("span", {className: "muted",
            text: GP.t("signoff.signed", {who: item.signed_by, when: GP.time(item.signed_at)})}),
          el("div", {className: "small", text: item.opinion})]));
        return;
      }
      var opinion = el("input", {type: "text", placeholder: GP.t("signoff.opinion"), maxLength: 2000});
      list.appendChild(el("li", {"data-step": item.step}, [
        el("strong", {text: label}), " ", el("span", {className: "status overdue", text: GP.t("signoff.missing")}),
        kase.can_sign_off ? el("div", {}, [opinion, el("button", {className: "action", text: GP.t("signoff.sign"),
          onclick: function () {
            GP.api("POST", "/api/cases/" + kase.id + "/signoffs", {step: item.step, opinion: opinion.value})
              .then(function (updated) { showDetail(updated); })
              .catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
          }})]) : null]));
    });
  }

  function upsertRow(kase) {
    if (matches(kase)) {
      if (!rows[kase.id]) total += 1;
      rows[kase.id] = Object.assign(rows[kase.id] || {}, kase);
    } else if (rows[kase.id]) {
      delete rows[kase.id];
      total -= 1;
    }
    render();
  }

  /* The "locate manually" queue: pick a ticket, click the map, confirm. */
  var unlocated = document.getElementById("unlocated");
  var locateBadge = document.getElementById("locate-total");
  function loadUnlocated() {
    return GP.api("GET", "/api/tickets?status=unlocated").then(function (tickets) {
      locateBadge.textContent = tickets.length || "";
      unlocated.innerHTML = "";
      if (!tickets.length) unlocated.appendChild(el("li", {className: "muted", text: GP.t("console.locate_empty")}));
      tickets.forEach(function (ticket) {
        var picked = locateTicket && locateTicket.id === ticket.id;
        unlocated.appendChild(el("li", {"data-ticket-id": ticket.id, className: picked ? "selected" : "",
                                        onclick: function () { pickTicket(ticket); }}, [
          el("strong", {text: "#" + ticket.id + " " + GP.categoryName(ticket.category)}), " ",
          el("span", {className: "muted", text: GP.t("source." + ticket.source) + " · " + GP.time(ticket.received_at)}),
          el("div", {text: ticket.address || ""}), el("div", {className: "small", text: ticket.text}),
          ticket.unlocated_reason ? el("div", {className: "small muted",
            text: GP.t("console.unlocated_reason") + ": " + ticket.unlocated_reason}) : null]));
      });
    });
  }
  function pickTicket(ticket) {
    locateTicket = ticket;
    Array.prototype.forEach.call(unlocated.querySelectorAll("li"), function (li) {
      li.classList.toggle("selected", Number(li.dataset.ticketId) === ticket.id);
    });
    document.getElementById("detail").hidden = true;
    document.getElementById("detail-empty").hidden = true;
    document.getElementById("locate-view").hidden = false;
    document.getElementById("l-title").textContent =
      "#" + ticket.id + " " + GP.categoryName(ticket.category) + " · " + (ticket.address || "");
    document.getElementById("l-text").textContent = GP.t("console.locate_hint");
    if (!locateMap) {
      locateMap = GP.makeMap("l-map");
      var layer = GP.gridLayer(gridCollection, {color: "#7b8ca3", weight: 1, fillColor: "#e8eef5", fillOpacity: 0.3}).addTo(locateMap);
      if (gridCollection.features.length) locateMap.fitBounds(layer.getBounds());
      else locateMap.setView([32.12, 114.07], 13);
      layer.eachLayer(function (cell) {
        cell.bindTooltip(cell.feature.properties.code + " · " + GP.squadName(cell.feature.properties.squad_code), {sticky: true});
        cell.getElement().setAttribute("data-cell", cell.feature.properties.code);
      });
      locateMap.on("click", function (event) {
        if (!locateTicket) return;
        var chosen = locateTicket;
        var icon = GP.caseIcon({id: 0, category: chosen.category, status: "reported"});
        if (locateMarker) locateMarker.setLatLng(event.latlng);
        else locateMarker = L.marker(event.latlng, {icon: icon}).addTo(locateMap);
        if (!window.confirm(GP.t("console.locate_confirm", {id: chosen.id}))) return;
        GP.api("POST", "/api/tickets/" + chosen.id + "/locate", {location: GP.fromMap(event.latlng)}).then(function (result) {
          GP.toast(GP.t("console.located", {id: chosen.id}), "info");
          locateTicket = null;
          loadUnlocated();
          if (result.case) { select(result.case.id); upsertRow(result.case); }
        }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
      });
    }
    locateMap.invalidateSize();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (tab) {
    tab.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (other) {
        other.classList.toggle("active", other === tab);
      });
      document.getElementById("tab-queue").hidden = tab.dataset.tab !== "queue";
      document.getElementById("tab-locate").hidden = tab.dataset.tab !== "locate";
      if (tab.dataset.tab === "locate") loadUnlocated();
    });
  });

  GP.loadCategories().then(function (categories) {
    var categorySelect = filtersForm.querySelector("[name=category]");
    categories.forEach(function (category) {
      categorySelect.appendChild(el("option", {value: category.code, text: category.code + " " + GP.categoryName(category.code)}));
    });
    return Promise.all([reload(), GP.loadGrid(), loadUnlocated()]);
  }).then(function (loaded) {
    gridCollection = loaded[1];
    document.body.dataset.ready = "1";
    GP.live(function (event) {
      upsertRow(event.case);
      var row = tbody.querySelector('[data-case-id="' + event.case.id + '"]');
      if (row) row.classList.add("flash");
      if (event.case.id === selected && !document.querySelector("#d-actions .action-form")) select(selected);
      var words = {id: event.case.id, category: GP.categoryName(event.case.category)};
      if (event.kind === "created") GP.toast(GP.t("map.new_case", words), "info");
      if (event.kind === "overdue") GP.toast(GP.t("map.overdue", {id: event.case.id}), "alert");
    });
    setInterval(loadUnlocated, 30000);  // unlocated tickets have no case yet, so no case event tells of them
  }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
