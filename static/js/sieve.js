// Sieve's own script: small, no inline handlers. htmx and Bootstrap do the rest.
document.addEventListener("DOMContentLoaded", () => {
  // Confirm destructive actions marked with data-confirm (member removal).
  document.body.addEventListener("submit", (event) => {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // A database or broker that is down answers 503 (core.middleware) with an event naming the message; htmx swaps
  // no error answer, so it is shown here, once, in the page's messages, and nothing on the page pretends to have
  // been saved. Any other failed htmx request says so too, instead of failing silently.
  const messages = document.getElementById("messages");
  const say = (text) => {
    if (!messages) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.dataset.sieveError = "1";
    alert.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "Close");
    alert.appendChild(close);
    messages.querySelectorAll("[data-sieve-error]").forEach((old) => old.remove());
    messages.appendChild(alert);
  };
  document.body.addEventListener("sieve:unavailable", (event) => {
    say(event.detail && event.detail.message ? event.detail.message : "Sieve is unavailable for a moment; try again.");
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 503) return; // said by sieve:unavailable
    if (status >= 500) say("The server could not do that (error " + status + "). Reload the page to see what was saved.");
  });
  document.body.addEventListener("htmx:sendError", () => {
    say("The server did not answer: check the connection and try again. Nothing was saved.");
  });

  // Single-key shortcuts: a button with data-key="m" is pressed by the key m (the first such button on the
  // page), unless the user is typing in a field or holds a modifier.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const button = document.querySelector(`[data-key="${CSS.escape(event.key)}"]:not([disabled])`);
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
});
