// Slack's mrkdwn, rendered into DOM nodes. Text only ever becomes text nodes (never HTML),
// so nothing in a message can run as code. Handles *bold*, _italic_, ~strike~, `code`,
// ```blocks```, > quotes, <@U…> mentions, <#C…|name>, <!here>, <!date^…|fallback>,
// <https://…|links>, Slack's &amp; &lt; &gt; escapes and :emoji: shortcodes.
"use strict";

(function () {
  const { el } = window.Dom;

  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️",
    white_circle: "⚪", large_blue_circle: "🔵", large_blue_diamond: "🔷", red_circle: "🔴", large_green_circle: "🟢",
    large_yellow_circle: "🟡", no_entry: "⛔", no_entry_sign: "🚫", rocket: "🚀", eyes: "👀",
    checkered_flag: "🏁", hourglass_flowing_sand: "⏳", hourglass: "⌛", rotating_light: "🚨",
    arrows_counterclockwise: "🔄", page_facing_up: "📄", leftwards_arrow_with_hook: "↩️",
    clipboard: "📋", bell: "🔔", alarm_clock: "⏰", tada: "🎉", wave: "👋", memo: "📝",
    lock: "🔒", key: "🔑", information_source: "ℹ️", bulb: "💡", fire: "🔥", zap: "⚡",
    mag: "🔍", calendar: "📅", spiral_calendar_pad: "🗓️", stopwatch: "⏱️", gear: "⚙️",
    package: "📦", bar_chart: "📊", chart_with_upwards_trend: "📈", shield: "🛡️",
    construction: "🚧", boom: "💥", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎",
    pushpin: "📌", speech_balloon: "💬", busts_in_silhouette: "👥", bust_in_silhouette: "👤",
    heavy_minus_sign: "➖", heavy_plus_sign: "➕", arrow_right: "➡️", recycle: "♻️",
    white_large_square: "⬜", black_large_square: "⬛", star: "⭐", sparkles: "✨",
    question: "❓", exclamation: "❗", heart: "❤️", smile: "😄", slightly_smiling_face: "🙂",
    raised_hands: "🙌", clap: "👏", ok_hand: "👌", point_right: "👉", robot_face: "🤖",
    hammer_and_wrench: "🛠️", wrench: "🔧", link: "🔗", email: "📧", inbox_tray: "📥",
    outbox_tray: "📤", scroll: "📜", books: "📚", test_tube: "🧪", traffic_light: "🚥",
    vertical_traffic_light: "🚦", stop_sign: "🛑", large_orange_circle: "🟠",
  };

  // Slack escapes exactly three characters in message text.
  function unescapeSlack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Without a colour emoji font (headless browsers, bare Linux desktops) each emoji is
  // drawn as a small badge instead of an empty box: a glyph of DejaVu Sans, the one font
  // a bare Debian has (fontconfig's own dependency), or, where DejaVu has none, a picture
  // shipped beside this file (drawn by CSS; the glyph then serves where only text can go,
  // as in an <option>). [glyph, colour class, picture class].
  const BADGES = {
    white_check_mark: ["✓", "check"], heavy_check_mark: ["✔", "tick"], x: ["✖", "cross"],
    warning: ["⚠", "warn"], white_circle: ["○", "ring"], large_blue_circle: ["●", "blue"],
    large_blue_diamond: ["◆", "blue"],
    red_circle: ["●", "red"], large_green_circle: ["●", "green"], large_yellow_circle: ["●", "amber"],
    large_orange_circle: ["●", "amber"], no_entry: ["⊘", "stop"], no_entry_sign: ["⊘", "stop"],
    rocket: ["▲", "rocket"], eyes: ["◉", "eyes"], checkered_flag: ["⚑", "flag"],
    hourglass_flowing_sand: ["◷", "wait", "hourglass"], hourglass: ["◷", "wait", "hourglass"],
    rotating_light: ["!", "siren"], arrows_counterclockwise: ["⟳", "plain"],
    page_facing_up: ["☰", "plain"], leftwards_arrow_with_hook: ["↩", "plain"],
    clipboard: ["☑", "plain"], bell: ["⚐", "plain"], alarm_clock: ["◷", "plain"],
    gear: ["⚙", "plain"], zap: ["⚡", "amber"], star: ["★", "amber"], recycle: ["♻", "green"],
    email: ["✉", "plain"], memo: ["✎", "plain"], tada: ["✶", "amber"], wave: ["✌", "hand"],
    lock: ["⊡", "plain"], key: ["⚷", "plain"], information_source: ["ℹ", "blue"],
    bulb: ["☼", "amber"], fire: ["♨", "red"], mag: ["⚲", "plain"], calendar: ["▦", "plain"],
    spiral_calendar_pad: ["▦", "plain"], stopwatch: ["◷", "plain"], package: ["▣", "plain"],
    bar_chart: ["▥", "blue"], chart_with_upwards_trend: ["↗", "green"], shield: ["◈", "blue"],
    construction: ["▧", "amber"], boom: ["✸", "red"], thumbsup: ["☝", "hand"],
    "+1": ["☝", "hand"], thumbsdown: ["☟", "hand"], "-1": ["☟", "hand"],
    pushpin: ["⚲", "red"], speech_balloon: ["❝", "plain"], busts_in_silhouette: ["⚇", "plain"],
    bust_in_silhouette: ["☻", "plain"], heavy_minus_sign: ["−", "plain"],
    heavy_plus_sign: ["✚", "plain"], arrow_right: ["➜", "plain"], white_large_square: ["□", "ring"],
    black_large_square: ["■", "flag"], sparkles: ["✦", "amber"], question: ["?", "red"],
    exclamation: ["!", "red"], heart: ["♥", "red"], smile: ["☺", "amber"],
    slightly_smiling_face: ["☺", "amber"], raised_hands: ["✌", "hand"], clap: ["✶", "amber"],
    ok_hand: ["✓", "green"], point_right: ["☞", "hand"], robot_face: ["☻", "blue"],
    hammer_and_wrench: ["⚒", "plain"], wrench: ["⚒", "plain"], link: ["⚭", "plain"],
    inbox_tray: ["⇩", "plain"], outbox_tray: ["⇧", "plain"], scroll: ["§", "plain"],
    books: ["▤", "plain"], test_tube: ["⚗", "plain"], traffic_light: ["⋮", "amber"],
    vertical_traffic_light: ["⋮", "amber"], stop_sign: ["⬣", "red"],
  };

  let colour = null;
  function colourEmoji() {
    if (colour === null) {
      colour = false;
      try {
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 24;
        const g = canvas.getContext("2d");
        g.textBaseline = "top";
        g.font = "20px sans-serif";
        g.fillText("\u2705", 0, 0);
        const data = g.getImageData(0, 0, 24, 24).data;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] && (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2])) {
            colour = true;
            break;
          }
        }
      } catch (error) {
        colour = false;
      }
    }
    return colour;
  }

  const SHORTCODE = /:([a-z0-9_+'-]+):/g;

  // As a string (for <option> labels and titles).
  function emojiText(text) {
    return text.replace(SHORTCODE, (whole, name) => {
      if (!colourEmoji() && BADGES[name]) return BADGES[name][0];
      return EMOJI[name] || whole;
    });
  }

  function badgeNode(name) {
    const [glyph, kind, picture] = BADGES[name];
    // A picture is drawn by CSS (a background): the span holds no text to mis-draw.
    const span = el("span", "emoji e-" + kind + (picture ? " e-pic e-" + picture : ""),
      picture ? "" : glyph);
    span.title = ":" + name + ":";
    span.setAttribute("role", "img");
    span.setAttribute("aria-label", name.replace(/_/g, " "));
    return span;
  }

  // As nodes: text, with a badge for each emoji the font can't draw.
  function emojiNodes(text) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const match of text.matchAll(SHORTCODE)) {
      const name = match[1];
      const badge = !colourEmoji() && BADGES[name];
      if (!badge && !EMOJI[name]) continue;
      if (match.index > at) fragment.append(document.createTextNode(text.slice(at, match.index)));
      fragment.append(badge ? badgeNode(name) : document.createTextNode(EMOJI[name]));
      at = match.index + match[0].length;
    }
    if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
    return fragment;
  }

  // Emoji written as characters (a document's ✅, ⏳): the same badges, in plain text.
  let chars = null;
  function emojiChars(text) {
    const fragment = document.createDocumentFragment();
    if (colourEmoji()) {
      fragment.append(document.createTextNode(text));
      return fragment;
    }
    if (chars === null) {
      chars = { names: new Map() };
      for (const [name, ch] of Object.entries(EMOJI)) {
        if (!BADGES[name]) continue;
        for (const form of [ch, ch.replace(/\uFE0F/g, "")]) {
          if (!chars.names.has(form)) chars.names.set(form, name);
        }
      }
      const forms = [...chars.names.keys()].sort((a, b) => b.length - a.length);
      const escaped = forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      chars.pattern = new RegExp(escaped.join("|"), "gu");
    }
    let at = 0;
    for (const match of text.matchAll(chars.pattern)) {
      if (match.index > at) fragment.append(document.createTextNode(text.slice(at, match.index)));
      fragment.append(badgeNode(chars.names.get(match[0])));
      at = match.index + match[0].length;
    }
    if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
    return fragment;
  }

  function isWordChar(ch) {
    return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
  }

  const pad = (n) => String(n).padStart(2, "0");

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
      && a.getDate() === b.getDate();
  }

  function pretty(date, style) {
    const now = new Date();
    const day = 24 * 3600 * 1000;
    if (sameDay(date, now)) return "Today";
    if (sameDay(date, new Date(now.getTime() - day))) return "Yesterday";
    if (sameDay(date, new Date(now.getTime() + day))) return "Tomorrow";
    return longDate(date, style);
  }

  function longDate(date, style) {
    const options = style === "short" ? { month: "short", day: "numeric", year: "numeric" }
      : style === "long" ? { weekday: "long", month: "long", day: "numeric", year: "numeric" }
        : { month: "long", day: "numeric", year: "numeric" };
    return date.toLocaleDateString(undefined, options);
  }

  function ago(date) {
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const future = seconds < 0;
    const s = Math.abs(seconds);
    const [n, unit] = s < 60 ? [s, "second"] : s < 3600 ? [Math.round(s / 60), "minute"]
      : s < 86400 ? [Math.round(s / 3600), "hour"] : [Math.round(s / 86400), "day"];
    const label = `${n} ${unit}${n === 1 ? "" : "s"}`;
    return future ? `in ${label}` : `${label} ago`;
  }

  // <!date^1700000000^{date_short_pretty} {time}|fallback>, in the reader's time zone.
  function formatDate(seconds, format) {
    const date = new Date(seconds * 1000);
    if (Number.isNaN(date.getTime())) return null;
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    const tokens = {
      date_num: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`,
      date: longDate(date), date_short: longDate(date, "short"),
      date_long: longDate(date, "long"), date_pretty: pretty(date),
      date_short_pretty: pretty(date, "short"), date_long_pretty: pretty(date, "long"),
      time, time_secs: `${time}:${pad(date.getSeconds())}`, ago: ago(date),
    };
    let known = true;
    const out = format.replace(/\{(\w+)\}/g, (whole, name) => {
      if (name in tokens) return tokens[name];
      known = false;
      return whole;
    });
    return known ? out : null;
  }

  function userName(ctx, id, fallback) {
    const user = ctx && ctx.users ? ctx.users[id] : null;
    if (user) return user.real_name || user.name;
    return fallback || id;
  }

  // One <…> token: a mention, a channel, a special mention, a date or a link.
  function special(inner, parent, ctx) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? unescapeSlack(inner.slice(bar + 1)) : "";
    if (target.startsWith("@")) {
      parent.append(el("span", "mention", "@" + userName(ctx, target.slice(1), label)));
    } else if (target.startsWith("#")) {
      const id = target.slice(1);
      const known = ctx && ctx.channels ? ctx.channels[id] : null;
      parent.append(el("span", "mention channel", "#" + (label || known || id)));
    } else if (target.startsWith("!date^")) {
      const [, seconds, format] = target.split("^");
      const shown = formatDate(Number(seconds), unescapeSlack(format || ""));
      const node = el("time", "date", shown || label || seconds);
      node.dateTime = new Date(Number(seconds) * 1000).toISOString();
      node.title = new Date(Number(seconds) * 1000).toString();
      parent.append(node);
    } else if (target.startsWith("!subteam^")) {
      parent.append(el("span", "mention", label || "@group"));
    } else if (target.startsWith("!")) {
      parent.append(el("span", "mention", "@" + (label || target.slice(1))));
    } else {
      const url = unescapeSlack(target);
      if (/^(https?:\/\/|mailto:)/i.test(url)) {
        const a = el("a", "link", label || url);
        a.href = url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.append(a);
      } else {
        parent.append(document.createTextNode(label || url));
      }
    }
  }

  const STYLES = { "*": "strong", _: "em", "~": "s" };

  // Inline formatting of one line.
  function inline(text, parent, ctx) {
    let buffer = "";
    const flush = () => {
      if (buffer) parent.append(emojiNodes(unescapeSlack(buffer)));
      buffer = "";
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i + 1) {
          flush();
          parent.append(el("code", "", unescapeSlack(text.slice(i + 1, end))));
          i = end + 1;
          continue;
        }
      } else if (ch === "<") {
        const end = text.indexOf(">", i + 1);
        if (end > i + 1) {
          flush();
          special(text.slice(i + 1, end), parent, ctx);
          i = end + 1;
          continue;
        }
      } else if (STYLES[ch] && !isWordChar(text[i - 1]) && text[i + 1] && text[i + 1] !== " "
                 && text[i + 1] !== ch) {
        let end = text.indexOf(ch, i + 1);
        while (end > 0 && (text[end - 1] === " " || isWordChar(text[end + 1]))) {
          end = text.indexOf(ch, end + 1);
        }
        if (end > i + 1) {
          flush();
          const node = el(STYLES[ch]);
          inline(text.slice(i + 1, end), node, ctx);
          parent.append(node);
          i = end + 1;
          continue;
        }
      }
      buffer += ch;
      i += 1;
    }
    flush();
  }

  // Lines: quotes ("> " or "&gt; ") become blockquotes; others are separated by breaks.
  function lines(text, parent, ctx) {
    let quote = null;
    let first = true;
    for (const line of text.split("\n")) {
      const quoted = /^(?:&gt;|>) ?(.*)$/.exec(line);
      if (quoted) {
        if (!quote) {
          quote = el("blockquote");
          parent.append(quote);
        } else {
          quote.append(el("br"));
        }
        inline(quoted[1], quote, ctx);
        first = true;
        continue;
      }
      quote = null;
      if (!first) parent.append(el("br"));
      first = false;
      inline(line, parent, ctx);
    }
  }

  function render(text, ctx) {
    const fragment = document.createDocumentFragment();
    const parts = String(text || "").split("```");
    parts.forEach((part, index) => {
      const isCode = index % 2 === 1 && index < parts.length - 1;
      if (isCode) {
        fragment.append(el("pre", "code-block", unescapeSlack(part.replace(/^\n/, ""))));
      } else {
        const body = index > 0 && index % 2 === 0 ? part.replace(/^\n/, "") : part;
        lines(index % 2 === 1 ? "```" + body : body, fragment, ctx);
      }
    });
    return fragment;
  }

  // plain_text objects: no formatting, emoji shortcodes when `emoji` is not false.
  function plain(text, emoji) {
    const shown = String(text || "");
    return emoji === false ? document.createTextNode(shown) : emojiNodes(shown);
  }

  window.Mrkdwn = {
    render, plain, emojiText, emojiChars, formatDate, userName, colourEmoji,
    emojiNames: Object.keys(EMOJI),
  };
})();
