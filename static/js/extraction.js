// The extraction pages' script (loaded by them only). htmx does the saving; this adds what htmx does not.
(() => {
  // htmx leaves 4xx answers unswapped. Ours carry what to show: 409 a refused stale save (the message at the top
  // of the page), 422 a value that does not fit (the message at the field).
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A field's status says whether its last save was refused; its inputs (those it describes) follow with
  // aria-invalid, so that assistive technology announces the field as invalid until it is saved.
  const syncInvalid = () => {
    document.querySelectorAll(".x-status[id]").forEach((status) => {
      const invalid = status.dataset.invalid === "true";
      document.querySelectorAll(`[aria-describedby~="${CSS.escape(status.id)}"]`).forEach((input) => {
        if (invalid) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      });
    });
  };
  document.addEventListener("htmx:afterSettle", syncInvalid);

  // A number input the browser cannot read (e.g. "1e") has an empty value: saving it would delete the number.
  // Refuse it here, at the field, instead of sending it.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const wrapper = event.detail.elt;
    if (!(wrapper instanceof HTMLElement) || !wrapper.classList.contains("x-input")) return;
    const bad = wrapper.querySelector("input[type=number]");
    if (bad && bad.validity.badInput) {
      event.preventDefault();
      const status = wrapper.querySelector(".x-status");
      if (status) {
        status.textContent = "Not saved: enter a number (a point for decimals, e.g. 0.5).";
        status.dataset.invalid = "true";
        status.className = "x-status small text-danger";
      }
      bad.setAttribute("aria-invalid", "true");
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    syncInvalid();
    const form = document.getElementById("extraction-form");
    if (!form) return;
    // Enter in a one-line field saves it (as leaving it does) instead of posting the whole form; in the
    // "another row" box it presses "Add row".
    form.addEventListener("keydown", (event) => {
      const input = event.target;
      if (event.key !== "Enter" || event.isComposing || !(input instanceof HTMLInputElement)) return;
      if (["checkbox", "radio", "submit", "button"].includes(input.type)) return;
      event.preventDefault();
      if (input.dataset.enter) {
        document.getElementById(input.dataset.enter)?.click();
        return;
      }
      // Leaving and coming back fires "change" if the value changed, exactly as Tab would.
      input.blur();
      input.focus();
    });
  });
})();
