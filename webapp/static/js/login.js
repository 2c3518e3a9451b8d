/* Sign in through the API, then go where the person was heading (or to their role's home). */
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var error = document.getElementById("login-error");
  var boot = JSON.parse(document.getElementById("gp-boot").textContent);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true;
    var data = new FormData(form);
    fetch("/api/auth/login", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": boot.csrf_token || ""},
      body: JSON.stringify({username: data.get("username"), password: data.get("password")})
    }).then(function (response) {
      if (response.status === 429) {
        var minutes = Math.max(1, Math.ceil(Number(response.headers.get("Retry-After") || 60) / 60));
        error.textContent = (boot.messages["login.throttled"] || "").replace("{minutes}", String(minutes));
        error.hidden = false;
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      window.location.href = form.dataset.next || "/";
    }).catch(function () { error.textContent = boot.messages["login.failed"]; error.hidden = false; });
  });
})();
