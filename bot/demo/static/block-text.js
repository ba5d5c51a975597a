// Block Kit's text objects as DOM nodes: a mrkdwn or plain_text object (or a bare mrkdwn
// string), and an option's label. Shared by blocks.js and block-inputs.js.
"use strict";

(function () {
  const { el } = window.Dom;
  const { render: mrkdwn, plain } = window.Mrkdwn;

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

  window.BlockText = { text, textIn, optionLabel };
})();
