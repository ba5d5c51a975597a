// The open modal: built from the snapshot's view, its inputs' values and errors (Slack's
// own check of required fields first), its submit and close sent to the demo server.
"use strict";

(function () {
  const { el } = window.Dom;
  const { $, state, post, context } = window.Demo;

  const REQUIRED = "Please complete this required field.";

  function values() {
    const out = {};
    for (const [blockId, input] of state.modalInputs || []) out[blockId] = input.get();
    return out;
  }

  function showErrors(errors) {
    const view = state.snap && state.snap.view;
    const shown = Object.assign({}, (view && view.errors) || {}, state.clientErrors, errors || {});
    for (const [blockId, input] of state.modalInputs || []) {
      const message = shown[blockId] || "";
      input.error.textContent = message;
      input.error.hidden = !message;
      input.error.parentElement.classList.toggle("has-error", Boolean(message));
    }
    const general = document.querySelector("#modal-layer .modal-error");
    if (general) {
      general.textContent = shown[""] || "";
      general.hidden = !shown[""];
    }
  }

  function buildModal(view) {
    const layer = $("modal-layer");
    const inputs = new Map();
    state.modalInputs = inputs;
    state.clientErrors = {};
    const box = el("div", "dialog modal");
    box.dataset.viewId = view.id;
    box.dataset.callbackId = view.callback_id;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    const head = el("div", "modal-head");
    const title = el("h2", "modal-title");
    title.append(window.Mrkdwn.plain(view.title));
    const x = el("button", "icon modal-x", "×");
    x.type = "button";
    x.setAttribute("aria-label", "Close");
    head.append(title, x);
    const act = (element, block, value) => post("/demo/click", {
      where: "view", view_id: view.id, action_id: element.action_id, value: value ?? null, values: values(),
    });
    const body = el("div", "modal-body");
    body.append(window.Blocks.render(view.blocks, Object.assign(context(act), { inputs })));
    const general = el("div", "modal-error");
    general.setAttribute("role", "alert");
    general.hidden = true;
    const foot = el("div", "modal-foot");
    const cancel = el("button", "btn cancel", view.close || "Cancel");
    cancel.type = "button";
    foot.append(cancel);
    const close = () => post("/demo/close", { view_id: view.id });
    cancel.addEventListener("click", close);
    x.addEventListener("click", close);
    if (view.submit) {
      const submit = el("button", "btn primary submit", view.submit);
      submit.type = "button";
      submit.addEventListener("click", async () => {
        const picked = values();
        const missing = {};
        for (const [blockId, input] of inputs) {
          const value = picked[blockId];
          if (!input.optional && (value === null || value === "" || (Array.isArray(value) && !value.length))) {
            missing[blockId] = REQUIRED;
          }
        }
        state.clientErrors = missing;
        showErrors({});
        if (Object.keys(missing).length) return;
        submit.disabled = true;
        submit.classList.add("pending");
        const answer = await post("/demo/submit", { view_id: view.id, values: picked });
        submit.disabled = false;
        submit.classList.remove("pending");
        if (answer.errors) {
          state.clientErrors = answer.errors;
          showErrors({});
        }
      });
      foot.append(submit);
    }
    box.append(head, general, body, foot);
    layer.replaceChildren(box);
    const first = box.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function renderModal() {
    const view = state.snap.view;
    const layer = $("modal-layer");
    if (!view) {
      layer.hidden = true;
      layer.replaceChildren();
      state.modalKey = null;
      state.modalInputs = null;
      return;
    }
    const key = view.id + ":" + view.hash;
    if (key !== state.modalKey) {
      buildModal(view);
      state.modalKey = key;
    }
    layer.hidden = false;
    showErrors({});
  }

  document.addEventListener("keydown", (event) => {
    const view = state.snap && state.snap.view;
    if (event.key === "Escape" && view && $("confirm-layer").hidden) post("/demo/close", { view_id: view.id });
  });

  Object.assign(window.Demo, { renderModal });
})();
