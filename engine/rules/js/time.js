// Dates, datetimes and durations for the Tessera rule runtime in the browser.
//
// Why classes and not Date: the Python runtime uses datetime.date, aware
// datetimes and timedelta, and their arithmetic is wall-clock arithmetic
// within one zone. A Day is a day count since 1970-01-01. A Moment keeps the
// wall-clock time in microseconds plus its zone: a fixed offset (in ms, from
// "Z" or "+08:00") or the platform's named zone. Like Python, adding 24h to a
// time in the platform's zone keeps the clock reading across a DST change, and
// two times in that zone subtract on the clock; otherwise on the instant. A
// wall time that does not exist or repeats takes the offset in force before
// the change (Python's fold=0). Offsets come from Intl, so the browser's time
// zone data decides DST. A Span is a duration in microseconds.
(function (T) {
  "use strict";
  const US_DAY = 86400000000;
  const US_MS = 1000;

  class Day {
    constructor(d) {
      this.d = d;
    }
    toString() {
      const [y, m, d] = civil(this.d);
      return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
    }
    toJSON() {
      return this.toString();
    }
  }

  class Moment {
    constructor(w, z) {
      this.w = w; // wall clock, microseconds since 1970-01-01T00:00 (as if UTC)
      this.z = z; // a number: fixed offset in ms; a string: a named zone
    }
    toString() {
      return isoformat(this);
    }
    toJSON() {
      return this.toString();
    }
  }

  class Span {
    constructor(us) {
      this.us = us;
    }
    toJSON() {
      return this.us / 1e6;
    }
  }

  function pad(n, w) {
    const s = String(Math.abs(n)).padStart(w, "0");
    return n < 0 ? "-" + s : s;
  }

  function floorDiv(a, b) {
    return Math.floor(a / b);
  }

  // Days since 1970-01-01 from a proleptic Gregorian date, and back.
  function days(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    const era = floorDiv(y, 400);
    const yoe = y - era * 400;
    const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
    const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
    return era * 146097 + doe - 719468;
  }

  function civil(z) {
    z += 719468;
    const era = floorDiv(z, 146097);
    const doe = z - era * 146097;
    const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
    const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
    const mp = floorDiv(5 * doy + 2, 153);
    const d = doy - floorDiv(153 * mp + 2, 5) + 1;
    const m = mp + (mp < 10 ? 3 : -9);
    return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
  }

  function monthDays(y, m) {
    return [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }

  function validDay(y, m, d) {
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= monthDays(y, m);
  }

  // ------------------------------------------------------------ zones

  const formatters = new Map();

  function formatter(zone) {
    let f = formatters.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
        hour: "numeric", minute: "numeric", second: "numeric", era: "short",
      });
      formatters.set(zone, f);
    }
    return f;
  }

  // The zone's UTC offset (ms) at an instant (ms since the epoch).
  function offsetAt(zone, ms) {
    if (typeof zone === "number") return zone;
    const secondStart = Math.floor(ms / 1000) * 1000;
    const parts = {};
    for (const p of formatter(zone).formatToParts(new Date(secondStart))) parts[p.type] = p.value;
    let y = parseInt(parts.year, 10);
    if (parts.era === "BC" || parts.era === "B") y = 1 - y;
    const wall = days(y, +parts.month, +parts.day) * 86400000 +
      ((+parts.hour * 60 + +parts.minute) * 60 + +parts.second) * 1000;
    return wall - secondStart;
  }

  // The instant (µs) of a Moment; a named-zone wall time resolves as Python's fold=0 does.
  function instant(m) {
    if (typeof m.z === "number") return m.w - m.z * US_MS;
    const wms = Math.floor(m.w / US_MS);
    const before = offsetAt(m.z, wms - 86400000);
    const after = offsetAt(m.z, wms + 86400000);
    let off = before;
    if (offsetAt(m.z, wms - before) !== before && offsetAt(m.z, wms - after) === after) off = after;
    return m.w - off * US_MS;
  }

  function utcOffset(m) {
    return typeof m.z === "number" ? m.z : (m.w - instant(m)) / US_MS;
  }

  // datetime.astimezone(zone): the same instant on another clock (the same Moment if same zone).
  function inZone(m, zone) {
    if (m.z === zone) return m;
    const i = instant(m);
    return new Moment(i + offsetAt(zone, Math.floor(i / US_MS)) * US_MS, zone);
  }

  function sameClock(a, b) {
    return a.z === b.z || (typeof a.z === "number" && typeof b.z === "number");
  }

  // ------------------------------------------------------------ parsing and text

  // The ISO 8601 forms Python 3.11's fromisoformat reads: 2026-01-05, 20260105,
  // 2026-W02-1; then T, t or a space; then 09, 09:30, 0930, 09:30:15.5 (a comma
  // works too); then Z, +08, +0800, +08:00 or +08:00:30.
  const DATE_PART = /^(?:(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})|(\d{4})-?W(\d{2})-?([1-7])?)/;
  const TIME_PART =
    /^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(?:[.,](\d+))?)?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?)?$/;

  function dayFromParts(m) {
    if (m[1] || m[4]) {
      const [y, mo, d] = m[1] ? [+m[1], +m[2], +m[3]] : [+m[4], +m[5], +m[6]];
      return validDay(y, mo, d) ? days(y, mo, d) : null;
    }
    const y = +m[7];
    const week = +m[8];
    const weekday = m[9] ? +m[9] : 1;
    const jan4 = days(y, 1, 4);
    const monday = jan4 - ((((jan4 + 3) % 7) + 7) % 7);
    const weeks = Math.floor((days(y, 12, 28) - monday) / 7) + 1; // 28 December is in the last week
    if (week < 1 || week > weeks) return null;
    return monday + (week - 1) * 7 + weekday - 1;
  }

  function parseDay(text) {
    const m = DATE_PART.exec(text);
    if (!m || m[0].length !== text.length) return null;
    const d = dayFromParts(m);
    return d === null ? null : new Day(d);
  }

  function parseMoment(text, zone) {
    const m = DATE_PART.exec(text);
    if (!m) return null;
    const d = dayFromParts(m);
    if (d === null) return null;
    let rest = text.slice(m[0].length);
    if (rest === "") return new Moment(d * US_DAY, zone);
    if (!"Tt ".includes(rest[0])) return null;
    const t = TIME_PART.exec(rest.slice(1));
    if (!t) return null;
    const [hh, mi, ss] = [t[1], t[3] || "0", t[4] || "0"].map(Number);
    if (hh > 23 || mi > 59 || ss > 59) return null;
    const frac = t[5] ? Number(t[5].slice(0, 6).padEnd(6, "0")) : 0;
    const w = d * US_DAY + ((hh * 60 + mi) * 60 + ss) * 1e6 + frac;
    let z = zone;
    if (t[6]) z = 0;
    else if (t[7]) {
      const [oh, om, os] = [+t[8], +(t[9] || 0), +(t[10] || 0)];
      if (oh > 23 || om > 59 || os > 59) return null;
      const ms = ((oh * 60 + om) * 60 + os) * 1000 + (t[11] ? Math.floor(+t[11].padEnd(6, "0") / 1000) : 0);
      z = t[7] === "-" ? -ms : ms;
    }
    return new Moment(w, z);
  }

  function clockText(us) {
    const t = ((us % US_DAY) + US_DAY) % US_DAY;
    const s = Math.floor(t / 1e6);
    const micro = t % 1e6;
    const text = `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}`;
    return micro ? `${text}.${pad(micro, 6)}` : text;
  }

  function offsetText(ms) {
    const sign = ms < 0 ? "-" : "+";
    let s = Math.abs(ms) / 1000;
    let text = `${sign}${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}`;
    if (s % 60) text += `:${pad(s % 60, 2)}`;
    return text;
  }

  // datetime.isoformat(): the wall clock and its offset.
  function isoformat(m) {
    return `${new Day(floorDiv(m.w, US_DAY))}T${clockText(m.w)}${offsetText(utcOffset(m))}`;
  }

  // str(timedelta): "1 day, 2:00:00", "-1 day, 23:00:00".
  function spanText(s) {
    const d = floorDiv(s.us, US_DAY);
    const rest = clockText(s.us - d * US_DAY);
    const clock = rest.startsWith("0") && !rest.startsWith("0:") ? rest.slice(1) : rest;
    return d ? `${d} day${Math.abs(d) === 1 ? "" : "s"}, ${clock}` : clock;
  }

  // The instant in UTC with microseconds, for comparing results across runtimes.
  function utcText(m) {
    const i = instant(m);
    return `${new Day(floorDiv(i, US_DAY))}T${clockText(i)}Z`;
  }

  function momentFromDay(day, zone) {
    return new Moment(day.d * US_DAY, zone);
  }

  function dayOf(m) {
    return new Day(floorDiv(m.w, US_DAY));
  }

  // Python rounds timedelta arithmetic to the microsecond, half to even.
  function roundEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  T.Day = Day;
  T.Moment = Moment;
  T.Span = Span;
  T.time = { US_DAY, days, civil, monthDays, validDay, offsetAt, instant, utcOffset, inZone,
    sameClock, parseDay, parseMoment, isoformat, spanText, utcText, momentFromDay, dayOf,
    roundEven, floorDiv };
})((globalThis.TesseraRules = globalThis.TesseraRules || {}));
