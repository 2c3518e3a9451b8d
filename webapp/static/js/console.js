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
  var locateMap = null, locateMarker = null, locateTicket = null, gridCollection = null, candidateLayer = null;

  function filters() {
    var data = new FormData(filtersForm);
    return {status: data.get("status"), squad: data.get("squad"), category: data.get("category"),
            overdue: data.get("overdue") === "true", review: data.get("review")};
  }
  function query() {
    var f = filters(), params = new URLSearchParams();
    var statuses = f.status === "open" ? GP.OPEN : f.status ? [f.status] : [];
    statuses.forEach(function (s) { params.append("status", s); });
    if (f.squad) params.set("squad", f.squad);
    if (f.category) params.set("category", f.category);
    if (f.overdue) params.set("overdue", "true");
    if (f.review) params.set("review", f.review);
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
    if (f.review && kase.review_status !== f.review) return false;
    return true;
  }

  function row(kase) {
    var sources = kase.sources || [];
    var merged = (kase.ticket_count || 1) - 1;
    return el("tr", {"data-case-id": kase.id, className: (kase.overdue ? "overdue " : "") + (kase.id === selected ? "selected" : ""),
                     onclick: function () { select(kase.id); }}, [
      el("td", {className: "nowrap"}, ["#" + kase.id, merged > 0 ? el("span", {className: "merged-count",
        title: GP.t("console.merged_count", {n: merged}), text: "+" + merged}) : null]),
      el("td", {className: "nowrap"}, sources.map(function (source) {
        return el("span", {className: "source-tag source-" + source, title: GP.t("source." + source),
                           text: GP.t("source_short." + source)});
      })),
      el("td", {className: "priority priority-" + kase.priority, text: GP.t("priority." + kase.priority)}),
      el("td", {className: "category", title: GP.categoryName(kase.category)}, [
        el("span", {className: "dot", style: "background:" + GP.categoryColor(kase.category)}), GP.categoryName(kase.category)]),
      el("td", {}, [el("span", {className: "status status-" + kase.status, text: GP.t("status." + kase.status)}),
                    kase.overdue ? el("span", {className: "status overdue", text: GP.t("console.overdue")}) : null,
                    kase.review_status === "pending" ? el("span", {className: "status review-pending",
                                                                   text: GP.t("review.pending")}) : null]),
      el("td", {className: "squad", title: GP.squadName(kase.squad_code), text: GP.squadShort(kase.squad_code)}),
      el("td", {className: "address", title: kase.address || "", text: kase.address || kase.cell_code}),
      el("td", {className: "nowrap", text: GP.time(kase.reported_at)}),
      el("td", {className: "nowrap deadline-cell"}, [GP.time(kase.deadline_at), timeLeft(kase)])
    ]);
  }
  /* Time to the handling deadline while the squad's clock runs; past it, how late. */
  function timeLeft(kase) {
    if (!kase.deadline_at || ["registered", "dispatched", "accepted"].indexOf(kase.status) < 0) return null;
    var minutes = Math.round((new Date(kase.deadline_at) - Date.now()) / 60000);
    var span = Math.abs(minutes), words = {h: Math.floor(span / 60), m: span % 60};
    return el("span", {className: "time-left" + (minutes < 0 ? " late" : minutes < 60 ? " soon" : ""),
                       text: GP.t(minutes < 0 ? "console.late_by" : "console.left", words)});
  }
  function render() {
    // Newest report first, as the API orders them.
    var ids = Object.keys(rows).map(Number).sort(function (a, b) {
      return String(rows[b].reported_at).localeCompare(String(rows[a].reported_at)) || b - a;
    });
    tbody.innerHTML = "";
    ids.forEach(function (id) { tbody.appendChild(row(rows[id])); });
    if (!ids.length) tbody.appendChild(el("tr", {className: "empty-row"}, [
      el("td", {colSpan: 9, className: "muted empty", text: GP.t("console.no_match")})]));
    totalBadge.textContent = total;
  }
  setInterval(render, 60000);  // the countdowns
  function reload() {
    return GP.api("GET", "/api/cases?" + query()).then(function (list) {
      rows = {};
      list.items.forEach(function (kase) { rows[kase.id] = kase; });
      total = list.total;
      render();
    });
  }
  filtersForm.addEventListener("change", reload);

  function actorName(event) {
    if (event.actor_kind === "token") return GP.t("actor.token", {name: event.actor_name});
    if (event.actor_kind === "system") return GP.t("actor.system", {name: event.actor_name});
    return event.actor_name || event.actor;
  }

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
     [GP.t("field.priority"), GP.t("priority." + kase.priority)], [GP.t("field.reported_at"), GP.time(kase.reported_at)],
     [GP.t("field.deadline_at"), kase.deadline_at ? GP.time(kase.deadline_at) : null],
     [GP.t("field.result"), kase.handling_result ? GP.t("result." + kase.handling_result) : null],
     [GP.t("field.rework"), kase.rework_count]].forEach(function (pair) {
      field(pair[0], pair[1]).forEach(function (node) { fields.appendChild(node); });
    });
    if (kase.reject_reason) field(GP.t("field.reason"), reasonText(kase.reject_reason)).forEach(function (node) { fields.appendChild(node); });

    showPlate(kase);
    showReview(kase);
    var actions = document.getElementById("d-actions");
    if (!GP.actionButtons(kase, actions, function (updated) { showDetail(updated); upsertRow(updated); })) {
      actions.appendChild(el("p", {className: "muted", text: GP.t("console.no_actions")}));
    }
    if (kase.status === "closed") actions.appendChild(GP.ratingBlock(kase, function () { select(kase.id); }));

    showSignoffs(kase);
    document.getElementById("d-flags-box").hidden = !kase.review_flags.length;
    var flags = document.getElementById("d-flags");
    flags.innerHTML = "";
    kase.review_flags.forEach(function (flag) {
      flags.appendChild(el("li", {className: "status overdue", "data-flag": flag.flag,
        text: GP.t("flag." + flag.flag) + (flag.step ? " · " + GP.signoffStep(flag.step) : "")}));
    });

    var timeline = document.getElementById("d-timeline");
    timeline.innerHTML = "";
    kase.timeline.forEach(function (event) {
      var extra = [];
      if (event.data && event.data.review) extra.push(GP.t("review." + event.data.review));
      if (event.data && event.data.reason) extra.push(GP.t("field.reason") + ": " + reasonText(event.data.reason));
      if (event.data && event.data.result) extra.push(GP.t("result." + event.data.result));
      if (event.kind === "plate") {
        extra.push((event.data.previous || "—") + " → " + (event.data.plate || GP.t("plate.none")) +
                   (event.data.source ? " · " + GP.t("plate.source." + event.data.source) : ""));
      }
      if (event.data && event.data.suggestion) extra.push(GP.t("plate.leniency") + ": " + GP.t("result." + event.data.suggestion));
      if (event.data && event.data.squad) extra.push("→ " + GP.squadName(event.data.squad));
      if (event.note) extra.push(event.note);
      timeline.appendChild(el("li", {className: "kind-" + event.kind}, [
        el("span", {className: "when", text: GP.time(event.at)}),
        el("strong", {text: GP.t("event." + event.kind)}), " ",
        el("span", {className: "muted", title: event.actor, text: actorName(event)}),
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

  /* The vehicle's plate: text, crop, where it came from, the first-offence suggestion, earlier cases, correction. */
  function showPlate(kase) {
    var box = document.getElementById("d-plate-box");
    box.hidden = !(kase.plate || kase.plate_note || kase.plate_history.length || kase.category === "0505");
    document.getElementById("d-plate").textContent = kase.plate || GP.t("plate.none");
    var meta = [kase.plate_colour ? GP.t("plate.colour." + kase.plate_colour) : null,
                kase.plate_source ? GP.t("plate.source." + kase.plate_source) : null,
                kase.plate_confidence !== null && kase.plate_confidence !== undefined
                  ? GP.t("plate.confidence", {value: kase.plate_confidence.toFixed(2)}) : null];
    document.getElementById("d-plate-meta").textContent = meta.filter(Boolean).join(" · ");
    document.getElementById("d-plate-note").textContent = kase.plate_note || "";
    var crop = document.getElementById("d-plate-crop");
    crop.innerHTML = "";
    if (kase.plate_crop_id) crop.appendChild(el("img", {src: "/api/evidence/" + kase.plate_crop_id, alt: GP.t("plate.crop")}));
    var leniency = document.getElementById("d-leniency");
    leniency.hidden = !kase.leniency;
    leniency.textContent = kase.leniency ? GP.t(kase.leniency === "warned" ? "plate.leniency_first" : "plate.leniency_later") : "";
    var offsite = document.getElementById("d-offsite");
    offsite.hidden = !(kase.offsite && kase.offsite.allowed);
    offsite.textContent = GP.t("plate.offsite_ok");
    var history = document.getElementById("d-plate-history");
    history.innerHTML = "";
    kase.plate_history.forEach(function (earlier) {
      history.appendChild(el("li", {"data-case-id": earlier.id}, [
        el("button", {className: "link", text: "#" + earlier.id, onclick: function () { select(earlier.id); }}), " ",
        el("span", {text: GP.time(earlier.reported_at) + " · " + GP.t("status." + earlier.status) +
          (earlier.handling_result ? " · " + GP.t("result." + earlier.handling_result) : "")})]));
    });
    if (!kase.plate_history.length) history.appendChild(el("li", {className: "muted small", text: GP.t("plate.no_history")}));
    var form = document.getElementById("d-plate-form");
    form.hidden = !(GP.boot.me.role === "dispatcher" || GP.boot.me.role === "admin");
    form.onsubmit = function (event) {
      event.preventDefault();
      var data = new FormData(form), body = {plate: data.get("plate")}, error = document.getElementById("d-plate-error");
      if (data.get("note")) body.note = data.get("note");
      GP.api("PUT", "/api/cases/" + kase.id + "/plate", body).then(function (updated) {
        error.hidden = true;
        form.reset();
        GP.toast(GP.t("plate.corrected"));
        showDetail(updated);
      }).catch(function (failure) { error.textContent = GP.t("common.error", {message: failure.message}); error.hidden = false; });
    };
  }

  /* Review of a camera or drone case: both evidence photos side by side, the zone and dwell, confirm or reject. */
  var REASONS = ["false_detection", "not_a_violation", "duplicate"];
  function reasonText(reason) { return REASONS.indexOf(reason) >= 0 ? GP.t("reason." + reason) : reason; }
  function showReview(kase) {
    var box = document.getElementById("d-review"), review = kase.review;
    box.hidden = !review;
    if (!review) return;
    var status = document.getElementById("r-status");
    status.className = "status review-" + review.status;
    status.textContent = GP.t("review." + review.status);
    [0, 1].forEach(function (index) {
      var holder = document.getElementById("r-photo-" + (index + 1)), photo = review.photos[index];
      var caption = document.getElementById("r-caption-" + (index + 1));
      holder.innerHTML = "";
      caption.textContent = GP.t(index ? "review.photo2" : "review.photo1") + (photo && photo.taken_at ? " · " + GP.time(photo.taken_at) : "");
      holder.appendChild(photo
        ? el("a", {href: "/api/evidence/" + photo.id, target: "_blank"}, [el("img", {src: "/api/evidence/" + photo.id, alt: photo.caption || ""})])
        : el("div", {className: "muted small", text: GP.t("review.no_photo")}));
    });
    var times = review.photos.map(function (photo) { return photo.taken_at ? Date.parse(photo.taken_at) : NaN; });
    var apart = times.length === 2 && !isNaN(times[0]) && !isNaN(times[1]) ? Math.round((times[1] - times[0]) / 1000) : null;
    var fields = document.getElementById("r-fields");
    fields.innerHTML = "";
    [[GP.t("review.camera"), GP.t("source." + review.source) + " " + (review.source_id || "")],
     [GP.t("review.rule"), review.rule ? GP.t("rule." + review.rule) : null],
     [GP.t("review.zone"), review.zone_id],
     [GP.t("review.dwell"), review.dwell_s === null || review.dwell_s === undefined ? null
       : GP.t("review.seconds", {n: Math.round(review.dwell_s)}) + (apart !== null ? " · " + GP.t("review.photos_apart", {n: apart}) : "")],
     [GP.t("review.confidence"), review.confidence ? review.confidence.toFixed(2) : null],
     review.reason ? [GP.t("review.reason"), reasonText(review.reason)] : null].forEach(function (pair) {
      if (pair) field(pair[0], pair[1]).forEach(function (node) { fields.appendChild(node); });
    });
    var form = document.getElementById("r-form");
    var me = GP.boot.me, mayReview = me.role === "dispatcher" || me.role === "admin";
    form.hidden = !(review.status === "pending" && mayReview);
    form.dataset.caseId = kase.id;
    document.getElementById("r-error").hidden = true;
    document.getElementById("r-note").value = "";
  }
  function sendReview(verdict) {
    var form = document.getElementById("r-form"), id = Number(form.dataset.caseId);
    var body = {verdict: verdict}, note = document.getElementById("r-note").value.trim();
    if (verdict === "reject") body.reason = document.getElementById("r-reason").value;
    if (note) body.note = note;
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    GP.api("POST", "/api/cases/" + id + "/review", body).then(function (updated) {
      GP.toast(GP.t(verdict === "confirm" ? "review.done_confirm" : "review.done_reject", {id: id}), "info");
      showDetail(updated);
      upsertRow(updated);
    }).catch(function (failure) {
      var error = document.getElementById("r-error");
      error.textContent = GP.t("common.error", {message: failure.message});
      error.hidden = false;
    }).then(function () { buttons.forEach(function (button) { button.disabled = false; }); });
  }
  document.getElementById("r-confirm").addEventListener("click", function () { sendReview("confirm"); });
  document.getElementById("r-reject").addEventListener("click", function () { sendReview("reject"); });
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
        locateAt(chosen, GP.fromMap(event.latlng));
      });
      candidateLayer = L.layerGroup().addTo(locateMap);
    }
    locateMap.invalidateSize();
    showCandidates(ticket);
  }
  function locateAt(ticket, location) {
    return GP.api("POST", "/api/tickets/" + ticket.id + "/locate", {location: location}).then(function (result) {
      GP.toast(GP.t("console.located", {id: ticket.id}), "info");
      locateTicket = null;
      candidateLayer.clearLayers();
      document.getElementById("l-candidates").innerHTML = "";
      loadUnlocated();
      if (result.case) { select(result.case.id); upsertRow(result.case); }
    }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
  }
  /* The address book's candidates for the ticket (best first): numbered pins on the map and a list; one click on
     either places the ticket there. */
  function showCandidates(ticket) {
    var box = document.getElementById("l-candidates");
    candidateLayer.clearLayers();
    box.innerHTML = "";
    GP.api("GET", "/api/hotline/tickets/" + ticket.id + "/candidates").then(function (candidates) {
      if (!locateTicket || locateTicket.id !== ticket.id) return;  // another ticket was picked meanwhile
      box.appendChild(el("li", {className: "muted small",
        text: GP.t(candidates.length ? "console.candidates" : "console.no_candidates")}));
      var points = [];
      candidates.forEach(function (candidate) {
        var accept = function () { locateAt(ticket, {lon: candidate.lon, lat: candidate.lat, crs: "wgs84"}); };
        var at = GP.toMap(candidate.lon, candidate.lat);
        var pin = el("span", {className: "candidate-pin", "data-rank": candidate.rank, text: String(candidate.rank),
                              onclick: accept});
        L.DomEvent.disableClickPropagation(pin);  // a pick, not a click on the map (which asks to place by hand)
        L.marker(at, {icon: L.divIcon({className: "case-icon", html: pin, iconSize: [24, 24], iconAnchor: [12, 12]}),
                      title: candidate.address, riseOnHover: true, zIndexOffset: 1000 - candidate.rank * 10})  // best on top
          .addTo(candidateLayer);
        points.push(at);
        box.appendChild(el("li", {"data-rank": candidate.rank}, [
          el("span", {className: "candidate-pin", text: String(candidate.rank)}), " ",
          el("span", {text: candidate.address}), " ",
          el("span", {className: "muted small", text: GP.t("console.candidate_score", {score: Math.round(candidate.score)})}), " ",
          el("button", {type: "button", className: "primary small", text: GP.t("console.candidate_accept"), onclick: accept})]));
      });
      if (points.length) locateMap.fitBounds(L.latLngBounds(points).pad(0.5), {maxZoom: 17});
    }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (tab) {
    tab.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (other) {
        other.classList.toggle("active", other === tab);
      });
      ["queue", "locate", "imports"].forEach(function (name) {
        document.getElementById("tab-" + name).hidden = tab.dataset.tab !== name;
      });
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
