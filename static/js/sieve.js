// Sieve's own script: small, no inline handlers. htmx and Bootstrap do the rest.
document.addEventListener("DOMContentLoaded", () => {
  // Confirm destructive actions marked with data-confirm (member removal).
  document.body.addEventListener("submit", (event) => {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
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
