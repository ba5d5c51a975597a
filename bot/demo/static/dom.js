// The one DOM helper every script of the page shares: an element with a class and text.
// Text only ever becomes a text node (textContent), never HTML.
"use strict";

(function () {
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  window.Dom = { el };
})();
