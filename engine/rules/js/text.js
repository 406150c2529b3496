// Text for the Tessera rule runtime in the browser: case folding, blanks, patterns.
//
// Case-insensitive text compares Unicode lower case (full mapping, final
// sigma in context), as Python's str.lower() and PostgreSQL's ICU lower() do:
// toLowerCase() is exactly that, so "Straße" does not contain "STRASSE" here
// either. The browser's Unicode version decides letters newer than Python's. `matches` takes RE2 syntax:
// translate() rewrites an RE2 pattern into a JS one with the same meaning
// (`.` stops only at \n, \s is ASCII, (?m) lines end only at \n, \A \z,
// [[:alpha:]], \pL, \Q..\E), returns null where RE2 refuses the pattern (as
// Python's runtime gives null), and throws PatternUnsupported for RE2
// features with no JS twin (an inner (?i:...) group, (?U), \C).
(function (T) {
  "use strict";
  const N = T.N;

  function fold(text) {
    return text.toLowerCase();
  }

  // The blanks trim and "is empty" remove: runtime.BLANKS, the same set in Python and SQL.
  const SPACE = " \\t\\n\\r\\f\\v\\xa0\\u3000";
  const EDGES = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");

  function strip(text) {
    return text.replace(EDGES, "");
  }

  function contains(a, b) {
    if (T.nil(a, b)) return null;
    if (Array.isArray(a)) return a.some((x) => T.same(x, b));
    return fold(a).includes(fold(b));
  }

  function startsWith(a, b) {
    if (T.nil(a, b)) return null;
    return fold(a).startsWith(fold(b));
  }

  function endsWith(a, b) {
    if (T.nil(a, b)) return null;
    return fold(a).endsWith(fold(b));
  }

  function isNull(v) {
    return v === null || v === undefined;
  }

  function isEmpty(v) {
    if (v === null || v === undefined) return true;
    if (typeof v === "string") return strip(v) === "";
    if (Array.isArray(v)) return v.length === 0;
    if (T.isRecord(v)) return Object.keys(v).length === 0;
    return false;
  }

  // `before` is the old value read with the field's type, as runtime.py's changed() takes it.
  function changed(value, old, before) {
    if (old === null || old === undefined) return false;
    return !T.same(value, before);
  }

  function event(ctx, word) {
    return ctx.event === word;
  }

  function index(items, i) {
    if (T.nil(items, i) || typeof i === "boolean") return null;
    if (typeof items !== "string" && !Array.isArray(items)) return null;
    const list = typeof items === "string" ? Array.from(items) : items;
    let n = Number(N.trunc(i));
    if (n < 0) n += list.length;
    if (n < 0 || n >= list.length) return null;
    const v = list[n];
    return v === undefined ? null : v;
  }

  // ------------------------------------------------------------ patterns

  class PatternUnsupported extends Error {
    constructor(what) {
      super(`the browser cannot run this pattern the way RE2 does: ${what}`);
    }
  }
  const MAX_PATTERN_LENGTH = 1000;
  const POSIX = {
    alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7f", blank: "\\t ", cntrl: "\\x00-\\x1f\\x7f",
    digit: "0-9", graph: "!-~", lower: "a-z", print: " -~", punct: "!-\\/:-@\\[-`{-~",
    space: "\\t\\n\\v\\f\\r ", upper: "A-Z", word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
  };
  const SYNTAX = "^$\\.*+?()[]{}|/";
  const CATEGORIES = /^(?:[LMNPSZC][a-z]?|Any)$/;
  const SIMPLE = { n: "\\n", t: "\\t", r: "\\r", f: "\\f", v: "\\v", a: "\\x07", d: "\\d", D: "\\D",
    w: "\\w", W: "\\W", b: "\\b", B: "\\B" };

  function literal(ch) {
    return SYNTAX.includes(ch) || ch === "-" ? "\\" + ch : ch;
  }

  function property(p, negated) {
    if (p === "Any") return negated ? "[^\\s\\S]" : "[\\s\\S]";
    const name = CATEGORIES.test(p) ? p : `Script=${p}`;
    return `\\${negated ? "P" : "p"}{${name}}`;
  }

  // One escape at src[i] (the backslash); returns [js, next index] or null if RE2 refuses it.
  function escape(src, i, inClass) {
    const c = src[i + 1];
    if (c === undefined) return null;
    if (SIMPLE[c]) {
      if (inClass && "bB".includes(c)) return null;
      // Assertions are wrapped so that RE2's `\b*` stays a valid (empty) repetition in JS.
      return ["bB".includes(c) ? `(?:${SIMPLE[c]})` : SIMPLE[c], i + 2];
    }
    if (c === "s") return [inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]", i + 2];
    if (c === "S") {
      if (inClass) throw new PatternUnsupported("\\S inside [...]");
      return ["[^\\t\\n\\f\\r ]", i + 2];
    }
    if (c === "A" || c === "z") {
      if (inClass) return null;
      return [c === "A" ? "(?:(?<![\\s\\S]))" : "(?:(?![\\s\\S]))", i + 2];
    }
    if (c === "p" || c === "P") {
      let name, next;
      if (src[i + 2] === "{") {
        const end = src.indexOf("}", i + 3);
        if (end < 0) return null;
        name = src.slice(i + 3, end);
        next = end + 1;
      } else {
        name = src[i + 2];
        next = i + 3;
      }
      if (!name) return null;
      let negated = c === "P";
      if (name[0] === "^") {
        negated = !negated;
        name = name.slice(1);
      }
      return [property(name, negated), next];
    }
    if (c === "x") {
      let hex, next;
      if (src[i + 2] === "{") {
        const end = src.indexOf("}", i + 3);
        if (end < 0) return null;
        hex = src.slice(i + 3, end);
        next = end + 1;
      } else {
        hex = src.slice(i + 2, i + 4);
        next = i + 4;
        if (hex.length < 2) return null;
      }
      if (!/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) return null;
      return [`\\u{${hex}}`, next];
    }
    if (/[0-7]/.test(c)) {
      // RE2 takes \0, \00, \000 (octal) and \1-\7 only after another digit; \1 is a backreference.
      if (c !== "0") return null;
      const m = /^[0-7]{1,3}/.exec(src.slice(i + 1));
      return [`\\u{${parseInt(m[0], 8).toString(16)}}`, i + 1 + m[0].length];
    }
    if (c === "C") throw new PatternUnsupported("\\C");
    if (/[A-Za-z0-9_]/.test(c)) return null;
    const cp = src.codePointAt(i + 1);
    return [SYNTAX.includes(c) || c === "-" ? "\\" + c : `\\u{${cp.toString(16)}}`, i + 1 + (cp > 0xffff ? 2 : 1)];
  }

  function translateClass(src, i, out) {
    // src[i] is "["
    let j = i + 1;
    let body = "";
    if (src[j] === "^") {
      body += "^";
      j++;
    }
    let first = true;
    for (;;) {
      if (j >= src.length) return null;
      const c = src[j];
      if (c === "]" && !first) break;
      first = false;
      if (c === "[" && src[j + 1] === ":") {
        const end = src.indexOf(":]", j + 2);
        if (end < 0) return null;
        let name = src.slice(j + 2, end);
        const negated = name[0] === "^";
        if (negated) name = name.slice(1);
        if (!POSIX[name]) return null;
        if (negated) throw new PatternUnsupported("[[:^class:]]");
        body += POSIX[name];
        j = end + 2;
        continue;
      }
      if (c === "\\") {
        const e = escape(src, j, true);
        if (!e) return null;
        body += e[0];
        j = e[1];
        continue;
      }
      const cp = src.codePointAt(j);
      const ch = String.fromCodePoint(cp);
      body += ch === "-" ? "-" : "[]\\^".includes(ch) ? "\\" + ch : ch;
      j += ch.length;
    }
    out.push(`[${body}]`);
    return j + 1;
  }

  // RE2 source -> [JS source, JS flags]; null when RE2 would refuse the pattern.
  function translate(src) {
    let flags = "u";
    let multiline = false;
    let dotall = false;
    let i = 0;
    const lead = /^\(\?([imsU]+)\)/.exec(src);
    if (lead) {
      if (lead[1].includes("U")) throw new PatternUnsupported("(?U)");
      if (lead[1].includes("i")) flags += "i";
      multiline = lead[1].includes("m");
      dotall = lead[1].includes("s");
      i = lead[0].length;
    }
    const out = [];
    let depth = 0;
    // JS regular expressions backtrack: a repeated group that itself repeats or
    // alternates, like (a+)+ or (a|aa)*, can take exponential time, so it is refused.
    const groups = [{ rep: false, alt: false }];
    let last = null;
    const repeat = (bounded) => {
      if (last && (last.rep || last.alt) && !bounded) {
        throw new PatternUnsupported("a repeated group that itself repeats or has alternatives");
      }
      groups[groups.length - 1].rep = true;
      last = null;
    };
    while (i < src.length) {
      const c = src[i];
      const atom = last;
      last = null;
      if (c === "*" || c === "+") {
        last = atom;
        repeat(false);
        out.push(c);
        i += 1;
        continue;
      }
      if (c === "|") groups[groups.length - 1].alt = true;
      if (c === "\\") {
        if (src[i + 1] === "Q") {
          const end = src.indexOf("\\E", i + 2);
          const text = src.slice(i + 2, end < 0 ? src.length : end);
          for (const ch of text) out.push(SYNTAX.includes(ch) ? "\\" + ch : ch);
          i = end < 0 ? src.length : end + 2;
          continue;
        }
        const e = escape(src, i, false);
        if (!e) return null;
        out.push(e[0]);
        i = e[1];
      } else if (c === "[") {
        const next = translateClass(src, i, out);
        if (next === null) return null;
        i = next;
      } else if (c === "(") {
        if (src[i + 1] === "?") {
          const rest = src.slice(i + 2);
          if (rest.startsWith(":")) {
            out.push("(?:");
            i += 3;
          } else if (/^P?<[A-Za-z_][A-Za-z0-9_]*>/.test(rest)) {
            const m = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
            out.push(`(?<${m[1]}>`);
            i += 2 + m[0].length;
          } else if (/^[imsU-]+[:)]/.test(rest)) {
            throw new PatternUnsupported("flags inside the pattern");
          } else {
            return null; // lookaround, backreference by name, ...: RE2 refuses them
          }
        } else {
          out.push("(");
          i += 1;
        }
        depth += 1;
        groups.push({ rep: false, alt: false });
      } else if (c === ")") {
        if (depth === 0) return null;
        depth -= 1;
        const inner = groups.pop();
        const outer = groups[groups.length - 1];
        outer.rep = outer.rep || inner.rep;
        outer.alt = outer.alt || inner.alt;
        last = inner;
        out.push(")");
        i += 1;
      } else if (c === "{") {
        const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(src.slice(i));
        if (m) {
          if (+m[1] > 1000 || (m[3] && +m[3] > 1000) || (m[3] && +m[3] < +m[1])) return null;
          last = atom;
          repeat(!m[2]);
          out.push(m[0]);
          i += m[0].length;
        } else {
          out.push("\\{");
          i += 1;
        }
      } else if (c === "}" || c === "]") {
        out.push("\\" + c);
        i += 1;
      } else if (c === ".") {
        out.push(dotall ? "[\\s\\S]" : "[^\\n]");
        i += 1;
      } else if (c === "^" && multiline) {
        out.push("(?:(?<![^\\n]))");
        i += 1;
      } else if (c === "$" && multiline) {
        out.push("(?:(?![^\\n]))");
        i += 1;
      } else if (c === "^" || c === "$") {
        out.push(c === "^" ? "(?:(?<![\\s\\S]))" : "(?:(?![\\s\\S]))");
        i += 1;
      } else {
        const cp = src.codePointAt(i);
        const ch = String.fromCodePoint(cp);
        out.push(ch === "/" ? "\\/" : ch);
        i += ch.length;
      }
    }
    if (depth !== 0) return null;
    return [out.join(""), flags];
  }

  const cache = new Map();

  function compilePattern(src) {
    if (cache.has(src)) return cache.get(src);
    let found = null;
    if (Array.from(src).length <= MAX_PATTERN_LENGTH) {
      const js = translate(src);
      if (js) {
        try {
          found = new RegExp(js[0], js[1]);
        } catch (e) {
          found = null;
        }
      }
    }
    if (cache.size > 1000) cache.clear();
    cache.set(src, found);
    return found;
  }

  function matches(a, pattern) {
    if (T.nil(a, pattern)) return null;
    const re = compilePattern(pattern);
    return re === null ? null : re.test(a);
  }

  Object.assign(T, { fold, strip, contains, startsWith, endsWith, isNull, isEmpty, changed, event,
    index, matches, translate, compilePattern, PatternUnsupported, MAX_PATTERN_LENGTH });
})((globalThis.TesseraRules = globalThis.TesseraRules || {}));
