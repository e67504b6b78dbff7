// The risk-of-bias pages' script (loaded by them only). htmx does the saving; this adds what htmx does not.
(() => {
  // htmx leaves 4xx answers unswapped. Ours carry what to show: 409 a refused stale save (what changed, at the
  // top of the page), 422 a judgement that needs a reason or does not fit (the message at the domain).
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A domain's save answers with its questions and judgement as they were when it was sent. If the user changed
  // something in that domain meanwhile (a second answer while the first was saving), that change is already
  // queued to be saved: keep what is on the screen instead of swapping the older state over it.
  const sectionOf = (element) => element instanceof Element ? element.closest(".rob-domain") : null;
  document.addEventListener("change", (event) => {
    const section = sectionOf(event.target);
    if (section) section.dataset.changes = String(Number(section.dataset.changes || 0) + 1);
  }, true);
  document.addEventListener("htmx:beforeRequest", (event) => {
    const section = event.detail.elt;
    if (section instanceof HTMLElement && section.classList.contains("rob-domain")) {
      section.dataset.sent = section.dataset.changes || "0";
    }
  });
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    if (!(target instanceof HTMLElement) || !target.hasAttribute("data-rob-inputs")) return;
    const section = sectionOf(target);
    if (section && (section.dataset.changes || "0") !== (section.dataset.sent || "0")) {
      event.detail.shouldSwap = false;
    }
  });

  // Keys 1-5 answer the focused question Y, PY, PN, N, NI (6: NA); Enter on an answer does nothing (it would
  // submit the form).
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "radio") return;
    if (event.key === "Enter") {
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[1-6]$/.test(event.key)) return;
    const group = input.closest(".rob-answers");
    if (!group) return;
    const answer = group.querySelector(`input[data-answer-key="${event.key}"]`);
    event.preventDefault();
    if (answer && !answer.checked) {
      answer.focus();
      answer.click();
    }
  });
})();
