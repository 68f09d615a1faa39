/*
 * Character counts of what each ticked channel will send, next to each text.
 *
 * The counting rules are those of calendar_app/counting.py (read its docstrings), and the
 * parts a channel sends are assembled as calendar_app/sending.parts_for assembles them:
 * keep each pair in step; browser tests compare them through window.CalendarCounter.
 *
 * Markup:
 *   <textarea name="variant_nl" id="id_variant_nl" data-count-language="nl"
 *             data-count-channels='[{"channel_id": 3, "label": "X @BE", "platform": "x",
 *               "plan": "thread", "languages": ["nl", "fr"], "separator": "\n\n"}]'></textarea>
 *   <textarea name="variant_nl__x">...</textarea>   (optional: this language's own text on X)
 *   <ul class="char-counts" data-counts-for="id_variant_nl" aria-live="polite"
 *       data-label-format="%(channel)s: %(used)s / %(limit)s"
 *       data-part-format="%(channel)s, post %(number)s of %(total)s: %(used)s / %(limit)s"
 *       data-combined-format="%(channel)s, combined: %(used)s / %(limit)s"
 *       data-left-out-format="%(channel)s: does not publish this language"
 *       data-over-format="%(over)s too many"></ul>
 * The channel plans are written by the server (calendar_app.sending.ChannelPlan), never
 * worked out here. The page may change data-count-channels; it fires `counter:refresh` on
 * document to have every list recounted. Every text of the form counts in every list: a
 * combined post holds all the languages.
 */
(function () {
  "use strict";

  var LIMITS = Object.freeze({
    x: 280,
    bluesky: 300,
    mastodon: 500,
    threads: 500,
    instagram: 2200,
    linkedin: 3000,
    facebook: 63206,
    youtube: 5000,
  });
  var URL_LENGTH = 23;

  // Links that start with http(s):// or www. (no bare domains), as in counting.URL_RE.
  // The character before a link is matched by a group instead of a lookbehind, which
  // older Safari versions do not parse; trailing punctuation is trimmed in urlPieces.
  var URL_PATH_CHAR = "[A-Za-z0-9\\u00c0-\\u024f\\u0400-\\u04ff\\-._~!$&'*+,;=:@/?#%\\[\\]|]";
  var URL_RE = new RegExp(
    "(^|[^A-Za-z0-9@#$\\uff20\\uff03\\uff04])(" +
      "(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww]{3}\\.)" +
      "(?:[\\p{L}\\p{N}_-]+\\.)+(?:xn--[A-Za-z0-9-]+|[A-Za-z]{2,63})(?![A-Za-z0-9_-])" +
      "(?::[0-9]{1,5})?" +
      "(?:[/?#](?:" + URL_PATH_CHAR + "|\\(" + URL_PATH_CHAR + "*\\))*)?" +
      ")",
    "gu"
  );
  var URL_TRAILING_PUNCTUATION = /[.,:;!?'*]$/;

  var PICTOGRAPHIC =
    "[\\u203c\\u2049\\u2122\\u2139\\u2194-\\u21ff\\u2300-\\u23ff\\u24c2\\u25a0-\\u27bf\\u2900-\\u297f" +
    "\\u2b00-\\u2bff\\u3030\\u303d\\u3297\\u3299\\u{1f000}-\\u{1faff}]";
  var PICTOGRAPHIC_RE = new RegExp("^" + PICTOGRAPHIC + "$", "u");
  var EMOJI_EXTEND = "[\\ufe0e\\ufe0f\\u{1f3fb}-\\u{1f3ff}\\u{e0020}-\\u{e007f}]";
  var EMOJI_UNIT = "(?:[\\u00a9\\u00ae]\\ufe0f|" + PICTOGRAPHIC + ")" + EMOJI_EXTEND + "*";
  var EMOJI_RE = new RegExp(
    "[\\u{1f1e6}-\\u{1f1ff}]{2}" + // a flag
      "|[#*0-9]\\ufe0f?\\u20e3" + // a keycap
      "|" + EMOJI_UNIT + "(?:\\u200d" + EMOJI_UNIT + ")*", // an emoji, or several joined
    "gu"
  );

  var X_LIGHT_RANGES = [
    [0x0000, 0x10ff],
    [0x2000, 0x200d],
    [0x2010, 0x201f],
    [0x2032, 0x2037],
  ];
  var X_EMOJI_WEIGHT = 2;

  var ZWJ = "\u200d";
  var EXTEND_RE = /^[\p{M}\u200c\u200d\ufe00-\ufe0f\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}\u1160-\u11ff\ud7b0-\ud7ff]$/u;
  var CONTROL_RE = /^\p{Cc}$/u;
  var LETTER_OTHER_RE = /^\p{Lo}$/u;
  // Viramas that join two consonants (Devanagari, Bengali, Gujarati, Oriya, Telugu,
  // Malayalam); each script has a block of 128 code points, so code >> 7 names it.
  var LINKING_VIRAMAS = [0x094d, 0x09cd, 0x0acd, 0x0b4d, 0x0c4d, 0x0d4d];

  var MASTODON_MENTION_RE = /(^|[^=/\p{L}\p{N}_])@([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@[\p{L}\p{N}_.-]*[\p{L}\p{N}_]/gu;

  var segmenter = null;
  if (typeof Intl !== "undefined" && typeof Intl.Segmenter === "function") {
    segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  }

  function has(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  // [piece, isMatch] pairs: the matches of a global regex and the gaps between them.
  function split(regex, text, pieceOf) {
    var pieces = [];
    var start = 0;
    var match;
    regex.lastIndex = 0;
    while ((match = regex.exec(text)) !== null) {
      if (match[0] === "") {
        regex.lastIndex += 1;
        continue;
      }
      var piece = pieceOf ? pieceOf(match) : { index: match.index, text: match[0] };
      pieces.push([text.slice(start, piece.index), false]);
      pieces.push([piece.text, true]);
      start = piece.index + piece.text.length;
    }
    pieces.push([text.slice(start), false]);
    return pieces;
  }

  // The links of a text: the URL group of each match, without trailing punctuation.
  function urlPieces(text) {
    return split(URL_RE, text, function (match) {
      var url = match[2];
      while (URL_TRAILING_PUNCTUATION.test(url)) {
        url = url.slice(0, -1);
      }
      return { index: match.index + match[1].length, text: url };
    });
  }

  function xWeight(character) {
    var code = character.codePointAt(0);
    for (var i = 0; i < X_LIGHT_RANGES.length; i++) {
      if (code >= X_LIGHT_RANGES[i][0] && code <= X_LIGHT_RANGES[i][1]) {
        return 1;
      }
    }
    return 2;
  }

  function xLength(text) {
    var length = 0;
    urlPieces(text.normalize("NFC")).forEach(function (urlPiece) {
      if (urlPiece[1]) {
        length += URL_LENGTH;
        return;
      }
      split(EMOJI_RE, urlPiece[0]).forEach(function (part) {
        if (part[1]) {
          length += X_EMOJI_WEIGHT;
          return;
        }
        for (var character of part[0]) {
          length += xWeight(character);
        }
      });
    });
    return length;
  }

  function isRegionalIndicator(character) {
    var code = character.codePointAt(0);
    return code >= 0x1f1e6 && code <= 0x1f1ff;
  }

  // Grapheme clusters for a browser without Intl.Segmenter (before 2024): an approximation
  // that holds for Latin, Cyrillic, Arabic, Indic and CJK text and for emoji, not for Thai,
  // Lao, Khmer or Myanmar. The server counts Unicode's clusters (counting._grapheme_count).
  function approximateGraphemeCount(text) {
    var characters = Array.from(text);
    var count = 0;
    var index = 0;
    var end = characters.length;
    while (index < end) {
      var character = characters[index];
      index += 1;
      count += 1;
      if (character === "\r" && characters[index] === "\n") {
        index += 1;
        continue;
      }
      if (CONTROL_RE.test(character)) {
        continue;
      }
      if (isRegionalIndicator(character) && index < end && isRegionalIndicator(characters[index])) {
        index += 1;
      }
      var pictographic = PICTOGRAPHIC_RE.test(character);
      var viramaBlock = null; // the script block of a virama just taken in, if any
      while (index < end) {
        var following = characters[index];
        var code = following.codePointAt(0);
        if (following === ZWJ && pictographic && index + 1 < end && PICTOGRAPHIC_RE.test(characters[index + 1])) {
          index += 2;
        } else if (code >> 7 === viramaBlock && LETTER_OTHER_RE.test(following)) {
          index += 1; // a consonant joined by the virama
          viramaBlock = null;
        } else if (EXTEND_RE.test(following)) {
          if (LINKING_VIRAMAS.indexOf(code) !== -1) {
            viramaBlock = code >> 7;
          }
          index += 1;
        } else {
          break;
        }
      }
    }
    return count;
  }

  function graphemeCount(text) {
    if (!segmenter) {
      return approximateGraphemeCount(text);
    }
    var count = 0;
    for (var segment of segmenter.segment(text)) {
      count += 1;
    }
    return count;
  }

  function mastodonLength(text) {
    var countable = urlPieces(text)
      .map(function (piece) {
        var isShortened = piece[1] && piece[0].slice(0, 4).toLowerCase() === "http";
        return isShortened ? "x".repeat(URL_LENGTH) : piece[0];
      })
      .join("");
    countable = countable.replace(MASTODON_MENTION_RE, "$1@$2");
    return Array.from(countable).length;
  }

  function count(text, platform) {
    if (!has(LIMITS, platform)) {
      throw new RangeError("Unknown platform " + JSON.stringify(platform));
    }
    text = String(text).replace(/\r\n/g, "\n");
    if (platform === "x") {
      return xLength(text);
    }
    if (platform === "bluesky") {
      return graphemeCount(text);
    }
    if (platform === "mastodon") {
      return mastodonLength(text);
    }
    return Array.from(text).length;
  }

  // Python's str.strip(): Django strips every submitted text with it, and sending.py again.
  var PY_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var PY_STRIP_RE = new RegExp("^" + PY_SPACE + "+|" + PY_SPACE + "+$", "g");

  function strip(text) {
    return String(text || "").replace(PY_STRIP_RE, "");
  }

  // The languages a channel publishes and the publication has a text in, in the channel's
  // order; a one-language channel takes only its first (sending.languages_sent).
  function languagesSent(plan, texts) {
    var written = plan.languages.filter(function (language) {
      return has(texts, language) && strip(texts[language]) !== "";
    });
    if (plan.plan === "single") {
      return written.filter(function (language) {
        return language === plan.languages[0];
      });
    }
    return written;
  }

  // The text of `language` on `platform`: its own text there when it has one (sending.text_for).
  function textFor(language, platform, texts, overrides) {
    var own = strip((overrides && has(overrides, language) && overrides[language][platform]) || "");
    return own || strip(texts[language] || "");
  }

  // The platform posts a channel makes of the texts, in order: sending.parts_for, without
  // the images. `plan`: {platform, plan, languages, separator}; `texts`: {language: text};
  // `overrides`: {language: {platform: text}}.
  function partsFor(plan, texts, overrides) {
    var platform = plan.platform;
    var languages = languagesSent(plan, texts).filter(function (language) {
      return textFor(language, platform, texts, overrides) !== "";
    });
    if (!languages.length) {
      return [];
    }
    var groups =
      plan.plan === "combined"
        ? [languages]
        : languages.map(function (language) {
            return [language];
          });
    return groups.map(function (group, index) {
      var text = group
        .map(function (language) {
          return textFor(language, platform, texts, overrides);
        })
        .join(plan.separator);
      return { number: index + 1, languages: group, text: text, used: count(text, platform), limit: LIMITS[platform] };
    });
  }

  // Whether the channel publishes `language` at all.
  function publishes(plan, language) {
    if (plan.plan === "single") {
      return plan.languages[0] === language;
    }
    return plan.languages.indexOf(language) !== -1;
  }

  window.CalendarCounter = Object.freeze({ count: count, partsFor: partsFor, strip: strip, LIMITS: LIMITS });

  // ---- The page ----

  var FORMATS = {
    label: "%(channel)s: %(used)s / %(limit)s",
    part: "%(channel)s, post %(number)s of %(total)s: %(used)s / %(limit)s",
    combined: "%(channel)s, combined: %(used)s / %(limit)s",
    leftOut: "%(channel)s: does not publish this language",
    over: "%(over)s too many",
  };
  var FORMAT_ATTRIBUTES = {
    label: "data-label-format",
    part: "data-part-format",
    combined: "data-combined-format",
    leftOut: "data-left-out-format",
    over: "data-over-format",
  };

  // Python's "%(name)s" formatting, as the translated strings are written; "%%" is "%".
  function format(template, values) {
    return template.replace(/%%|%\((\w+)\)s/g, function (whole, name) {
      if (whole === "%%") {
        return "%";
      }
      return has(values, name) ? String(values[name]) : whole;
    });
  }

  function formatsOf(list) {
    var formats = {};
    Object.keys(FORMATS).forEach(function (key) {
      formats[key] = list.getAttribute(FORMAT_ATTRIBUTES[key]) || FORMATS[key];
    });
    return formats;
  }

  function channelsOf(textarea) {
    try {
      var plans = JSON.parse(textarea.getAttribute("data-count-channels") || "[]");
      return Array.isArray(plans)
        ? plans.filter(function (plan) {
            return plan && has(LIMITS, plan.platform) && Array.isArray(plan.languages);
          })
        : [];
    } catch (error) {
      return [];
    }
  }

  function listFor(textarea) {
    if (!textarea.id) {
      return null;
    }
    var lists = document.querySelectorAll("ul.char-counts[data-counts-for]");
    for (var i = 0; i < lists.length; i++) {
      if (lists[i].getAttribute("data-counts-for") === textarea.id) {
        return lists[i];
      }
    }
    return null;
  }

  // {language: text} and {language: {platform: text}} of the texts counted together, each
  // stripped as the server will strip it.
  function textsOf(textareas) {
    var texts = {};
    var overrides = {};
    textareas.forEach(function (area) {
      var language = area.getAttribute("data-count-language");
      texts[language] = strip(area.value);
      overrides[language] = {};
      var form = area.form;
      Object.keys(LIMITS).forEach(function (platform) {
        var own = form && area.name ? form.elements.namedItem(area.name + "__" + platform) : null;
        if (own && typeof own.value === "string") {
          overrides[language][platform] = strip(own.value);
        }
      });
    });
    return { texts: texts, overrides: overrides };
  }

  // What one list shows for one channel: [key, text, over].
  function line(plan, parts, language, formats) {
    var channel = plan.label || plan.platform;
    var key = String(plan.channel_id) + ":" + plan.platform;
    if (!publishes(plan, language)) {
      return [key + ":out", format(formats.leftOut, { channel: channel }), 0];
    }
    var part = null;
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].languages.indexOf(language) !== -1) {
        part = parts[i];
      }
    }
    var values = {
      channel: channel,
      used: part ? part.used : 0,
      limit: LIMITS[plan.platform],
      number: part ? part.number : 0,
      total: parts.length,
    };
    var template = formats.label;
    if (part && part.languages.length > 1) {
      template = formats.combined;
    } else if (part && parts.length > 1) {
      template = formats.part;
    }
    var over = Math.max(0, values.used - values.limit);
    var text = format(template, values);
    if (over > 0) {
      text += " (" + format(formats.over, { over: over }) + ")";
    }
    return [key, text, over];
  }

  function update(textarea, texts) {
    var list = listFor(textarea);
    if (!list) {
      return;
    }
    var language = textarea.getAttribute("data-count-language");
    var formats = formatsOf(list);
    var lines = channelsOf(textarea).map(function (plan) {
      return line(plan, partsFor(plan, texts.texts, texts.overrides), language, formats);
    });

    // Reuse the items when the channels are unchanged, and touch only the text that
    // changed: the list is a live region, and every change is read out.
    var items = list.children;
    var same = items.length === lines.length;
    for (var i = 0; same && i < lines.length; i++) {
      same = items[i].getAttribute("data-channel") === lines[i][0];
    }
    if (!same) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      lines.forEach(function (entry) {
        var item = document.createElement("li");
        item.setAttribute("data-channel", entry[0]);
        list.appendChild(item);
      });
    }
    lines.forEach(function (entry, index) {
      var item = list.children[index];
      if (item.textContent !== entry[1]) {
        item.textContent = entry[1];
      }
      item.classList.toggle("over", entry[2] > 0);
    });
  }

  function refreshAll() {
    var textareas = Array.prototype.slice.call(document.querySelectorAll("textarea[data-count-language]"));
    var texts = textsOf(textareas);
    textareas.forEach(function (area) {
      update(area, texts);
    });
    // The editor's language tabs show "over a limit" from these lists.
    document.dispatchEvent(new CustomEvent("counter:counted"));
  }

  // Listening on document also covers textareas that arrive later (an HTMX swap). Any
  // text may change every list: a combined post holds them all.
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && target.tagName === "TEXTAREA" && document.querySelector("textarea[data-count-language]")) {
      refreshAll();
    }
  });
  document.addEventListener("counter:refresh", refreshAll);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refreshAll);
  } else {
    refreshAll();
  }
})();
