// The extraction form builder (templates/extraction/form_builder.html only). Without this script every form posts
// and the page reloads; with it, htmx swaps the piece that changed, the inputs of a field follow its type, and
// sections and fields reorder by drag and drop, by Alt+ArrowUp / Alt+ArrowDown on a focused row, or by the
// arrow buttons, each move posting the whole order.
(() => {
  "use strict";

  const NUMBER_TYPES = ["integer", "decimal"];
  const CHOICE_TYPES = ["single_choice", "multiple_choice"];
  const ITEM = ".builder-field, .builder-section";

  const currentVersion = () => document.getElementById("form-version")?.value ?? "";

  // Each save bumps the draft's version (it comes back out of band); every form posts the latest one, so that
  // only someone else's change since the page was loaded is refused as stale.
  document.addEventListener(
    "submit",
    (event) => {
      const version = currentVersion();
      if (!version || !(event.target instanceof HTMLFormElement)) return;
      event.target.querySelectorAll('input[name="version"]').forEach((input) => {
        input.value = version;
      });
    },
    true,
  );

  // A refused write (409: stale or no longer a draft; 400: a bad order) comes with a message to show.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    // After a delete, the focus goes to the row beside the removed one (or its section).
    const target = event.detail.target;
    const source = event.detail.requestConfig?.elt;
    if (status === 200 && target instanceof HTMLElement && target.matches(ITEM) && source?.closest?.("form[data-delete]")) {
      const next =
        target.nextElementSibling || target.previousElementSibling || target.parentElement.closest(".builder-section");
      window.setTimeout(() => {
        if (next && next.isConnected) next.focus();
      }, 0);
    }
  });

  // --- the inputs of a field follow its type --------------------------------------------------------------
  function showTypeInputs(scope) {
    const select = scope.querySelector("select[data-field-type]");
    if (!select) return;
    scope.querySelectorAll("[data-only]").forEach((wrap) => {
      const types = wrap.dataset.only === "number" ? NUMBER_TYPES : CHOICE_TYPES;
      const shown = types.includes(select.value);
      wrap.hidden = !shown;
      // A hidden input is not sent: a text field keeps no unit, a number field no options.
      wrap.querySelectorAll("input, textarea, select").forEach((input) => {
        input.disabled = !shown;
      });
    });
  }

  // The key made from the label, as the server makes it when the key is left empty.
  const slug = (text) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, 60) || "field";

  function showKey(scope) {
    const label = scope.querySelector("input[data-label-input]");
    const key = scope.querySelector("input[data-key-input]");
    if (label && key && !key.required) key.placeholder = label.value.trim() ? slug(label.value) : "";
  }

  function prepare(root) {
    const scopes = root.matches?.("[data-type-scope]") ? [root] : [];
    scopes.push(...(root.querySelectorAll?.("[data-type-scope]") ?? []));
    scopes.forEach((scope) => {
      showTypeInputs(scope);
      showKey(scope);
    });
  }

  document.addEventListener("change", (event) => {
    const select = event.target.closest?.("select[data-field-type]");
    if (select) showTypeInputs(select.closest("[data-type-scope]"));
  });

  document.addEventListener("input", (event) => {
    const scope = event.target.closest?.("input[data-label-input]")?.closest("[data-type-scope]");
    if (scope) showKey(scope);
  });

  document.addEventListener("htmx:load", (event) => prepare(event.detail.elt));
  document.addEventListener("DOMContentLoaded", () => {
    prepare(document.body);
    // A notice of a save goes away by itself (it was announced); a refusal stays until closed or reloaded.
    const messages = document.getElementById("builder-messages");
    if (!messages) return;
    new MutationObserver(() => {
      messages.querySelectorAll(".alert-success:not([data-timed])").forEach((notice) => {
        notice.dataset.timed = "";
        window.setTimeout(() => notice.remove(), 6000);
      });
    }).observe(messages, { childList: true });
  });

  // --- reordering ---------------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    const builder = document.getElementById("builder");
    const sectionList = document.getElementById("sections");
    const announcer = document.getElementById("builder-announce");
    if (!builder || !sectionList) return; // a read-only preview

    const sectionsIn = () => [...sectionList.children].filter((el) => el.matches(".builder-section"));
    const fieldsIn = (section) =>
      [...section.querySelector(".builder-fields").children].filter((el) => el.matches(".builder-field"));
    const titleOf = (section) => section.querySelector(`#section-${section.dataset.sectionId}-title`)?.textContent.trim();
    const nameOf = (item) => (item.matches(".builder-field") ? item.dataset.label : titleOf(item));

    const order = () => sectionsIn().map((s) => ({ id: Number(s.dataset.sectionId), fields: fieldsIn(s).map((f) => Number(f.dataset.fieldId)) }));

    function announce(text) {
      announcer.textContent = text;
    }

    function describe(item) {
      if (item.matches(".builder-field")) {
        const section = item.closest(".builder-section");
        const fields = fieldsIn(section);
        return `“${nameOf(item)}” moved to position ${fields.indexOf(item) + 1} of ${fields.length} in “${titleOf(section)}”.`;
      }
      const sections = sectionsIn();
      return `Section “${nameOf(item)}” moved to position ${sections.indexOf(item) + 1} of ${sections.length}.`;
    }

    // One order post at a time; moves made meanwhile are sent together once it is answered (each post carries
    // the version the previous one returned).
    let sending = false;
    let pending = false;
    function save() {
      if (sending) {
        pending = true;
        return;
      }
      sending = true;
      const done = () => {
        sending = false;
        if (pending) {
          pending = false;
          save();
        }
      };
      htmx
        .ajax("POST", builder.dataset.reorderUrl, {
          source: builder,
          swap: "none",
          values: { order: JSON.stringify(order()), version: currentVersion() },
        })
        .then(done, done);
    }

    function step(item, up) {
      const sibling = up ? item.previousElementSibling : item.nextElementSibling;
      if (sibling && sibling.matches(ITEM)) {
        item.parentElement.insertBefore(up ? item : sibling, up ? sibling : item);
        return true;
      }
      if (item.matches(".builder-section")) return false;
      // A field past the edge of its section goes to the end (or the start) of the next section.
      const section = item.closest(".builder-section");
      const other = up ? section.previousElementSibling : section.nextElementSibling;
      if (!other || !other.matches(".builder-section")) return false;
      const list = other.querySelector(".builder-fields");
      if (up) list.append(item);
      else list.prepend(item);
      return true;
    }

    function move(item, up, focus) {
      const moved = step(item, up);
      // Moving an element out of the document and back takes the focus away.
      (focus || item).focus();
      item.scrollIntoView({ block: "nearest" });
      if (!moved) {
        announce(`“${nameOf(item)}” is already ${up ? "first" : "last"}.`);
        return;
      }
      announce(describe(item));
      save();
    }

    builder.addEventListener("keydown", (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
      const target = event.target;
      if (target.closest("input, textarea, select, [contenteditable]")) return;
      const item = target.closest(ITEM);
      if (!item) return;
      event.preventDefault();
      move(item, event.key === "ArrowUp", target);
    });

    builder.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-move]");
      if (!button) return;
      event.preventDefault();
      move(button.closest(ITEM), button.dataset.move === "up", button);
    });

    // Drag and drop (native): the row follows the pointer; dropping it posts the order, Escape puts it back.
    let dragged = null;
    let before = null;

    function restore(saved) {
      for (const s of saved) {
        const section = document.getElementById(`section-${s.id}`);
        sectionList.append(section);
        const list = section.querySelector(".builder-fields");
        for (const id of s.fields) list.append(document.getElementById(`field-${id}`));
      }
    }

    // The first row whose middle is below the pointer: the dragged row goes before it (at the end if none).
    const rowBelow = (rows, y) =>
      rows.find((row) => {
        const box = row.getBoundingClientRect();
        return row !== dragged && y < box.top + box.height / 2;
      }) || null;

    function place(list, rows, y) {
      const next = rowBelow(rows, y);
      if (next === null) {
        if (list.lastElementChild !== dragged) list.append(dragged);
      } else if (next.previousElementSibling !== dragged) {
        list.insertBefore(dragged, next);
      }
    }

    builder.addEventListener("dragstart", (event) => {
      const handle = event.target.closest?.("[data-drag-handle]");
      if (!handle) return;
      dragged = handle.closest(ITEM);
      before = order();
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.id);
      event.dataTransfer.setDragImage(dragged, 12, 12);
      window.requestAnimationFrame(() => dragged?.classList.add("is-dragging"));
    });

    builder.addEventListener("dragover", (event) => {
      if (!dragged) return;
      if (dragged.matches(".builder-field")) {
        const list =
          event.target.closest(".builder-fields") ||
          event.target.closest(".builder-section")?.querySelector(".builder-fields");
        if (!list) return;
        event.preventDefault();
        place(list, [...list.children].filter((el) => el.matches(".builder-field")), event.clientY);
      } else {
        if (!sectionList.contains(event.target)) return;
        event.preventDefault();
        place(sectionList, sectionsIn(), event.clientY);
      }
      event.dataTransfer.dropEffect = "move";
    });

    builder.addEventListener("drop", (event) => {
      if (dragged) event.preventDefault();
    });

    builder.addEventListener("dragend", (event) => {
      if (!dragged) return;
      const item = dragged;
      dragged = null;
      item.classList.remove("is-dragging");
      if (event.dataTransfer.dropEffect === "none") {
        restore(before);
        return;
      }
      if (JSON.stringify(order()) !== JSON.stringify(before)) {
        announce(describe(item));
        save();
      }
      item.focus();
    });
  });
})();
