// The knowledge base pages: a busy label on long submits, and a warning before leaving an unsaved article.
"use strict";

document.querySelectorAll("form[data-busy-label]").forEach((form) => {
  form.addEventListener("submit", () => {
    form.dataset.submitting = "1";
    const button = form.querySelector('button[type="submit"]');
    if (button) {
      // Disabled after the form data is gathered: the browser still sends it; a double click sends nothing more.
      setTimeout(() => {
        button.disabled = true;
        button.textContent = form.dataset.busyLabel;
      }, 0);
    }
  });
});

document.querySelectorAll("form[data-warn-unsaved]").forEach((form) => {
  let dirty = false;
  form.addEventListener("input", () => { dirty = true; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !form.dataset.submitting) {
      event.preventDefault();
      event.returnValue = form.dataset.warnUnsaved;
    }
  });
});
