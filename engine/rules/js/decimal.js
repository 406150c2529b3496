// Numbers for the Tessera rule runtime in the browser.
//
// Why not plain JS numbers: the Python runtime keeps integers as Python ints
// and every other number as decimal.Decimal (28 significant digits, half-even),
// so 0.1 + 0.2 is exactly 0.3 and 1 / 3 has 28 digits. Here a Python int is a
// BigInt and a Decimal is a Dec (a BigInt coefficient and a power of ten),
// following the General Decimal Arithmetic rules CPython implements: the
// exponent of a sum is the smaller one, of a product the sum, and an exact
// quotient is brought to the "ideal" exponent. Dec.prototype.toString prints
// what Python's str(Decimal) prints, so text built from numbers agrees too.
(function (T) {
  "use strict";
  const PREC = 28;
  const TEN = 10n;

  function pow10(n) {
    return TEN ** BigInt(n);
  }

  function ndigits(c) {
    return (c < 0n ? -c : c).toString().length;
  }

  class Dec {
    constructor(c, e) {
      this.c = c; // signed BigInt coefficient
      this.e = e; // exponent (a JS integer)
    }

    toString() {
      const neg = this.c < 0n;
      const digits = (neg ? -this.c : this.c).toString();
      const left = this.e + digits.length;
      let dot;
      if (this.e <= 0 && left > -6) dot = left;
      else dot = 1;
      let intpart, frac;
      if (dot <= 0) {
        intpart = "0";
        frac = "." + "0".repeat(-dot) + digits;
      } else if (dot >= digits.length) {
        intpart = digits + "0".repeat(dot - digits.length);
        frac = "";
      } else {
        intpart = digits.slice(0, dot);
        frac = "." + digits.slice(dot);
      }
      const exp = left === dot ? "" : "E" + (left - dot >= 0 ? "+" : "") + (left - dot);
      return (neg ? "-" : "") + intpart + frac + exp;
    }

    toJSON() {
      return this.toString();
    }
  }

  // Round a coefficient to PREC digits, half to even (the context Python uses).
  function fix(c, e) {
    const n = ndigits(c);
    if (n <= PREC) return new Dec(c, e);
    const k = n - PREC;
    const p = pow10(k);
    const neg = c < 0n;
    let a = neg ? -c : c;
    let q = a / p;
    const r = a % p;
    const half = p / 2n;
    if (r > half || (r === half && q % 2n === 1n)) q += 1n;
    e += k;
    if (ndigits(q) > PREC) {
      q /= 10n;
      e += 1;
    }
    return new Dec(neg ? -q : q, e);
  }

  const NUMBER_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

  function decFromString(text) {
    const m = NUMBER_TEXT.exec(String(text).trim());
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
    const frac = m[3] || "";
    let c = BigInt((m[2] || "0") + frac);
    if (m[1] === "-") c = -c;
    return new Dec(c, (m[4] ? parseInt(m[4], 10) : 0) - frac.length);
  }

  // The exact value of a binary double, as Decimal(float) gives it in Python.
  function decFromFloatExact(f) {
    if (Number.isInteger(f)) return new Dec(BigInt(f), 0);
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, f);
    const hi = buf.getUint32(0);
    const lo = buf.getUint32(4);
    const sign = hi >>> 31 ? -1n : 1n;
    const bexp = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let e2;
    if (bexp === 0) e2 = -1074;
    else {
      mant |= 1n << 52n;
      e2 = bexp - 1075;
    }
    while (mant % 2n === 0n && e2 < 0) {
      mant /= 2n;
      e2 += 1;
    }
    // mant * 2^e2 with e2 < 0 equals mant * 5^-e2 / 10^-e2
    return new Dec(sign * mant * 5n ** BigInt(-e2), e2);
  }

  // Values from JSON: integral numbers are ints, others decimals of their shortest text
  // (what Python's Decimal(repr(float)) gives).
  function num(v) {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return null;
      return Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v) : decFromString(String(v));
    }
    return v;
  }

  function isNum(v) {
    return typeof v === "bigint" || v instanceof Dec || typeof v === "number";
  }

  function toDec(v) {
    v = num(v);
    return typeof v === "bigint" ? new Dec(v, 0) : v;
  }

  function align(a, b) {
    const e = Math.min(a.e, b.e);
    return [a.c * pow10(a.e - e), b.c * pow10(b.e - e), e];
  }

  function add(a, b) {
    a = num(a);
    b = num(b);
    if (typeof a === "bigint" && typeof b === "bigint") return a + b;
    const [x, y, e] = align(toDec(a), toDec(b));
    return fix(x + y, e);
  }

  function neg(a) {
    a = num(a);
    return typeof a === "bigint" ? -a : new Dec(-a.c, a.e);
  }

  function sub(a, b) {
    return add(a, neg(b));
  }

  function mul(a, b) {
    a = num(a);
    b = num(b);
    if (typeof a === "bigint" && typeof b === "bigint") return a * b;
    const x = toDec(a);
    const y = toDec(b);
    return fix(x.c * y.c, x.e + y.e);
  }

  // Decimal division (never integer division): 28 digits, or the exact quotient.
  function div(a, b) {
    const x = toDec(a);
    const y = toDec(b);
    const sign = x.c < 0n !== y.c < 0n ? -1n : 1n;
    const ideal = x.e - y.e;
    if (x.c === 0n) return new Dec(0n, ideal);
    const xc = x.c < 0n ? -x.c : x.c;
    const yc = y.c < 0n ? -y.c : y.c;
    const shift = ndigits(yc) - ndigits(xc) + PREC + 1;
    let exp = ideal - shift;
    let q, r;
    if (shift >= 0) {
      const n = xc * pow10(shift);
      q = n / yc;
      r = n % yc;
    } else {
      const d = yc * pow10(-shift);
      q = xc / d;
      r = xc % d;
    }
    if (r !== 0n) {
      if (q % 5n === 0n) q += 1n;
    } else {
      while (exp < ideal && q % 10n === 0n) {
        q /= 10n;
        exp += 1;
      }
    }
    return fix(sign * q, exp);
  }

  // The rule language's %: the remainder keeps the sign of the dividend (as SQL does).
  function mod(a, b) {
    a = num(a);
    b = num(b);
    if (typeof a === "bigint" && typeof b === "bigint") return a % b;
    const [x, y, e] = align(toDec(a), toDec(b));
    return fix(x % y, e);
  }

  function cmp(a, b) {
    a = num(a);
    b = num(b);
    if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
    const [x, y] = align(toDec(a), toDec(b));
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function isZero(a) {
    a = num(a);
    return typeof a === "bigint" ? a === 0n : a.c === 0n;
  }

  function abs(a) {
    a = num(a);
    if (typeof a === "bigint") return a < 0n ? -a : a;
    return fix(a.c < 0n ? -a.c : a.c, a.e);
  }

  // int(x): toward zero.
  function trunc(a) {
    a = num(a);
    if (typeof a === "bigint") return a;
    return a.e >= 0 ? a.c * pow10(a.e) : a.c / pow10(-a.e);
  }

  function floor(a) {
    a = num(a);
    if (typeof a === "bigint") return a;
    const t = trunc(a);
    return a.e < 0 && a.c < 0n && t * pow10(-a.e) !== a.c ? t - 1n : t;
  }

  function ceil(a) {
    a = num(a);
    if (typeof a === "bigint") return a;
    const t = trunc(a);
    return a.e < 0 && a.c > 0n && t * pow10(-a.e) !== a.c ? t + 1n : t;
  }

  // Decimal.quantize(10**exp, ROUND_HALF_UP): half away from zero.
  function quantizeHalfUp(a, exp) {
    const x = toDec(a);
    if (x.e >= exp) return new Dec(x.c * pow10(x.e - exp), exp);
    const p = pow10(exp - x.e);
    const negative = x.c < 0n;
    const m = negative ? -x.c : x.c;
    let q = m / p;
    if ((m % p) * 2n >= p) q += 1n;
    return new Dec(negative ? -q : q, exp);
  }

  function toNumber(a) {
    a = num(a);
    return typeof a === "bigint" ? Number(a) : Number(a.toString());
  }

  // The canonical text of a value, whatever its exponent: "0.30", "3E-1" and 0.3 all give "0.3".
  function canonical(a) {
    const x = toDec(a);
    if (x.c === 0n) return "0";
    let c = x.c;
    let e = x.e;
    while (c % 10n === 0n) {
      c /= 10n;
      e += 1;
    }
    const negative = c < 0n;
    let digits = (negative ? -c : c).toString();
    if (e >= 0) digits += "0".repeat(e);
    else if (-e >= digits.length) digits = "0." + "0".repeat(-e - digits.length) + digits;
    else digits = digits.slice(0, digits.length + e) + "." + digits.slice(digits.length + e);
    return (negative ? "-" : "") + digits;
  }

  T.Dec = Dec;
  T.dec = decFromString;
  T.decFromFloatExact = decFromFloatExact;
  T.N = { num, isNum, toDec, add, sub, mul, div, mod, neg, cmp, isZero, abs, trunc, floor, ceil,
    quantizeHalfUp, toNumber, canonical, fix };
})((globalThis.TesseraRules = globalThis.TesseraRules || {}));
