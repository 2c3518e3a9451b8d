/* Dispatcher console, imports tab: upload a work-order file, follow its background job, download the report. */
(function () {
  "use strict";
  var GP = window.GP, el = GP.el;
  var form = document.getElementById("import-form");
  var list = document.getElementById("import-jobs");
  var runningBadge = document.getElementById("imports-running");
  var POLL_MS = 1000;
  var timer = null;
  var asked = 0;  // number of the newest list request: an older answer arriving late is dropped

  function active(job) { return job.status === "queued" || job.status === "running"; }

  function jobItem(job) {
    var outcomes = (job.summary && job.summary.outcomes) || {};
    var counts = {};
    ["created", "merged", "duplicate", "unlocated", "refused"].forEach(function (k) { counts[k] = outcomes[k] || 0; });
    return el("li", {className: "import-job status-" + job.status, "data-job-id": job.id}, [
      el("strong", {text: "#" + job.id + " " + job.filename}), " ",
      el("span", {className: "status", text: GP.t("import.status." + job.status)}), " ",
      el("span", {className: "muted small", text: job.profile + " · " + GP.time(job.created_at)}),
      el("progress", {max: String(job.total || 1), value: String(job.total ? job.done : 1)}),
      el("div", {className: "small", text: GP.t("import.progress", {done: job.done, total: job.total})}),
      job.missing_fields.length ? el("div", {className: "small muted",
        text: GP.t("import.missing", {fields: job.missing_fields.join(", ")})}) : null,
      job.summary ? el("div", {className: "small", text: GP.t("import.outcomes", counts)}) : null,
      job.error ? el("div", {className: "small alert", text: job.error}) : null,
      job.status === "done" ? el("a", {className: "small", href: "/api/hotline/imports/" + job.id + "/report.csv",
                                       text: GP.t("import.report")}) : null
    ]);
  }

  function show(jobs) {
    list.textContent = "";
    if (!jobs.length) list.appendChild(el("li", {className: "muted", text: GP.t("import.none")}));
    jobs.forEach(function (job) { list.appendChild(jobItem(job)); });
    var running = jobs.filter(active).length;
    runningBadge.textContent = running || "";
    clearTimeout(timer);
    if (running) timer = setTimeout(load, POLL_MS);  // poll only while a job runs
  }

  function load() {
    var number = ++asked;
    return GP.api("GET", "/api/hotline/imports?limit=10").then(function (jobs) {
      if (number === asked) show(jobs);
    }).catch(function (failure) {
      GP.toast(GP.t("common.error", {message: failure.message}), "alert");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    GP.api("POST", "/api/hotline/imports", new FormData(form)).then(function (job) {
      GP.toast(GP.t("import.started", {id: job.id, total: job.total}));
      form.reset();
      return load();
    }).catch(function (failure) {
      GP.toast(GP.t("common.error", {message: failure.message}), "alert");
    });
  });

  document.querySelector('.tab[data-tab="imports"]').addEventListener("click", load);
  load();
})();
