// The runtime compiled rule expressions call in the browser: the twin of engine/rules/runtime.py.
//
// Every helper here mirrors one in runtime.py or functions.py and must give
// the same answer: SQL-style nulls, Kleene and/or/not, Unicode case folding
// for contains/starts with/ends with, exact decimals (decimal.js), dates and
// zone-aware datetimes (time.js). Values cross the boundary as: null, true,
// false, BigInt (a Python int), Dec (a Python Decimal), string, Day, Moment,
// Span, arrays and plain objects (records). T.exact() turns any of them into
// plain JSON that says exactly what the value is, for tests and for callers
// that need the digits; T.plain() gives the nearest plain JS value for display.
(function (T) {
  "use strict";
  const N = T.N;
  const tm = T.time;
  const { Day, Moment, Span, Dec } = T;

  // ------------------------------------------------------------ context

  const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  // A bundle's business_hours as BusinessCalendar.from_config reads it ({days: [mon, ...],
  // opens: "09:00", closes: "18:00", timezone, holidays: [YYYY-MM-DD], workdays: [...]}),
  // in the form functions.js walks: ISO weekdays, minutes of the day, sets of day numbers.
  function workingCalendar(c, tz) {
    const minutes = (text, dflt) => {
      const [h, m] = String(text || dflt).split(":");
      return parseInt(h, 10) * 60 + parseInt(m, 10);
    };
    const dayset = (list) => new Set((list || []).map((d) => tm.parseDay(String(d)).d));
    const names = c.days && c.days.length ? c.days : WEEKDAYS.slice(0, 5);
    return {
      days: names.map((d) => WEEKDAYS.indexOf(String(d).toLowerCase().slice(0, 3)) + 1),
      opens: minutes(c.opens, "09:00"),
      closes: minutes(c.closes, "18:00"),
      tz: c.timezone || tz,
      holidays: dayset(c.holidays),
      workdays: dayset(c.workdays),
    };
  }

  // ctx: {tz, now (ISO text or a function giving one), event, businessHours, calendar,
  //       loader(entity, id), users(name), records: {entity: {id: record}}, userTable: {name: record}}
  function context(options) {
    const o = options || {};
    const ctx = {
      tz: o.tz || "UTC",
      event: o.event === undefined ? null : o.event,
      businessHours: o.businessHours || [9, 18],
      calendar: o.calendar ? workingCalendar(o.calendar, o.tz || "UTC") : null,
      loader: o.loader || (o.records ? (entity, id) => (o.records[entity] || {})[String(id)] || null : null),
      users: o.users || (o.userTable ? (name) => o.userTable[name] || null : null),
    };
    ctx.now = function () {
      const raw = typeof o.now === "function" ? o.now() : o.now;
      if (raw instanceof Moment) return raw;
      const text = raw === undefined || raw === null ? new Date().toISOString() : String(raw);
      return tm.parseMoment(text, ctx.tz);
    };
    ctx.today = function () {
      return tm.dayOf(tm.inZone(ctx.now(), ctx.tz));
    };
    return ctx;
  }

  // ------------------------------------------------------------ reading values

  function isRecord(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v) &&
      !(v instanceof Dec || v instanceof Day || v instanceof Moment || v instanceof Span);
  }

  function get(record, key) {
    if (!isRecord(record)) return null;
    const v = record[key];
    return v === undefined ? null : v;
  }

  function nav(value, entity, ctx) {
    if (value === null || value === undefined) return null;
    if (isRecord(value)) return value;
    if (entity === "@user") {
      const found = ctx.users ? ctx.users(value) : null;
      return found || { name: value };
    }
    const found = ctx.loader ? ctx.loader(entity, value) : null;
    return found === undefined ? null : found;
  }

  function asNumber(v) {
    if (typeof v === "boolean") return null;
    return v === undefined ? null : N.num(v);
  }

  function asDate(v, ctx) {
    if (v === null || v === undefined || v instanceof Day) return v === undefined ? null : v;
    if (v instanceof Moment) return tm.dayOf(tm.inZone(v, ctx.tz));
    if (typeof v === "string") return tm.parseDay(v.slice(0, 10));
    return null;
  }

  function asDatetime(v, ctx) {
    if (v === null || v === undefined) return null;
    if (v instanceof Moment) return v;
    if (v instanceof Day) return tm.momentFromDay(v, ctx.tz);
    if (typeof v === "string") return tm.parseMoment(v, ctx.tz);
    return null;
  }

  function asDuration(v) {
    if (v === null || v === undefined || v instanceof Span) return v === undefined ? null : v;
    if (typeof v !== "boolean" && N.isNum(v)) return new Span(tm.roundEven(N.toNumber(v) * 1e6));
    return null;
  }

  // ------------------------------------------------------------ logic

  function truth(v) {
    return v === true;
  }

  function and(...values) {
    let unknown = false;
    for (const v of values) {
      if (v === false) return false;
      if (v === null || v === undefined) unknown = true;
    }
    return unknown ? null : true;
  }

  function or(...values) {
    let unknown = false;
    for (const v of values) {
      if (v === true) return true;
      if (v === null || v === undefined) unknown = true;
    }
    return unknown ? null : false;
  }

  function not(v) {
    return v === null || v === undefined ? null : !v;
  }

  // ------------------------------------------------------------ arithmetic

  function nil(...values) {
    return values.some((v) => v === null || v === undefined);
  }

  function shift(value, span) {
    if (value instanceof Moment) return new Moment(value.w + span.us, value.z);
    return new Day(value.d + tm.floorDiv(span.us, tm.US_DAY));
  }

  function add(a, b) {
    if (nil(a, b)) return null;
    if ((a instanceof Day || a instanceof Moment) && b instanceof Span) return shift(a, b);
    if (a instanceof Span && (b instanceof Day || b instanceof Moment)) return shift(b, a);
    if (a instanceof Span && b instanceof Span) return new Span(a.us + b.us);
    if (typeof a === "string" && typeof b === "string") return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
    return N.add(a, b);
  }

  function sub(a, b) {
    if (nil(a, b)) return null;
    if ((a instanceof Day || a instanceof Moment) && b instanceof Span) return shift(a, new Span(-b.us));
    if (a instanceof Moment && b instanceof Moment) {
      return new Span(a.z === b.z ? a.w - b.w : tm.instant(a) - tm.instant(b));
    }
    if (a instanceof Day && b instanceof Day) return new Span((a.d - b.d) * tm.US_DAY);
    if (a instanceof Span && b instanceof Span) return new Span(a.us - b.us);
    return N.sub(a, b);
  }

  function mul(a, b) {
    if (nil(a, b)) return null;
    if (a instanceof Span) return new Span(tm.roundEven(a.us * N.toNumber(b)));
    if (b instanceof Span) return new Span(tm.roundEven(b.us * N.toNumber(a)));
    return N.mul(a, b);
  }

  function div(a, b) {
    if (nil(a, b) || (N.isNum(b) && N.isZero(b))) return null;
    if (a instanceof Span) return new Span(tm.roundEven(a.us / N.toNumber(b)));
    return N.div(a, b);
  }

  function mod(a, b) {
    if (nil(a, b) || (N.isNum(b) && N.isZero(b))) return null;
    return N.mod(a, b);
  }

  function neg(a) {
    if (nil(a)) return null;
    return a instanceof Span ? new Span(-a.us) : N.neg(a);
  }

  // ------------------------------------------------------------ comparison

  // Python compares text by code point; JS's < compares UTF-16 units.
  function textCmp(a, b) {
    if (a === b) return 0;
    const x = Array.from(a);
    const y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i].codePointAt(0) < y[i].codePointAt(0) ? -1 : 1;
    }
    return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
  }

  function momentCmp(a, b) {
    const x = a.z === b.z ? a.w : tm.instant(a);
    const y = a.z === b.z ? b.w : tm.instant(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  class Unordered extends TypeError {}

  // Python's ordering of two values of the same kind; raises when they have none.
  function order(a, b) {
    if (N.isNum(a) && N.isNum(b) && typeof a !== "boolean") return N.cmp(a, b);
    if (typeof a === "string" && typeof b === "string") return textCmp(a, b);
    if (a instanceof Day && b instanceof Day) return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
    if (a instanceof Moment && b instanceof Moment) return momentCmp(a, b);
    if (a instanceof Span && b instanceof Span) return a.us < b.us ? -1 : a.us > b.us ? 1 : 0;
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (!same(a[i], b[i])) return order(a[i], b[i]);
      }
      return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
    }
    throw new Unordered("these values cannot be ordered");
  }

  // Python's ==: values of different kinds are simply unequal.
  function same(a, b) {
    if (a === b) return true;
    if (a === null || b === null || a === undefined || b === undefined) return false;
    if (typeof a === "boolean" || typeof b === "boolean") return false;
    if (N.isNum(a) && N.isNum(b)) return N.cmp(a, b) === 0;
    if (typeof a === "string" || typeof b === "string") return false;
    if (a instanceof Day || b instanceof Day) return a instanceof Day && b instanceof Day && a.d === b.d;
    if (a instanceof Moment || b instanceof Moment) {
      return a instanceof Moment && b instanceof Moment && momentCmp(a, b) === 0;
    }
    if (a instanceof Span || b instanceof Span) return a instanceof Span && b instanceof Span && a.us === b.us;
    if (Array.isArray(a) || Array.isArray(b)) {
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    }
    if (isRecord(a) && isRecord(b)) {
      const ka = Object.keys(a).filter((k) => a[k] !== undefined);
      const kb = Object.keys(b).filter((k) => b[k] !== undefined);
      return ka.length === kb.length && ka.every((k) => k in b && same(a[k], b[k]));
    }
    return false;
  }

  const eq = (a, b) => (nil(a, b) ? null : same(a, b));
  const ne = (a, b) => (nil(a, b) ? null : !same(a, b));
  const lt = (a, b) => (nil(a, b) ? null : order(a, b) < 0);
  const le = (a, b) => (nil(a, b) ? null : order(a, b) <= 0);
  const gt = (a, b) => (nil(a, b) ? null : order(a, b) > 0);
  const ge = (a, b) => (nil(a, b) ? null : order(a, b) >= 0);

  function between(v, lo, hi) {
    return and(ge(v, lo), le(v, hi));
  }

  function inList(value, items) {
    if (nil(value, items)) return null;
    let unknown = false;
    for (const item of items) {
      if (item === null || item === undefined) unknown = true;
      else if (same(item, value)) return true;
    }
    return unknown ? null : false;
  }

  function notIn(value, items) {
    return not(inList(value, items));
  }

  T.order = order;
  T.same = same;
  T.Unordered = Unordered;
  Object.assign(T, { context, get, nav, asNumber, asDate, asDatetime, asDuration, truth, and, or,
    not, add, sub, mul, div, mod, neg, eq, ne, lt, le, gt, ge, between, inList, notIn, nil,
    isRecord });
})((globalThis.TesseraRules = globalThis.TesseraRules || {}));
