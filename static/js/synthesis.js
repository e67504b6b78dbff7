// The analysis page's script (loaded by it only): the settings form offers what fits. The server checks the
// same rules (synthesis/services.py), so without this script a wrong pick comes back with a message at the field.
(() => {
  const field = (form, name) => form.querySelector(`[name="settings-${name}"]`);

  const sync = (form) => {
    const checkedModel = form.querySelector('[name="settings-model"]:checked');
    const model = checkedModel ? checkedModel.value : "random";
    const measureInput = field(form, "effect_measure");
    const measure = measureInput ? measureInput.value : "";
    const method = field(form, "method");
    if (method) {
      // A method fits the model, and (fixed effect) the measure: M-H for ratios and RD, Peto for OR only.
      for (const option of method.options) {
        const fits = option.dataset.model === model &&
          (model !== "fixed" || (option.dataset.measures || "").split(" ").includes(measure));
        option.hidden = !fits;
        option.disabled = !fits;
      }
      for (const group of method.querySelectorAll("optgroup")) {
        group.hidden = Array.from(group.children).every((option) => option.hidden);
      }
      if (method.selectedOptions.length === 0 || method.selectedOptions[0].disabled) {
        const first = Array.from(method.options).find((option) => !option.disabled);
        if (first) method.value = first.value;
      }
    }
    const hksj = field(form, "hksj");
    if (hksj) {
      hksj.disabled = model !== "random";
      if (hksj.disabled) hksj.checked = false;
    }
    const pooled = field(form, "pooled");
    const reason = form.querySelector("#not-pooled");
    if (pooled && reason) reason.hidden = pooled.checked;
  };

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("analysis-settings");
    if (!form) return;
    sync(form);
    form.addEventListener("change", () => sync(form));
  });
})();
