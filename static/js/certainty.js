// Certainty page: "Use the proposal" sets that domain's judgement (never applied by itself), and the level shown
// at the top follows the form as it is edited (the saved level is computed by the server).
(() => {
  const form = document.getElementById("certainty-form");
  if (!form) return;
  const LEVELS = [
    ["⊕◯◯◯", "Very low"], ["⊕⊕◯◯", "Low"], ["⊕⊕⊕◯", "Moderate"], ["⊕⊕⊕⊕", "High"],
  ];
  const symbols = document.getElementById("level-symbols");
  const label = document.getElementById("level-label");
  function refresh() {
    const start = form.querySelector('input[name="start"]:checked');
    let score = start && start.value === "low" ? 2 : 4;
    form.querySelectorAll("#domains select").forEach((select) => { score += parseInt(select.value, 10) || 0; });
    const [s, l] = LEVELS[Math.min(4, Math.max(1, score)) - 1];
    symbols.textContent = s;
    label.textContent = l;
  }
  form.addEventListener("change", refresh);
  refresh(); // a refused save shows the form as typed: the level follows it
  const errors = document.getElementById("form-errors") || form.querySelector(".alert-danger");
  if (errors) {
    errors.setAttribute("tabindex", "-1");
    errors.focus();
  }
  // The reasons that state the data make the footnote; the lines naming the rule and its source stay on the page.
  const RULE = /^(Heuristic|Rules?:|Thresholds:)/;
  form.addEventListener("click", (event) => {
    const button = event.target.closest(".x-use");
    if (!button) return;
    const select = form.querySelector(`select[name="${button.dataset.domain}"]`);
    select.value = button.dataset.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const explanation = form.querySelector(`textarea[name="explanation_${button.dataset.domain}"]`);
    if (explanation && !explanation.value.trim() && button.dataset.value !== "0") {
      const reasons = form.querySelector(`.x-reasons[data-domain="${button.dataset.domain}"]`);
      explanation.value = reasons
        ? Array.from(reasons.children).map((li) => li.textContent.trim()).filter((t) => !RULE.test(t)).join(" ")
        : "";
    }
    select.focus();
  });
})();
