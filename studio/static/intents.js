// The intents pages: warnings about duplicates while an example is typed, and a confirmation before a deletion.
(function () {
  "use strict";

  function showCheck(target, result) {
    target.replaceChildren();
    var messages = [];
    if (result.error) {
      messages.push({ message: result.error, blocking: true });
    }
    (result.findings || []).forEach(function (finding) { messages.push(finding); });
    if (!messages.length) {
      return;
    }
    var blocking = messages.some(function (m) { return m.blocking; });
    target.className = "check " + (blocking ? "error-box" : "warning-box");
    var list = document.createElement("ul");
    messages.forEach(function (m) {
      var item = document.createElement("li");
      item.textContent = m.message;
      list.appendChild(item);
    });
    target.appendChild(list);
  }

  function watch(input) {
    var target = document.getElementById(input.dataset.checkTarget);
    if (!target) {
      return;
    }
    var timer = null;
    var last = input.value;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = input.value;
        if (text === last) {
          return;
        }
        last = text;
        var url = new URL(input.dataset.checkUrl, window.location.href);
        url.searchParams.set("texte", text);
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (result) { if (result && input.value === text) { showCheck(target, result); } })
          .catch(function () { /* the server checks again when the form is sent */ });
      }, 400);
    });
  }

  document.querySelectorAll("input[data-check-url]").forEach(watch);

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();
