/* GridPatrol pages: shared helpers (words, API calls, live push with catch-up, maps, toasts). */
(function () {
  "use strict";
  var bootTag = document.getElementById("gp-boot");
  var boot = bootTag ? JSON.parse(bootTag.textContent) : {messages: {}, lang: "zh-CN"};
  var GP = {boot: boot, categories: [], categoryIndex: {}};

  GP.t = function (key, values) {
    var text = boot.messages[key] || key;
    if (values) {
      Object.keys(values).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    }
    return text;
  };

  GP.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };

  GP.api = function (method, url, body) {
    var init = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    // Flask-WTF's CSRF check: every write carries the session's token (from the page's boot JSON).
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = boot.csrf_token || "";
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).catch(function () {
      var offline = new Error(GP.t("error.network"));
      offline.status = 0;
      throw offline;
    }).then(function (response) {
      if (response.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          if (window.console) console.warn(method, url, response.status, data.message, data.errors || "");
          var error = new Error(GP.errorText(response.status, data));
          error.status = response.status;
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  };

  /* An API refusal in the user's language: its key when the server names one, else the field or the status. */
  GP.errorText = function (status, data) {
    var params = {};
    Object.keys(data.params || {}).forEach(function (name) { params[name] = data.params[name]; });
    if (data.key === "transition_refused") {
      params.action = GP.t("action." + params.action);
      params.state = GP.t("status." + params.state);
    }
    if (data.key && boot.messages["error." + data.key]) return GP.t("error." + data.key, params);
    var located = data.errors || {};
    var where = Object.keys(located).map(function (place) { return Object.keys(located[place] || {})[0]; })
      .filter(function (field) { return field; })[0];
    if (status === 422 && where) {
      var label = boot.messages["field." + where] ? GP.t("field." + where) : where;
      return GP.t("error.field", {field: label});
    }
    var statusKey = "error.http_" + status;
    if (boot.messages[statusKey]) return GP.t(statusKey);
    return GP.t("error.http_other", {status: status});
  };

  // Category colours: distinct, readable on a plain or tiled map, assigned by the table's order.
  var PALETTE = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f"];
  GP.loadCategories = function () {
    return GP.api("GET", "/api/categories").then(function (list) {
      GP.categories = list;
      list.forEach(function (category, index) {
        category.color = PALETTE[index % PALETTE.length];
        GP.categoryIndex[category.code] = category;
      });
      return list;
    });
  };
  GP.categoryName = function (code) {
    var category = GP.categoryIndex[code];
    if (!category) return code;
    return boot.lang === "en" ? category.name_en : category.name_zh;
  };
  GP.categoryColor = function (code) {
    var category = GP.categoryIndex[code];
    return category ? category.color : "#555";
  };
  // Squad names share the district's name ("浉河区第一执法中队", ...): tables show the part that differs.
  var squadPrefix = (function (names) {
    if (names.length < 2) return "";
    var prefix = names[0];
    names.forEach(function (name) { while (name.indexOf(prefix) !== 0) prefix = prefix.slice(0, -1); });
    // Cut only after a place word, so "浉河区第一…" and "浉河区第二…" keep "第一…", "第二…".
    var cut = Math.max(prefix.lastIndexOf("市"), prefix.lastIndexOf("区"), prefix.lastIndexOf("县"));
    return cut >= 0 ? prefix.slice(0, cut + 1) : "";
  })((boot.squads || []).map(function (squad) { return squad.name; }));
  GP.squadShort = function (code) {
    var name = GP.squadName(code);
    return squadPrefix && name.indexOf(squadPrefix) === 0 && name.length > squadPrefix.length ? name.slice(squadPrefix.length) : name;
  };
  GP.squadName = function (code) {
    var squads = boot.squads || [];
    for (var i = 0; i < squads.length; i++) if (squads[i].code === code) return squads[i].name;
    return code || "";
  };

  var timeFormat = new Intl.DateTimeFormat(boot.lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: boot.timezone || "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hour12: false});
  /* "MM-DD HH:mm" in the bureau's time zone, whatever the language: short and read the same everywhere. */
  GP.time = function (iso) {
    if (!iso) return GP.t("common.none");
    var parts = {};
    timeFormat.formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.month + "-" + parts.day + " " + (parts.hour === "24" ? "00" : parts.hour) + ":" + parts.minute;
  };
  GP.percent = function (ratio) { return ratio === null || ratio === undefined ? GP.t("common.none") : (ratio * 100).toFixed(1) + "%"; };

  GP.OPEN = ["reported", "registered", "dispatched", "accepted", "handled", "verified"];
  // The case loop (dispatch/case/transitions.py) and who may move it (dispatch/account/policy.py).
  GP.NEXT = {reported: ["register", "reject"], registered: ["dispatch"], dispatched: ["accept"],
             accepted: ["handle"], handled: ["verify", "return"], verified: ["close"], closed: ["reopen"]};
  GP.RESULTS = ["persuaded", "warned", "simple_penalty", "general_procedure", "not_found", "offsite_notice"];
  GP.mayAct = function (action, squadCode) {
    var me = boot.me;
    if (action === "accept" || action === "handle") {
      return me.role === "admin" || ((me.role === "squad_leader" || me.role === "officer") && me.squad_code === squadCode);
    }
    return me.role === "admin" || me.role === "dispatcher";
  };
  GP.actionsFor = function (kase) {
    if (kase.review_status === "pending") return [];  // a camera's or drone's case moves by review first (console)
    return (GP.NEXT[kase.status] || []).filter(function (action) {
      // Reopening needs the caller's "dissatisfied" rating since the case closed (a list row has no rating: no button).
      if (action === "reopen" && !(kase.rating && kase.rating.rating === "dissatisfied")) return false;
      return GP.mayAct(action, kase.squad_code);
    });
  };

  /* The follow-up call (回访) of a closed case: its rating, or a form for dispatchers to record it. */
  GP.ratingBlock = function (kase, done) {
    var box = GP.el("div", {className: "rating-block"});
    if (kase.rating) {
      box.appendChild(GP.el("p", {className: "rating rating-" + kase.rating.rating, text: GP.t("console.rated", {
        rating: GP.t("rating." + kase.rating.rating), actor: kase.rating.actor, at: GP.time(kase.rating.at)})}));
      if (kase.rating.note) box.appendChild(GP.el("p", {className: "muted small", text: kase.rating.note}));
    }
    if (kase.status !== "closed" || kase.rating || !GP.mayAct("close", kase.squad_code)) return box;
    var select = GP.el("select", {name: "rating", required: true}, ["satisfied", "basically_satisfied", "dissatisfied"].map(
      function (value) { return GP.el("option", {value: value, text: GP.t("rating." + value)}); }));
    var error = GP.el("p", {className: "error", hidden: true});
    var form = GP.el("form", {className: "rating-form"}, [
      GP.el("label", {}, [GP.t("console.rating"), select]),
      GP.el("label", {}, [GP.t("console.rating_note"), GP.el("input", {name: "note"})]), error,
      GP.el("div", {className: "buttons"}, [GP.el("button", {type: "submit", className: "primary", text: GP.t("console.rate")})])]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form), body = {rating: data.get("rating")};
      if (data.get("note")) body.note = data.get("note");
      GP.api("POST", "/api/hotline/cases/" + kase.id + "/rating", body).then(function () { if (done) done(); })
        .catch(function (failure) { error.textContent = GP.t("common.error", {message: failure.message}); error.hidden = false; });
    });
    box.appendChild(form);
    return box;
  };

  /* A form for one transition: reason (reject/return), result (handle), squad (dispatch), note. */
  GP.actionForm = function (kase, action, done) {
    var form = GP.el("form", {className: "action-form"});
    if (action === "reject" || action === "return" || action === "reopen") {
      form.appendChild(GP.el("label", {}, [GP.t("field.reason"), GP.el("input", {name: "reason", required: true})]));
    }
    if (action === "handle") {
      var select = GP.el("select", {name: "result", required: true});
      GP.RESULTS.forEach(function (result) {
        // an off-site notice (非现场执法) only where the case detail says the case qualifies
        if (result === "offsite_notice" && !(kase.offsite && kase.offsite.allowed)) return;
        select.appendChild(GP.el("option", {value: result, text: GP.t("result." + result)}));
      });
      if (kase.leniency) select.value = kase.leniency;  // the first-offence rule's suggestion (首违不罚)
      form.appendChild(GP.el("label", {}, [GP.t("field.result"), select]));
      if (kase.leniency) form.appendChild(GP.el("p", {className: "small leniency-hint", text:
        GP.t(kase.leniency === "warned" ? "plate.leniency_first" : "plate.leniency_later")}));
      form.appendChild(GP.el("label", {}, [GP.t("field.photo"),
        GP.el("input", {name: "photo", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment"})]));
    }
    if (action === "dispatch") {
      var squads = GP.el("select", {name: "squad"}, [GP.el("option", {value: "",
        text: GP.t("console.default_squad") + " (" + GP.squadName(kase.squad_code) + ")"})]);
      (boot.squads || []).forEach(function (squad) { squads.appendChild(GP.el("option", {value: squad.code, text: squad.name})); });
      form.appendChild(GP.el("label", {}, [GP.t("console.dispatch_to"), squads]));
      form.appendChild(GP.officerChoice(kase, squads));
    }
    form.appendChild(GP.el("label", {}, [GP.t("field.note"), GP.el("input", {name: "note"})]));
    var error = GP.el("p", {className: "error", hidden: true});
    form.appendChild(error);
    form.appendChild(GP.el("div", {className: "buttons"}, [
      GP.el("button", {type: "submit", className: "primary", text: GP.t("action." + action)}),
      GP.el("button", {type: "button", className: "secondary", text: GP.t("common.cancel"),
                       onclick: function () { form.remove(); }})]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var body = {action: action};
      ["reason", "result", "squad", "officer", "note"].forEach(function (name) { if (data.get(name)) body[name] = data.get(name); });
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      var photo = data.get("photo");
      var upload = Promise.resolve();
      if (photo && photo.size) {
        error.textContent = GP.t("tasks.uploading");
        error.hidden = false;
        upload = GP.photoForm(photo, GP.t("result." + body.result)).then(function (photoForm) {
          return GP.api("POST", "/api/cases/" + kase.id + "/evidence", photoForm);
        });
      }
      upload.then(function () { return GP.api("POST", "/api/cases/" + kase.id + "/transitions", body); })
        .then(function (updated) { form.remove(); if (done) done(updated); })
        .catch(function (failure) {
          error.textContent = GP.t("common.error", {message: failure.message});
          error.hidden = false;
          form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
        });
    });
    return form;
  };

  /* Dispatch to a named officer: the squad's officers on patrol, nearest first by their last position, and who holds
     the cell's beat (GET /api/patrol/suggestions). Another squad chosen: the case goes to that squad as a whole. */
  GP.officerChoice = function (kase, squads) {
    var select = GP.el("select", {name: "officer"}, [GP.el("option", {value: "", text: GP.t("console.whole_squad")})]);
    var hint = GP.el("div", {className: "muted small suggestions"}, [GP.t("common.loading")]);
    GP.api("GET", "/api/patrol/suggestions/" + kase.id).then(function (found) {
      hint.textContent = found.officers.length ? GP.t("console.suggest") : GP.t("console.suggest_none");
      var holders = {};
      found.beat_holders.forEach(function (h) { holders[h.username] = h; });
      found.officers.forEach(function (o) {
        var words = o.name + (o.distance_m === null ? "" : " · " + GP.t("console.metres", {m: Math.round(o.distance_m)})) +
          (holders[o.username] ? " · " + GP.t("console.beat_holder") : "");
        select.appendChild(GP.el("option", {value: o.username, text: words}));
      });
      found.beat_holders.forEach(function (h) {
        if (found.officers.some(function (o) { return o.username === h.username; })) return;
        select.appendChild(GP.el("option", {value: h.username, text: h.name + " · " + GP.t("console.beat_holder") + " · " +
          GP.t(h.on_duty ? "console.on_duty" : "console.off_duty")}));
      });
    }).catch(function () { hint.textContent = ""; });
    squads.addEventListener("change", function () {
      var other = squads.value && squads.value !== kase.squad_code;
      select.disabled = other;
      if (other) select.value = "";
    });
    return GP.el("label", {}, [GP.t("console.to_officer"), select, hint]);
  };

  /* The upload form for a phone photo: shrunk to the settings' long edge as JPEG, its EXIF time and position read
     first (shrinking drops them) and sent beside it. A photo already small, or one the browser cannot draw, goes as is. */
  GP.photoForm = function (file, caption) {
    var settings = boot.photo || {long_edge_px: 2560, quality: 0.85};
    var form = new FormData();
    if (caption) form.append("caption", caption);
    form.append("original_bytes", String(file.size));
    var exif = window.exifr ? window.exifr.parse(file, {ifd0: false, exif: ["DateTimeOriginal", "OffsetTimeOriginal"],
                                                       gps: true}).catch(function () { return null; })
                            : Promise.resolve(null);
    var bitmap = window.createImageBitmap ? createImageBitmap(file).catch(function () { return null; }) : Promise.resolve(null);
    return Promise.all([exif, bitmap]).then(function (read) {
      var tags = read[0] || {}, image = read[1];
      if (tags.DateTimeOriginal instanceof Date) form.append("taken_at", GP.exifTime(tags.DateTimeOriginal, tags.OffsetTimeOriginal));
      if (typeof tags.latitude === "number" && typeof tags.longitude === "number") {
        form.append("lat", tags.latitude.toFixed(7));
        form.append("lon", tags.longitude.toFixed(7));
      }
      if (!image) { form.append("photo", file); return form; }
      form.append("original_size", image.width + "x" + image.height);
      var scale = Math.min(1, settings.long_edge_px / Math.max(image.width, image.height));
      if (scale === 1 && file.type === "image/jpeg") { form.append("photo", file); return form; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          form.append("photo", blob || file, (file.name || "photo").replace(/\.\w+$/, "") + ".jpg");
          resolve(form);
        }, "image/jpeg", settings.quality);
      });
    });
  };

  /* EXIF times are local wall-clock times; with its offset tag it is an instant, else read it in the bureau's zone. */
  GP.exifTime = function (date, offset) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    // exifr builds the Date in the browser's zone from the wall-clock fields: read those fields back.
    var wall = date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) + "T" +
      two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
    return wall + (/^[+-]\d\d:\d\d$/.test(offset || "") ? offset : (boot.timezone_offset || "+08:00"));
  };

  /* What the complaint says and shows: each report's text (contacts masked as the viewer's role requires, by the
     server) and the citizens', cameras' and officers' photos, filled in when the case detail arrives. */
  GP.complaint = function (caseId) {
    var box = GP.el("div", {className: "complaint", "data-complaint": caseId},
                    [GP.el("p", {className: "muted small", text: GP.t("common.loading")})]);
    GP.api("GET", "/api/cases/" + caseId).then(function (detail) {
      box.innerHTML = "";
      detail.tickets.forEach(function (ticket) {
        box.appendChild(GP.el("p", {className: "complaint-text"}, [
          GP.el("span", {className: "source-tag", text: GP.t("source." + ticket.source)}), " ", ticket.text]));
      });
      var photos = GP.el("div", {className: "thumbs"});
      detail.evidence.forEach(function (item) {
        if (item.uri.indexOf("evidence/") !== 0) return;
        var src = "/api/evidence/" + item.id;
        photos.appendChild(GP.el("a", {href: src, target: "_blank"}, [
          GP.el("img", {src: src, alt: item.caption || "", title: (item.caption || "") + " " + GP.time(item.taken_at),
                        loading: "lazy"})]));
      });
      if (photos.children.length) box.appendChild(photos);
    }).catch(function (failure) {
      box.innerHTML = "";
      box.appendChild(GP.el("p", {className: "muted small", text: failure.message}));
    });
    return box;
  };

  /* A sign-off step's name: "close" or "handle:simple_penalty" (the action, then the result). */
  GP.signoffStep = function (step) {
    var parts = step.split(":");
    return GP.t("action." + parts[0]) + (parts[1] ? " · " + GP.t("result." + parts[1]) : "");
  };

  GP.actionButtons = function (kase, container, done) {
    container.innerHTML = "";
    var actions = GP.actionsFor(kase);
    actions.forEach(function (action) {
      container.appendChild(GP.el("button", {className: "action action-" + action, "data-action": action,
        text: GP.t("action." + action), onclick: function () {
          var open = container.querySelector(".action-form");
          if (open) open.remove();
          container.appendChild(GP.actionForm(kase, action, done));
        }}));
    });
    return actions.length;
  };

  /* Live push: every (re)connect asks for what happened since the link dropped. Event ids are given
     before commit, so events may arrive slightly out of order: remember the ids seen, not just the
     largest, and catch up from a little before the largest id seen when the link dropped. */
  GP.live = function (onEvent) {
    var RESUME_MARGIN = 100, REMEMBERED = 10000;
    var floor = boot.last_event_id || 0;  // the page was rendered with everything up to here
    var newest = floor, resumeFrom = floor;
    var seen = new Set(), seenOrder = [];
    var indicator = document.getElementById("live-state");
    function deliver(event) {
      if (event.id <= floor || seen.has(event.id)) return;  // catch-up and push may overlap
      seen.add(event.id);
      seenOrder.push(event.id);
      if (seenOrder.length > REMEMBERED) seen.delete(seenOrder.shift());
      newest = Math.max(newest, event.id);
      onEvent(event);
    }
    function setState(up) {
      if (!indicator) return;
      indicator.className = "live-state " + (up ? "on" : "off");
      indicator.title = GP.t(up ? "live.connected" : "live.disconnected");
    }
    // WebSocket first: no polling-to-WebSocket upgrade in which early events wait; long-polling if a proxy
    // on the intranet refuses WebSockets.
    var socket = io({withCredentials: true, transports: ["websocket", "polling"], tryAllTransports: true});
    function catchUp(afterId) {
      socket.emit("catch_up", {after_id: afterId}, function (answer) {
        if (!answer || answer.error) return;
        answer.events.forEach(deliver);
        if (!answer.complete && answer.events.length) catchUp(answer.events[answer.events.length - 1].id);
      });
    }
    socket.on("connect", function () { setState(true); catchUp(Math.max(floor, resumeFrom - RESUME_MARGIN)); });
    socket.on("disconnect", function () { setState(false); resumeFrom = newest; });
    socket.on("case_event", deliver);
    GP.socket = socket;
    return socket;
  };

  GP.toast = function (text, kind) {
    var box = document.getElementById("toasts");
    if (!box) return null;
    var toast = GP.el("div", {className: "toast " + (kind || ""), role: "status", text: text});
    box.appendChild(toast);
    setTimeout(function () { toast.classList.add("leaving"); }, 6000);
    setTimeout(function () { toast.remove(); }, 6600);
    return toast;
  };

  var audio = null;
  /* A short two-tone beep made with WebAudio: no sound file to ship. Browsers may hold audio until a first click. */
  GP.beep = function () {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      [880, 1320].forEach(function (frequency, index) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        var start = audio.currentTime + index * 0.15;
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.2, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.14);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start);
        oscillator.stop(start + 0.15);
      });
    } catch (ignored) { /* no audio device: the toast still shows */ }
  };
  document.addEventListener("click", function () { if (audio && audio.state === "suspended") audio.resume(); });

  /* WGS-84 ↔ GCJ-02 (the standard public formula, as grid/crs.py). Only used when the tiles are GCJ-02. */
  var A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function delta(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common +
      (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0 +
      (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common +
      (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0 +
      (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI, magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    dlat = dlat * 180.0 / ((A * (1 - EE)) / (magic * Math.sqrt(magic)) * PI);
    dlon = dlon * 180.0 / (A / Math.sqrt(magic) * Math.cos(radLat) * PI);
    return outOfChina(lon, lat) ? [0, 0] : [dlon, dlat];
  }
  GP.wgsToGcj = function (lon, lat) { var d = delta(lon, lat); return [lon + d[0], lat + d[1]]; };
  GP.gcjToWgs = function (lon, lat) {
    var wlon = lon, wlat = lat;
    for (var i = 0; i < 30; i++) {  // fixed-point inverse, far below a centimetre
      var g = GP.wgsToGcj(wlon, wlat), elon = g[0] - lon, elat = g[1] - lat;
      wlon -= elon; wlat -= elat;
      if (Math.abs(elon) < 1e-10 && Math.abs(elat) < 1e-10) break;
    }
    return [wlon, wlat];
  };
  var gcjTiles = boot.map && boot.map.tile_url && boot.map.tile_crs === "gcj02";
  /* WGS-84 data → the map's drawing coordinates, and a click back to WGS-84. */
  GP.toMap = function (lon, lat) {
    var p = gcjTiles ? GP.wgsToGcj(lon, lat) : [lon, lat];
    return L.latLng(p[1], p[0]);
  };
  GP.fromMap = function (latlng) {
    var p = gcjTiles ? GP.gcjToWgs(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
    return {lon: p[0], lat: p[1], crs: "wgs84"};
  };

  GP.makeMap = function (element, options) {
    var map = L.map(element, Object.assign({maxZoom: (boot.map && boot.map.max_zoom) || 19, zoomSnap: 0.25}, options || {}));
    if (boot.map && boot.map.tile_url) {
      L.tileLayer(boot.map.tile_url, {maxZoom: boot.map.max_zoom, attribution: boot.map.attribution || ""}).addTo(map);
    } else if (boot.map && boot.map.basemap && GP.basemapLayer) {
      GP.basemapLayer(map, boot.map.basemap);  // the offline vector base map (basemap.js)
    } else {
      map.getContainer().classList.add("no-base-map");
    }
    return map;
  };
  GP.loadGrid = function (squad) {
    return GP.api("GET", "/api/grid" + (squad ? "?squad=" + encodeURIComponent(squad) : ""));
  };
  GP.gridLayer = function (collection, style) {
    return L.geoJSON(collection, {
      style: style,
      coordsToLatLng: function (coords) { return GP.toMap(coords[0], coords[1]); }
    });
  };

  /* A pin: the category's colour, the state's letter (报 立 派 …) and a red ring when overdue. Built as a node with
     its colour set through the CSSOM, so a strict CSP (no inline style attributes) lets it through. */
  GP.caseIcon = function (kase) {
    var pin = GP.el("span", {className: "case-pin status-" + kase.status + (kase.overdue ? " overdue" : ""),
                             "data-case-id": Number(kase.id), "data-status": kase.status,
                             text: boot.messages["pin." + kase.status] || ""});
    pin.style.background = GP.categoryColor(kase.category);
    return L.divIcon({className: "case-icon", html: pin, iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]});
  };

  GP.legend = function (map) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var box = GP.el("div", {className: "legend"}, [GP.el("strong", {text: GP.t("map.legend")})]);
      GP.categories.forEach(function (category) {
        box.appendChild(GP.el("div", {className: "legend-row"}, [
          GP.el("span", {className: "swatch", style: "background:" + category.color}), GP.categoryName(category.code)]));
      });
      box.appendChild(GP.el("strong", {text: GP.t("map.states")}));
      GP.OPEN.forEach(function (status) {
        box.appendChild(GP.el("div", {className: "legend-row"}, [
          GP.el("span", {className: "swatch state status-" + status, text: GP.t("pin." + status)}), GP.t("status." + status)]));
      });
      box.appendChild(GP.el("div", {className: "legend-row"}, [
        GP.el("span", {className: "swatch overdue-ring"}), GP.t("console.overdue")]));
      return box;
    };
    control.addTo(map);
    return control;
  };

  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      GP.api("POST", "/api/auth/logout").finally(function () { window.location.href = "/login"; });
    });
  }
  window.GP = GP;
})();
