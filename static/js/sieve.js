// Sieve's own script: small, no inline handlers. htmx and Bootstrap do the rest.
document.addEventListener("DOMContentLoaded", () => {
  // Confirm destructive actions marked with data-confirm (member removal).
  document.body.addEventListener("submit", (event) => {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
});
