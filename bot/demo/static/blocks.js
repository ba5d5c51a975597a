// Block Kit, rendered into DOM nodes as Slack shows it: header, section (text, fields,
// accessory), context, divider, actions (buttons with confirm dialogs, overflow menus,
// selects), image, rich_text, and the input blocks of modals (checkboxes, radio buttons,
// text inputs, date/time pickers, static/user/channel selects, single and multi).
//
// ctx: { users: {id: user}, userList: [user], channels: {id: name},
//        act(element, block, value) -> a click, a pick;
//        inputs: Map(block_id -> {get()}) filled in by input blocks (modals) }
"use strict";

(function () {
  const { render: mrkdwn, plain } = window.Mrkdwn;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function text(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (typeof obj === "string") return mrkdwn(obj, ctx);
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return plain(obj.text, obj.emoji);
  }

  function textIn(tag, cls, obj, ctx) {
    const node = el(tag, cls);
    node.append(text(obj, ctx));
    return node;
  }

  function optionLabel(option) {
    return option && option.text ? window.Mrkdwn.emojiText(option.text.text || "") : "";
  }

  function allOptions(element) {
    const grouped = (element.option_groups || []).flatMap((g) => g.options || []);
    return (element.options || []).concat(grouped);
  }

  // --- a confirm dialog (a button's `confirm` object) -------------------------------

  function confirmThen(confirm, ctx, go) {
    if (!confirm) {
      go();
      return;
    }
    const layer = document.getElementById("confirm-layer");
    layer.replaceChildren();
    const box = el("div", "dialog confirm");
    box.setAttribute("role", "alertdialog");
    box.append(textIn("h3", "dialog-title", confirm.title || { type: "plain_text", text: "Are you sure?" }, ctx));
    box.append(textIn("div", "dialog-text", confirm.text, ctx));
    const row = el("div", "dialog-buttons");
    const deny = el("button", "btn", (confirm.deny && confirm.deny.text) || "Cancel");
    const yes = el("button", "btn " + (confirm.style === "danger" ? "danger" : "primary"),
      (confirm.confirm && confirm.confirm.text) || "Yes");
    deny.type = yes.type = "button";
    const close = () => {
      layer.hidden = true;
      layer.replaceChildren();
      document.removeEventListener("keydown", onKey);
    };
    const onKey = (event) => {
      if (event.key === "Escape") close();
    };
    deny.addEventListener("click", close);
    yes.addEventListener("click", () => {
      close();
      go();
    });
    document.addEventListener("keydown", onKey);
    row.append(deny, yes);
    box.append(row);
    layer.append(box);
    layer.hidden = false;
    yes.focus();
  }

  // --- interactive elements in messages (and in a modal's actions/accessories) ------

  function button(element, block, ctx) {
    const node = el("button", "btn" + (element.style ? " " + element.style : ""));
    node.type = "button";
    node.append(plain(element.text && element.text.text, element.text && element.text.emoji));
    node.dataset.actionId = element.action_id || "";
    if (element.url) { // a link button: only web links open, never script
      if (/^https?:\/\//i.test(element.url)) {
        node.addEventListener("click", () => window.open(element.url, "_blank", "noopener"));
      }
      return node;
    }
    node.addEventListener("click", () =>
      confirmThen(element.confirm, ctx, () => ctx.act(element, block, element.value, node)));
    return node;
  }

  function overflow(element, block, ctx) {
    const wrap = el("div", "overflow");
    const toggle = el("button", "btn overflow-toggle", "⋯");
    toggle.type = "button";
    toggle.setAttribute("aria-label", "More actions");
    toggle.setAttribute("aria-haspopup", "menu");
    const menu = el("div", "menu");
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    for (const option of element.options || []) {
      const item = el("button", "menu-item", optionLabel(option));
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.addEventListener("click", () => {
        menu.hidden = true;
        confirmThen(element.confirm, ctx, () => ctx.act(element, block, option.value, toggle));
      });
      menu.append(item);
    }
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      const open = menu.hidden;
      document.querySelectorAll(".overflow .menu").forEach((m) => { m.hidden = true; });
      menu.hidden = !open;
    });
    wrap.append(toggle, menu);
    return wrap;
  }

  document.addEventListener("click", () => {
    document.querySelectorAll(".overflow .menu").forEach((m) => { m.hidden = true; });
  });

  function image(element) {
    // Images from elsewhere are not fetched (the page loads nothing from outside).
    return el("span", "image-alt", "🖼 " + (element.alt_text || "image"));
  }

  // --- inputs: each returns {node, get()} -------------------------------------------

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

  // An element in a message's actions block or a section's accessory.
  function element(element, block, ctx) {
    switch (element.type) {
      case "button": return button(element, block, ctx);
      case "overflow": return overflow(element, block, ctx);
      case "image": return image(element);
      default: {
        const made = input(element, ctx);
        made.node.addEventListener("change", () => ctx.act(element, block, made.get(), made.node));
        return made.node;
      }
    }
  }

  // --- blocks -----------------------------------------------------------------------

  function section(block, ctx) {
    const node = el("div", "block section");
    const main = el("div", "section-main");
    if (block.text) main.append(textIn("div", "section-text", block.text, ctx));
    if (block.fields && block.fields.length) {
      const fields = el("div", "fields");
      for (const field of block.fields) fields.append(textIn("div", "field", field, ctx));
      main.append(fields);
    }
    node.append(main);
    if (block.accessory) {
      const accessory = el("div", "accessory");
      accessory.append(element(block.accessory, block, ctx));
      node.append(accessory);
    }
    return node;
  }

  function context(block, ctx) {
    const node = el("div", "block context");
    for (const item of block.elements || []) {
      if (item.type === "image") node.append(image(item));
      else node.append(textIn("span", "context-item", item, ctx));
    }
    return node;
  }

  function actions(block, ctx) {
    const node = el("div", "block actions");
    for (const item of block.elements || []) node.append(element(item, block, ctx));
    return node;
  }

  function inputBlock(block, ctx) {
    const node = el("div", "block input");
    node.dataset.blockId = block.block_id || "";
    const label = textIn("label", "input-label", block.label, ctx);
    if (block.optional) label.append(el("span", "optional", " (optional)"));
    node.append(label);
    const made = input(block.element || {}, ctx);
    node.append(made.node);
    if (block.hint) node.append(textIn("div", "hint", block.hint, ctx));
    const error = el("div", "field-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    node.append(error);
    if (ctx.inputs && block.block_id) {
      ctx.inputs.set(block.block_id, {
        get: made.get, error, optional: Boolean(block.optional), type: (block.element || {}).type,
      });
    }
    return node;
  }

  function richText(block, ctx) {
    const node = el("div", "block rich-text");
    const walk = (item, parent) => {
      if (item.type === "text") {
        const span = el(item.style && item.style.code ? "code" : "span", "", item.text);
        if (item.style && item.style.bold) span.classList.add("bold");
        if (item.style && item.style.italic) span.classList.add("italic");
        parent.append(span);
      } else if (item.type === "link") {
        parent.append(mrkdwn(`<${item.url}|${item.text || item.url}>`, ctx));
      } else if (item.type === "user") {
        parent.append(mrkdwn(`<@${item.user_id}>`, ctx));
      } else if (item.type === "emoji") {
        parent.append(plain(`:${item.name}:`));
      } else if (item.elements) {
        const tag = { rich_text_preformatted: "pre", rich_text_quote: "blockquote", rich_text_list: "ul" }[item.type] || "div";
        const child = el(tag);
        for (const sub of item.elements) {
          if (item.type === "rich_text_list") {
            const li = el("li");
            walk(sub, li);
            child.append(li);
          } else {
            walk(sub, child);
          }
        }
        parent.append(child);
      }
    };
    for (const item of block.elements || []) walk(item, node);
    return node;
  }

  function blockNode(block, ctx) {
    switch (block.type) {
      case "header": return textIn("div", "block header", block.text, ctx);
      case "section": return section(block, ctx);
      case "context": return context(block, ctx);
      case "divider": return el("hr", "block divider");
      case "actions": return actions(block, ctx);
      case "input": return inputBlock(block, ctx);
      case "image": {
        const node = el("div", "block image");
        if (block.title) node.append(textIn("div", "image-title", block.title, ctx));
        node.append(image(block));
        return node;
      }
      case "rich_text": return richText(block, ctx);
      default: return el("div", "block unsupported", `[a ${block.type} block]`);
    }
  }

  function render(blocks, ctx) {
    const fragment = document.createDocumentFragment();
    for (const block of blocks || []) {
      const node = blockNode(block, ctx);
      if (block.block_id) node.dataset.blockId = block.block_id;
      fragment.append(node);
    }
    return fragment;
  }

  window.Blocks = { render, confirmThen, text };
})();
