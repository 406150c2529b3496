// The function registry's browser spellings, child-table aggregates and value export.
//
// T.fn[name] is called as (ctx, ...args), like a Function's `py` in
// functions.py; nullSafe() mirrors the Python wrapper that gives null when
// any argument is null and reads JSON floats as decimals. Aggregates mirror
// runtime.py's agg_* helpers. exact() is the lossless JSON form tests
// compare with Python's; plain() is the display form.
(function (T) {
  "use strict";
  const N = T.N;
  const tm = T.time;
  const { Day, Moment, Span, Dec } = T;

  // ------------------------------------------------------------ child tables

  function rows(v) {
    return Array.isArray(v) ? v : [];
  }

  function values(items, fn) {
    return rows(items).map((row) => T.asNumber(fn(row))).filter((v) => v !== null && v !== undefined);
  }

  function least(list, sign) {
    let best = list[0];
    for (const v of list.slice(1)) if (sign * T.order(v, best) < 0) best = v;
    return best;
  }

  const agg = {
    any: (items, fn) => (rows(items).length ? T.or(...rows(items).map(fn)) : false),
    all: (items, fn) => (rows(items).length ? T.and(...rows(items).map(fn)) : true),
    count: (items, fn) => BigInt(fn ? rows(items).filter((row) => fn(row) === true).length : rows(items).length),
    sum: (items, fn) => values(items, fn).reduce((a, b) => T.add(a, b), 0n),
    min: (items, fn) => {
      const v = values(items, fn);
      return v.length ? least(v, 1) : null;
    },
    max: (items, fn) => {
      const v = values(items, fn);
      return v.length ? least(v, -1) : null;
    },
    avg: (items, fn) => {
      const v = values(items, fn);
      return v.length ? N.div(v.reduce((a, b) => T.add(a, b), 0n), BigInt(v.length)) : null;
    },
  };

  function clampTotal(total, cap) {
    if (T.nil(cap, total)) return total;
    if (N.cmp(cap, 0n) >= 0) return N.cmp(total, cap) <= 0 ? total : cap;
    return N.cmp(total, cap) >= 0 ? total : cap;
  }

  // A decision table's hit policy over the rows that matched, in order ([index, value] pairs).
  function hit(name, policy, matched, options) {
    if (policy === "first") return matched.length ? matched[0][1] : null;
    if (policy === "unique") {
      if (matched.length > 1) {
        const rowsText = matched.map(([i]) => String(i + 1)).join(" and ");
        throw new Error(`Table '${name}' is 'unique' but rows ${rowsText} all match this record.`);
      }
      return matched.length ? matched[0][1] : null;
    }
    if (policy === "collect") return matched.map(([, v]) => v);
    if (policy === "sum") {
      if (!matched.length) return null;
      return matched.map(([, v]) => v).filter((v) => v !== null).reduce((a, b) => T.add(a, b), 0n);
    }
    if (policy === "priority") {
      if (!matched.length) return null;
      if (!options || !options.length) return matched[0][1];
      const rank = ([i, v]) => {
        const at = options.findIndex((o) => T.same(o, v));
        return [at < 0 ? options.length : at, i];
      };
      let best = matched[0];
      for (const m of matched.slice(1)) {
        const [a, b] = [rank(m), rank(best)];
        if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) best = m;
      }
      return best[1];
    }
    throw new Error(`unknown hit policy ${policy}`);
  }

  // ------------------------------------------------------------ text of values

  // str() as Python's _text and message interpolation write a value.
  function text(v) {
    if (v === true) return "true";
    if (v === false) return "false";
    if (v instanceof Moment) return tm.isoformat(v);
    if (v instanceof Span) return tm.spanText(v);
    if (typeof v === "number") return String(N.num(v));
    if (typeof v === "string") return v;
    if (Array.isArray(v) || T.isRecord(v)) throw new TypeError("lists and records have no text form here");
    return String(v);
  }

  function fmt(...parts) {
    return parts.map((p) => (p === null || p === undefined ? "" : typeof p === "string" ? p : text(p))).join("");
  }

  // ------------------------------------------------------------ functions

  function nullSafe(impl) {
    return (ctx, ...args) => (T.nil(...args) ? null : impl(ctx, ...args.map(T.asNumber)));
  }

  const int = (n) => Number(N.trunc(n));
  const cps = (s) => Array.from(s);
  const parts = (ctx, x) => (x instanceof Moment ? tm.dayOf(tm.inZone(x, ctx.tz)) : x);
  const ymd = (ctx, x) => tm.civil(parts(ctx, x).d);

  function isoWeek(day) {
    const weekday = ((day.d + 3) % 7 + 7) % 7; // 0 = Monday
    const thursday = day.d - weekday + 3;
    const [y] = tm.civil(thursday);
    return BigInt(Math.floor((thursday - tm.days(y, 1, 1)) / 7) + 1);
  }

  function addMonths(ctx, d, n) {
    const isMoment = d instanceof Moment;
    const dayCount = isMoment ? tm.floorDiv(d.w, tm.US_DAY) : d.d;
    const [y, m, day] = tm.civil(dayCount);
    const total = m - 1 + int(n);
    const year = y + Math.floor(total / 12);
    const month = (((total % 12) + 12) % 12) + 1;
    if (year < 1 || year > 9999) throw new RangeError("year is out of range");
    const target = tm.days(year, month, Math.min(day, tm.monthDays(year, month)));
    if (!isMoment) return new Day(target);
    return new Moment(d.w + (target - dayCount) * tm.US_DAY, d.z);
  }

  const UNITS = ["day", "week", "month", "quarter", "year"];

  function startDay(day, unit) {
    const [y, m] = tm.civil(day.d);
    if (unit === "day") return day;
    if (unit === "week") return new Day(day.d - ((((day.d + 3) % 7) + 7) % 7));
    if (unit === "month") return new Day(tm.days(y, m, 1));
    if (unit === "quarter") return new Day(tm.days(y, Math.floor((m - 1) / 3) * 3 + 1, 1));
    return new Day(tm.days(y, 1, 1));
  }

  function nextStart(day, unit) {
    const start = startDay(day, unit);
    if (unit === "day") return new Day(start.d + 1);
    if (unit === "week") return new Day(start.d + 7);
    return addMonths(null, start, { month: 1, quarter: 3, year: 12 }[unit]);
  }

  function period(ctx, d, unit, end) {
    unit = unit.toLowerCase();
    if (!UNITS.includes(unit)) return null;
    if (d instanceof Moment) {
      const local = tm.dayOf(tm.inZone(d, ctx.tz));
      const day = end ? nextStart(local, unit) : startDay(local, unit);
      return new Moment(day.d * tm.US_DAY - (end ? 1 : 0), ctx.tz);
    }
    return end ? new Day(nextStart(d, unit).d - 1) : startDay(d, unit);
  }

  function hoursSince(ctx, t) {
    const start = T.asDatetime(t, ctx);
    const seconds = T.sub(ctx.now(), start).us / 1e6;
    return N.div(T.decFromFloatExact(seconds), 3600n);
  }

  // The working calendar: ctx.calendar (a bundle's, as runtime.js's context() reads it)
  // or Monday to Friday within ctx.businessHours in ctx.tz, without holidays.
  function calendarOf(ctx) {
    if (ctx.calendar) return ctx.calendar;
    const [open, close] = ctx.businessHours;
    return { days: [1, 2, 3, 4, 5], opens: open * 60, closes: close * 60, tz: ctx.tz,
      holidays: new Set(), workdays: new Set() };
  }

  // Python's BusinessCalendar.window: a day's working time as wall-clock microseconds in
  // the calendar's zone, or null on a day off (day: days since 1970-01-01, a Thursday).
  function windowOf(cal, day) {
    if (cal.holidays.has(day)) return null;
    const iso = ((((day + 3) % 7) + 7) % 7) + 1;
    if (!cal.workdays.has(day) && !cal.days.includes(iso)) return null;
    const minute = 60e6;
    return [day * tm.US_DAY + cal.opens * minute, day * tm.US_DAY + cal.closes * minute];
  }

  // Python's _business_hours_since: BusinessCalendar.hours_between(t, now), rounded as
  // Decimal(str(round(hours, 6))).
  function businessHoursSince(ctx, t) {
    const cal = calendarOf(ctx);
    const start = tm.inZone(T.asDatetime(t, ctx), cal.tz);
    const end = tm.inZone(ctx.now(), cal.tz);
    if (end.w <= start.w) return new Dec(0n, 0);
    let us = 0;
    for (let day = tm.floorDiv(start.w, tm.US_DAY); day <= tm.floorDiv(end.w, tm.US_DAY); day++) {
      const found = windowOf(cal, day);
      if (!found) continue;
      const lo = Math.max(found[0], start.w);
      const hi = Math.min(found[1], end.w);
      if (hi > lo) us += hi - lo;
    }
    // Python: Decimal(str(round(seconds / 3600, 6))): six places, then the float's shortest text.
    const micro = BigInt(us);
    let q = micro / 3600n;
    const r = micro % 3600n;
    if (r * 2n > 3600n || (r * 2n === 3600n && q % 2n === 1n)) q += 1n;
    const shortest = String(Number(new Dec(q, -6).toString()));
    return T.dec(shortest.includes(".") || shortest.includes("e") ? shortest : shortest + ".0");
  }

  // Python's BusinessCalendar.add_hours: the instant h working hours after t (a due time),
  // on the bundle's calendar with its holidays and make-up days when the page was given it.
  function addBusinessHours(ctx, t, h) {
    const hours = N.toNumber(h);
    if (hours < 0) return null;
    const cal = calendarOf(ctx);
    const start = tm.inZone(T.asDatetime(t, ctx), cal.tz);
    const hour = 3600e6;
    let left = Math.round(hours * hour);
    let day = tm.floorDiv(start.w, tm.US_DAY);
    for (let n = 0; n < 3660; n++, day++) {
      const found = windowOf(cal, day);
      if (!found) continue;
      const lo = Math.max(found[0], start.w);
      const hi = found[1];
      if (hi < lo) continue;
      if (lo + left <= hi) return tm.inZone(new Moment(lo + left, cal.tz), ctx.tz);
      left -= hi - lo;
    }
    return null;
  }

  function pick(values, sign) {
    if (T.nil(...values)) return null;
    return least(values.map(T.asNumber), sign);
  }

  function replaceAll(s, a, b) {
    if (a === "") return cps(s).length ? b + cps(s).join(b) + b : b;
    return s.split(a).join(b);
  }

  const fn = {
    abs: nullSafe((ctx, x) => N.abs(x)),
    round: nullSafe((ctx, x, digits = 0n) => {
      const r = N.quantizeHalfUp(x, -int(digits));
      return int(digits) <= 0 ? N.trunc(r) : r;
    }),
    floor: nullSafe((ctx, x) => N.floor(x)),
    ceil: nullSafe((ctx, x) => N.ceil(x)),
    min: (ctx, ...v) => pick(v, 1),
    max: (ctx, ...v) => pick(v, -1),
    clamp: nullSafe((ctx, x, lo, hi) => {
      const m = T.order(x, hi) < 0 ? x : hi;
      return T.order(m, lo) > 0 ? m : lo;
    }),
    lower: nullSafe((ctx, s) => s.toLowerCase()),
    upper: nullSafe((ctx, s) => s.toUpperCase()),
    trim: nullSafe((ctx, s) => T.strip(s)),
    len: nullSafe((ctx, x) => BigInt(typeof x === "string" ? cps(x).length : x.length)),
    left: nullSafe((ctx, s, n) => cps(s).slice(0, Math.max(0, int(n))).join("")),
    right: nullSafe((ctx, s, n) => {
      const c = cps(s);
      const k = Math.max(0, int(n));
      return k ? c.slice(Math.max(0, c.length - k)).join("") : "";
    }),
    substr: (ctx, s, start, length = null) => {
      if (T.nil(s, start)) return null;
      const c = cps(s);
      const begin = Math.max(0, int(start) - 1);
      if (length === null || length === undefined) return c.slice(begin).join("");
      return c.slice(begin, begin + Math.max(0, int(length))).join("");
    },
    replace: nullSafe((ctx, s, a, b) => replaceAll(s, a, b)),
    concat: (ctx, ...v) => v.map((p) => (p === null || p === undefined ? "" : text(p))).join(""),
    today: (ctx) => ctx.today(),
    now: (ctx) => ctx.now(),
    date: nullSafe((ctx, x) => T.asDate(x, ctx)),
    year: nullSafe((ctx, x) => BigInt(ymd(ctx, x)[0])),
    month: nullSafe((ctx, x) => BigInt(ymd(ctx, x)[1])),
    quarter: nullSafe((ctx, x) => BigInt(Math.floor((ymd(ctx, x)[1] - 1) / 3) + 1)),
    week: nullSafe((ctx, x) => isoWeek(parts(ctx, x))),
    weekday: nullSafe((ctx, x) => BigInt(((((parts(ctx, x).d + 3) % 7) + 7) % 7) + 1)),
    days_between: nullSafe((ctx, a, b) => BigInt(parts(ctx, b).d - parts(ctx, a).d)),
    days_since: nullSafe((ctx, a) => BigInt(ctx.today().d - parts(ctx, a).d)),
    hours_since: nullSafe(hoursSince),
    business_hours_since: nullSafe(businessHoursSince),
    add_business_hours: nullSafe(addBusinessHours),
    add_days: nullSafe((ctx, d, n) =>
      d instanceof Moment
        ? new Moment(d.w + tm.roundEven(N.toNumber(n) * tm.US_DAY), d.z)
        : new Day(d.d + int(n))),
    add_months: nullSafe(addMonths),
    start_of: nullSafe((ctx, d, unit) => period(ctx, d, unit, false)),
    end_of: nullSafe((ctx, d, unit) => period(ctx, d, unit, true)),
    coalesce: (ctx, ...v) => {
      const found = v.find((x) => x !== null && x !== undefined);
      return found === undefined ? null : found;
    },
    is_empty: (ctx, x) => T.isEmpty(x),
  };

  // ------------------------------------------------------------ export

  function exact(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean" || typeof v === "string") return v;
    if (N.isNum(v)) return { n: N.canonical(v) };
    if (v instanceof Day) return { date: v.toString() };
    if (v instanceof Moment) return { datetime: tm.utcText(v) };
    if (v instanceof Span) return { duration: N.canonical(new Dec(BigInt(v.us), -6)) };
    if (Array.isArray(v)) return v.map(exact);
    const out = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = exact(x);
    return out;
  }

  function plain(v) {
    if (v === null || v === undefined) return null;
    if (N.isNum(v)) return N.toNumber(v);
    if (v instanceof Day || v instanceof Moment) return v.toString();
    if (v instanceof Span) return v.us / 1e6;
    if (Array.isArray(v)) return v.map(plain);
    if (T.isRecord(v)) {
      const out = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
      return out;
    }
    return v;
  }

  Object.assign(T, { agg, rows, clampTotal, hit, text, fmt, fn, nullSafe, exact, plain });
  if (typeof module !== "undefined" && module.exports) module.exports = T;
})((globalThis.TesseraRules = globalThis.TesseraRules || {}));
