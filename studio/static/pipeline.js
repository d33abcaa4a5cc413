// The pipeline page: asks before a rollback, follows the running job (its JSON, every second) and reloads
// the page when the job ends, so that its results (figures, verdict, deploy button) are rendered by the server.
(function () {
  "use strict";

  // Forms with data-confirm (the rollback) ask first; the server gets confirm=oui, or shows its confirmation page.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      const confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirm";
      confirmed.value = "oui";
      form.appendChild(confirmed);
    });
  });

  const panel = document.getElementById("tache");
  if (!panel || panel.dataset.finished === "true") {
    return;
  }
  const url = panel.dataset.statusUrl;
  const status = document.getElementById("job-status");
  const progress = document.getElementById("job-progress");
  const percent = document.getElementById("job-percent");
  const step = document.getElementById("job-step");
  const log = document.getElementById("job-log");
  let failures = 0;

  function show(job) {
    progress.value = job.percent;
    progress.textContent = job.percent + " %";
    percent.textContent = job.percent + " %";
    step.textContent = job.step;
    log.textContent = job.log_tail;
    if (!job.finished) {
      status.textContent = job.status_label;
      status.className = "status status-" + job.status;
    }
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      const job = await response.json();
      failures = 0;
      show(job);
      if (job.finished) {
        window.location.reload();
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= 5) {
        step.textContent = "Le studio ne répond plus : rechargez la page pour voir où en est la tâche.";
      }
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
