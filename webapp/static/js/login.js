/* Sign in through the API, then go where the person was heading (or to their role's home). */
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var error = document.getElementById("login-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true;
    var data = new FormData(form);
    fetch("/api/auth/login", {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: data.get("username"), password: data.get("password")})
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      window.location.href = form.dataset.next || "/";
    }).catch(function () { error.hidden = false; });
  });
})();
