// Block Kit's input elements, as a modal's input blocks (and a message's selects) show
// them: checkboxes, radio buttons, text inputs, date/time pickers, static/user/channel
// selects, single and multi. input(element, ctx) returns {node, get()}, where get() is
// the value Slack would send for it.
//
// ctx: { userList: [user], channels: {id: name} }
"use strict";

(function () {
  const { el } = window.Dom;
  const { textIn, optionLabel } = window.BlockText;

  function allOptions(element) {
    const grouped = (element.option_groups || []).flatMap((g) => g.options || []);
    return (element.options || []).concat(grouped);
  }

  function select(options, initial, placeholder) {
    const node = el("select", "select");
    const none = el("option", "", placeholder || "Select an item");
    none.value = "";
    node.append(none);
    for (const [value, label] of options) {
      const option = el("option", "", label);
      option.value = value;
      node.append(option);
    }
    node.value = initial || "";
    return node;
  }

  function multi(options, initial, placeholder, max) {
    const wrap = el("div", "multi");
    const chips = el("div", "chips");
    const labels = new Map(options);
    let chosen = (initial || []).filter((v) => labels.has(v));
    const picker = select([], "", placeholder || "Select items");
    const draw = () => {
      chips.replaceChildren();
      for (const value of chosen) {
        const chip = el("span", "chip", labels.get(value));
        const remove = el("button", "chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + labels.get(value));
        remove.addEventListener("click", () => {
          chosen = chosen.filter((v) => v !== value);
          draw();
        });
        chip.append(remove);
        chips.append(chip);
      }
      picker.replaceChildren();
      const none = el("option", "", placeholder || "Add…");
      none.value = "";
      picker.append(none);
      for (const [value, label] of options) {
        if (chosen.includes(value)) continue;
        const option = el("option", "", label);
        option.value = value;
        picker.append(option);
      }
      picker.value = "";
      picker.disabled = Boolean(max) && chosen.length >= max;
    };
    picker.addEventListener("change", () => {
      if (picker.value) chosen = chosen.concat([picker.value]);
      draw();
    });
    draw();
    wrap.append(chips, picker);
    return { node: wrap, get: () => chosen.slice() };
  }

  function localInput(seconds) {
    const d = new Date(seconds * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function choices(element, kind, initial) {
    const wrap = el("div", kind === "checkbox" ? "checkboxes" : "radios");
    const name = "r" + Math.random().toString(36).slice(2);
    const chosen = new Set(initial);
    for (const option of element.options || []) {
      const label = el("label", "choice");
      const input = el("input");
      input.type = kind;
      input.name = name;
      input.value = option.value;
      input.checked = chosen.has(option.value);
      const body = el("span", "choice-body");
      body.append(textIn("span", "choice-text", option.text, {}));
      if (option.description) body.append(textIn("span", "choice-description", option.description, {}));
      label.append(input, body);
      wrap.append(label);
    }
    const inputs = () => Array.from(wrap.querySelectorAll("input"));
    return {
      node: wrap,
      get: () => {
        const picked = inputs().filter((i) => i.checked).map((i) => i.value);
        return kind === "checkbox" ? picked : picked[0] || null;
      },
    };
  }

  function userOptions(ctx) {
    return (ctx.userList || []).filter((u) => u.title !== "app")
      .map((u) => [u.id, u.real_name + (u.title ? ` (${u.title})` : "")]);
  }

  function input(element, ctx) {
    const kind = element.type;
    const placeholder = element.placeholder && element.placeholder.text;
    if (["plain_text_input", "rich_text_input", "email_text_input", "url_text_input", "number_input"].includes(kind)) {
      const multiline = element.multiline || kind === "rich_text_input";
      const node = el(multiline ? "textarea" : "input", "text-input");
      if (!multiline) {
        node.type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[kind] || "text";
      } else {
        node.rows = 3;
      }
      if (placeholder) node.placeholder = placeholder;
      if (element.max_length) node.maxLength = element.max_length;
      if (typeof element.initial_value === "string") node.value = element.initial_value;
      return { node, get: () => node.value };
    }
    if (kind === "checkboxes") {
      return choices(element, "checkbox", (element.initial_options || []).map((o) => o.value));
    }
    if (kind === "radio_buttons") {
      return choices(element, "radio", element.initial_option ? [element.initial_option.value] : []);
    }
    if (kind === "static_select" || kind === "external_select") {
      const node = select(allOptions(element).map((o) => [o.value, optionLabel(o)]),
        element.initial_option && element.initial_option.value, placeholder);
      return { node, get: () => node.value || null };
    }
    if (kind === "multi_static_select" || kind === "multi_external_select") {
      return multi(allOptions(element).map((o) => [o.value, optionLabel(o)]),
        (element.initial_options || []).map((o) => o.value), placeholder, element.max_selected_items);
    }
    if (kind === "users_select") {
      const node = select(userOptions(ctx), element.initial_user, placeholder);
      return { node, get: () => node.value || null };
    }
    if (kind === "multi_users_select") {
      return multi(userOptions(ctx), element.initial_users, placeholder, element.max_selected_items);
    }
    if (["conversations_select", "channels_select"].includes(kind)) {
      const channels = Object.entries(ctx.channels || {}).map(([id, name]) => [id, "#" + name]);
      const node = select(channels, element.initial_conversation || element.initial_channel, placeholder);
      return { node, get: () => node.value || null };
    }
    if (["multi_conversations_select", "multi_channels_select"].includes(kind)) {
      const channels = Object.entries(ctx.channels || {}).map(([id, name]) => [id, "#" + name]);
      return multi(channels, element.initial_conversations || element.initial_channels, placeholder,
        element.max_selected_items);
    }
    if (kind === "datepicker" || kind === "timepicker") {
      const node = el("input", "text-input");
      node.type = kind === "datepicker" ? "date" : "time";
      node.value = (kind === "datepicker" ? element.initial_date : element.initial_time) || "";
      return { node, get: () => node.value || null };
    }
    if (kind === "datetimepicker") {
      const node = el("input", "text-input");
      node.type = "datetime-local";
      if (element.initial_date_time) node.value = localInput(element.initial_date_time);
      return {
        node,
        get: () => (node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null),
      };
    }
    return { node: el("span", "unsupported", `[${kind}]`), get: () => null };
  }

  window.BlockInputs = { input };
})();
