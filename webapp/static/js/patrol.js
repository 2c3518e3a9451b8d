/* Patrol on the officer's phone: start and end a patrol, send the position every patrol.position_interval_s (only
   during a patrol), check in where one stands, report a find. Positions that could not be sent wait and go with the
   next ones; the server keeps each (officer, phone time) once, so a resend is harmless. */
(function () {
  "use strict";
  var GP = window.GP, boot = GP.boot;
  var panel = document.getElementById("patrol");
  if (!panel) return;
  var node = function (id) { return document.getElementById(id); };
  var state = {patrol: null, beat: [], interval: (boot.patrol && boot.patrol.position_interval_s) || 15,
               maxBatch: (boot.patrol && boot.patrol.max_batch) || 500};
  var queue = [];  // fixes not yet accepted by the server
  var lastFix = null, timer = null, sending = false;
  var geo = navigator.geolocation || null;

  function say(id, text, kind) {
    var target = node(id);
    target.textContent = text;
    target.hidden = !text;
    target.className = target.className.replace(/\b(ok|bad|outside)\b/g, "").trim() + (kind ? " " + kind : "");
  }

  function render() {
    var on = !!state.patrol;
    panel.dataset.state = on ? "on" : "off";
    node("patrol-state").textContent = on ? GP.t("patrol.on", {time: GP.time(state.patrol.started_at)}) : GP.t("patrol.off");
    node("patrol-start").hidden = on;
    node("patrol-end").hidden = !on;
    node("patrol-check-in").hidden = !on;
    node("beat-state").textContent = state.beat.length ? GP.t("patrol.beat", {n: state.beat.length}) : GP.t("patrol.no_beat");
    if (!geo) say("geo-state", GP.t("patrol.geo_unsupported"), "bad");
  }

  function fixOf(position) {
    return {at: new Date(position.timestamp || Date.now()).toISOString(), lon: position.coords.longitude,
            lat: position.coords.latitude, accuracy: Math.round(position.coords.accuracy || 0)};
  }

  /* One fresh position from the phone, or a rejection saying why there is none. */
  function locate() {
    if (!geo) return Promise.reject(new Error(GP.t("patrol.geo_unsupported")));
    return new Promise(function (resolve, reject) {
      geo.getCurrentPosition(function (position) {
        lastFix = fixOf(position);
        say("geo-state", GP.t("patrol.geo_ok", {accuracy: lastFix.accuracy, time: GP.time(lastFix.at)}), "ok");
        resolve(lastFix);
      }, function (failure) {
        var denied = failure.code === 1;
        say("geo-state", denied ? GP.t("patrol.geo_denied") : GP.t("patrol.geo_error", {message: failure.message}), "bad");
        reject(new Error(denied ? GP.t("patrol.geo_denied") : failure.message));
      }, {enableHighAccuracy: true, maximumAge: 0, timeout: 15000});
    });
  }

  function flush() {
    if (sending || !queue.length || !state.patrol) return Promise.resolve();
    sending = true;
    var batch = queue.slice(0, state.maxBatch);
    return GP.api("POST", "/api/patrol/positions", {positions: batch}).then(function () {
      queue = queue.slice(batch.length);
    }).catch(function (failure) {
      if (failure.status === 409 || failure.status === 422) queue = queue.slice(batch.length);  // never storable
    }).finally(function () {
      sending = false;
      var waiting = queue.length ? GP.t("patrol.pending", {n: queue.length}) : "";
      panel.dataset.pending = String(queue.length);
      if (waiting) say("geo-state", waiting, "bad");
    });
  }

  function tick() {
    return locate().then(function (fix) { queue.push(fix); return flush(); }).catch(function () { return flush(); });
  }

  function startTimer() {
    stopTimer();
    if (!geo) return;
    say("geo-state", GP.t("patrol.geo_waiting"));
    tick();
    timer = setInterval(tick, state.interval * 1000);
  }
  function stopTimer() { if (timer) clearInterval(timer); timer = null; }

  function load(mine) {
    state.patrol = mine.patrol;
    state.beat = mine.beat || [];
    state.interval = mine.interval_s || state.interval;
    render();
    if (state.patrol) startTimer(); else stopTimer();
  }

  function busy(button, promise) {
    button.disabled = true;
    return promise.catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); })
      .finally(function () { button.disabled = false; });
  }

  node("patrol-start").addEventListener("click", function (event) {
    busy(event.target, GP.api("POST", "/api/patrol/start").then(load));
  });
  node("patrol-end").addEventListener("click", function (event) {
    // What the phone still holds goes first: the track ends where the patrol ended.
    busy(event.target, flush().then(function () { return GP.api("POST", "/api/patrol/end"); }).then(function () {
      stopTimer();
      state.patrol = null;
      render();
    }));
  });
  node("patrol-check-in").addEventListener("click", function (event) {
    busy(event.target, locate().then(function (fix) {
      queue.push(fix);
      flush();
      return GP.api("POST", "/api/patrol/check-ins", {lon: fix.lon, lat: fix.lat});
    }).then(function (entry) {
      var where = GP.t(entry.in_beat ? "patrol.in_beat" : "patrol.outside_beat");
      say("check-in-result", GP.t("patrol.checked_in", {cell: entry.cell_code}) + " · " + where,
          entry.in_beat ? "ok" : "outside");
      node("check-in-result").dataset.cell = entry.cell_code;
    }));
  });

  var form = node("find-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form), error = form.querySelector(".error");
    var button = form.querySelector("button[type=submit]");
    var photo = data.get("photo");
    button.disabled = true;
    error.hidden = true;
    var fix = lastFix && state.patrol ? Promise.resolve(lastFix) : locate().catch(function () { return null; });
    fix.then(function (where) {
      var upload = photo && photo.size ? GP.photoForm(photo, GP.t("patrol.find")) : Promise.resolve(new FormData());
      return upload.then(function (body) {
        body.append("category", data.get("category"));
        body.append("text", data.get("text") || "");
        body.append("client_id", "f" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10));
        if (where) { body.append("position_lon", where.lon.toFixed(7)); body.append("position_lat", where.lat.toFixed(7)); }
        return GP.api("POST", "/api/patrol/finds", body);
      });
    }).then(function (taken) {
      var text = taken.case ? GP.t("patrol.find_done", {id: taken.case.id, outcome: GP.t("outcome." + taken.outcome)})
                            : GP.t("patrol.find_unlocated");
      say("find-result", text, "ok");
      if (taken.case) node("find-result").dataset.caseId = taken.case.id;
      form.reset();
      node("find").open = false;
    }).catch(function (failure) {
      error.textContent = GP.t("common.error", {message: failure.message});
      error.hidden = false;
    }).finally(function () { button.disabled = false; });
  });

  GP.loadCategories().then(function (categories) {
    var select = form.querySelector("select[name=category]");
    categories.forEach(function (category) {
      select.appendChild(GP.el("option", {value: category.code, text: GP.categoryName(category.code)}));
    });
    return GP.api("GET", "/api/patrol/me");
  }).then(function (mine) {
    load(mine);
    panel.dataset.ready = "1";
  }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
})();
