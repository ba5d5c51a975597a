// Block Kit, rendered into DOM nodes as Slack shows it: header, section (text, fields,
// accessory), context, divider, actions (buttons with confirm dialogs, overflow menus,
// selects), image, rich_text, and the input blocks of modals (their elements, checkboxes
// to multi-selects, come from block-inputs.js; text objects from block-text.js).
//
// ctx: { users: {id: user}, userList: [user], channels: {id: name},
//        act(element, block, value) -> a click, a pick;
//        inputs: Map(block_id -> {get()}) filled in by input blocks (modals) }
"use strict";

(function () {
  const { el } = window.Dom;
  const { render: mrkdwn, plain } = window.Mrkdwn;
  const { text, textIn, optionLabel } = window.BlockText;
  const { input } = window.BlockInputs;

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
    wrap.dataset.actionId = element.action_id || "";
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
      if (open) place(menu, toggle);
    });
    wrap.append(toggle, menu);
    return wrap;
  }

  // Open the menu where it fits whole: below its button, else above it (a card at the
  // bottom of the channel, just over the composer); where neither fits, on the roomier
  // side, scrolling. "Fits" is within what the scrolling pane around it shows, and the
  // window.
  function place(menu, toggle) {
    menu.classList.remove("up");
    menu.style.maxHeight = "";
    const pane = toggle.closest(".messages, .modal-body, .home-body");
    const bounds = pane ? pane.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
    const top = Math.max(bounds.top, 0);
    const bottom = Math.min(bounds.bottom, window.innerHeight);
    const button = toggle.getBoundingClientRect();
    const gap = 8;
    const below = bottom - button.bottom - gap;
    const above = button.top - top - gap;
    const height = menu.getBoundingClientRect().height;
    if (height <= below) return;
    const up = height <= above || above > below;
    menu.classList.toggle("up", up);
    const room = up ? above : below;
    if (height > room) menu.style.maxHeight = Math.max(room, 80) + "px";
  }

  // The overflow menu open in `root`, to open it again once `root` is drawn anew (a card
  // changes as its thread grows: the menu someone is reading stays open).
  function whereOpen(wrap) {
    const block = wrap.closest("[data-block-id]");
    return (block ? block.dataset.blockId : "") + " " + wrap.dataset.actionId;
  }

  function openMenu(root) {
    const menu = root.querySelector(".overflow .menu:not([hidden])");
    return menu ? whereOpen(menu.parentElement) : null;
  }

  function reopenMenu(root, which) {
    if (!which) return;
    const wrap = [...root.querySelectorAll(".overflow")].find((w) => whereOpen(w) === which);
    if (!wrap) return;
    const menu = wrap.querySelector(".menu");
    menu.hidden = false;
    place(menu, wrap.querySelector(".overflow-toggle"));
  }

  document.addEventListener("click", () => {
    document.querySelectorAll(".overflow .menu").forEach((m) => { m.hidden = true; });
  });

  function image(element) {
    // Images from elsewhere are not fetched (the page loads nothing from outside).
    return el("span", "image-alt", "▨ " + (element.alt_text || "image"));
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
        if (!ctx.inputs || !block.block_id) return made.node;
        // In a modal, an actions block's input is part of the view's state, as in Slack.
        const wrap = el("div", "stateful");
        const error = el("div", "field-error");
        error.setAttribute("role", "alert");
        error.hidden = true;
        wrap.append(made.node, error);
        ctx.inputs.set(block.block_id, { get: made.get, error, optional: true, type: element.type });
        return wrap;
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
    node.dataset.blockId = block.block_id || "";
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

  window.Blocks = { render, confirmThen, text, openMenu, reopenMenu };
})();
