/* The squad map's officers on patrol (leaders and the centre only): a marker per officer, moved live, with how long
   ago the phone last reported; and a chosen officer's track of a chosen day with their check-ins. */
(function () {
  "use strict";
  var GP = window.GP, boot = GP.boot;
  var STALE_S = 120;  // a marker greys out when its phone has been silent this long

  function age(iso) {
    var seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (seconds < 60) return GP.t("map.age_s", {n: seconds});
    if (seconds < 3600) return GP.t("map.age_m", {n: Math.floor(seconds / 60)});
    return GP.t("map.age_h", {n: Math.floor(seconds / 3600)});
  }

  function today() {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {timeZone: boot.timezone, year: "numeric", month: "2-digit", day: "2-digit"})
      .formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  GP.officersLayer = function (map, squad, socket) {
    var officers = {};  // username → {name, squad_code, position, marker}
    var layer = L.layerGroup().addTo(map);
    var query = squad ? "?squad=" + encodeURIComponent(squad) : "";

    function icon(officer) {
      var stale = !officer.position || (Date.now() - new Date(officer.position.at).getTime()) / 1000 > STALE_S;
      var pin = GP.el("span", {className: "officer-pin" + (stale ? " stale" : ""), "data-username": officer.username});
      return L.divIcon({className: "officer-icon", html: pin, iconSize: [18, 18], iconAnchor: [9, 9], tooltipAnchor: [12, 0]});
    }
    function label(officer) {
      return officer.position ? GP.t("map.seen", {name: officer.name, age: age(officer.position.at)})
                              : GP.t("map.no_fix", {name: officer.name});
    }
    function draw(officer) {
      if (!officer.position) return;
      var at = GP.toMap(officer.position.lon, officer.position.lat);
      if (!officer.marker) {
        officer.marker = L.marker(at, {icon: icon(officer), zIndexOffset: 1000}).addTo(layer);
        officer.marker.bindTooltip(label(officer), {permanent: true, direction: "right", className: "officer-label"});
      } else {
        officer.marker.setLatLng(at).setIcon(icon(officer));
        officer.marker.setTooltipContent(label(officer));
      }
      officer.marker.getElement().setAttribute("data-lon", officer.position.lon);
    }
    function remove(username) {
      var officer = officers[username];
      if (officer && officer.marker) officer.marker.remove();
      delete officers[username];
    }
    function visible(message) { return !squad || message.squad_code === squad; }

    function take(message) {
      if (!visible(message)) return;
      var officer = officers[message.username] || (officers[message.username] = {
        username: message.username, name: message.name || message.username, squad_code: message.squad_code});
      if (message.kind === "position") {
        officer.name = message.name;
        officer.position = message;
        draw(officer);
      } else if (message.kind === "ended") {
        GP.toast(GP.t("map.patrol_ended", {name: officer.name}), "info");
        remove(message.username);
      } else if (message.kind === "started") {
        GP.toast(GP.t("map.patrol_started", {name: officer.name}), "info");
      } else if (message.kind === "check_in") {
        GP.toast(GP.t("map.checked_in", {name: officer.name, cell: message.cell_code}), "info");
      }
    }
    // The server sends each room's positions and patrol changes as one list every patrol.push_batch_s, in order.
    socket.on("officer_positions", function (messages) { messages.forEach(take); });
    setInterval(function () { Object.keys(officers).forEach(function (name) { draw(officers[name]); }); }, 5000);

    var track = L.layerGroup().addTo(map);
    var form = document.getElementById("track-form");
    var info = document.getElementById("track-info");
    form.elements.date.value = today();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var who = form.elements.officer.value;
      if (!who) return;
      GP.api("GET", "/api/patrol/tracks/" + encodeURIComponent(who) + "?date=" + form.elements.date.value)
        .then(function (found) {
          track.clearLayers();
          var points = 0, bounds = [];
          found.patrols.forEach(function (line) {
            var latlngs = line.coordinates.map(function (c) { return GP.toMap(c[0], c[1]); });
            points += latlngs.length;
            bounds = bounds.concat(latlngs);
            L.polyline(latlngs, {color: "#1565c0", weight: 4, opacity: .8, className: "patrol-track"}).addTo(track);
          });
          found.check_ins.forEach(function (entry) {
            var dot = GP.el("span", {className: "check-in-dot" + (entry.in_beat ? "" : " outside")});
            L.marker(GP.toMap(entry.lon, entry.lat), {icon: L.divIcon({className: "officer-icon", html: dot,
              iconSize: [12, 12], iconAnchor: [6, 6]})}).bindTooltip(entry.cell_code + " · " + GP.time(entry.at) + " · " +
              GP.t(entry.in_beat ? "patrol.in_beat" : "patrol.outside_beat")).addTo(track);
            bounds.push(GP.toMap(entry.lon, entry.lat));
          });
          // Without animation: the replay is drawn in place when the info below says it is there.
          if (bounds.length) map.fitBounds(L.latLngBounds(bounds), {padding: [40, 40], maxZoom: 17, animate: false});
          info.textContent = points ? GP.t("map.track_points", {n: points, checkins: found.check_ins.length})
                                    : GP.t("map.track_none");
          info.dataset.points = String(points);
        }).catch(function (failure) { GP.toast(GP.t("common.error", {message: failure.message}), "alert"); });
    });

    return Promise.all([GP.api("GET", "/api/patrol/officers" + query), GP.api("GET", "/api/patrol/members" + query)])
      .then(function (loaded) {
        loaded[0].forEach(function (officer) {
          var live = officers[officer.username];  // a push may have come in while this loaded: it is newer
          if (live && live.position) return;
          officers[officer.username] = officer;
          draw(officer);
        });
        loaded[1].forEach(function (member) {
          form.elements.officer.appendChild(GP.el("option", {value: member.username,
            text: member.name + (squad ? "" : " · " + GP.squadShort(member.squad_code))}));
        });
      });
  };
})();
