// Decimal strings at an instrument's tick/lot precision, never through floats.
// Invariants: every function takes and returns decimal *strings* (or BigInt scaled
// integers); a Number is never used for a price or size that is shown as text.
// "0.01" has 2 decimals, "1" has 0; fixed("42000", 2) === "42000.00".

const DEC = /^([+-]?)(\d+)(?:\.(\d+))?$/;

export function isDecimal(text) {
  return typeof text === "string" && DEC.test(text.trim());
}

/** Decimal places of a step such as a tick or lot size: "0.01" -> 2, "1" -> 0. */
export function decimalsOf(step) {
  const m = DEC.exec(String(step));
  if (!m || !m[3]) return 0;
  return m[3].replace(/0+$/, "").length;
}

/** "12.5" at 3 places -> 12500n; throws on non-decimals; extra non-zero digits throw. */
export function toUnits(text, places) {
  const m = DEC.exec(String(text).trim());
  if (!m) throw new Error("not a decimal: " + text);
  let frac = m[3] || "";
  if (frac.length > places) {
    if (/[^0]/.test(frac.slice(places))) throw new Error("too many decimals: " + text);
    frac = frac.slice(0, places);
  }
  const units = BigInt(m[2] + frac.padEnd(places, "0"));
  return m[1] === "-" ? -units : units;
}

/** 12500n at 3 places -> "12.500". */
export function fromUnits(units, places) {
  const neg = units < 0n;
  let digits = (neg ? -units : units).toString();
  if (places > 0) {
    digits = digits.padStart(places + 1, "0");
    digits = digits.slice(0, -places) + "." + digits.slice(-places);
  }
  return (neg ? "-" : "") + digits;
}

/** Render a decimal string with exactly `places` decimals (pads; never rounds away
 * non-zero digits: those are kept as sent). null/undefined/"" -> "–". */
export function fixed(text, places) {
  if (text === null || text === undefined || text === "") return "–";
  const m = DEC.exec(String(text).trim());
  if (!m) return String(text);
  let frac = m[3] || "";
  if (frac.length < places) frac = frac.padEnd(places, "0");
  else if (frac.length > places) {
    const tail = frac.slice(places).replace(/0+$/, "");
    frac = frac.slice(0, places) + tail;
  }
  return m[1] + m[2] + (frac ? "." + frac : "");
}

function commonPlaces(...texts) {
  let p = 0;
  for (const t of texts) {
    const m = DEC.exec(String(t).trim());
    if (m && m[3]) p = Math.max(p, m[3].length);
  }
  return p;
}

/** Is `text` a whole multiple of `step` (both decimal strings)? */
export function isMultiple(text, step) {
  const p = commonPlaces(text, step);
  const s = toUnits(step, p);
  return s !== 0n && toUnits(text, p) % s === 0n;
}

/** -1, 0, 1 comparing two decimal strings. */
export function compare(a, b) {
  const p = commonPlaces(a, b);
  const x = toUnits(a, p);
  const y = toUnits(b, p);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** a - b at `places` decimals. */
export function subtract(a, b, places) {
  const p = Math.max(commonPlaces(a, b), places);
  return fixed(fromUnits(toUnits(a, p) - toUnits(b, p), p), places);
}

/** (last - open) / open as a signed percent with 2 decimals ("+1.25%"), rounded half
 * away from zero; null if either is missing or open is 0. */
export function percentChange(last, open) {
  if (!isDecimal(last) || !isDecimal(open)) return null;
  const p = commonPlaces(last, open);
  const o = toUnits(open, p);
  if (o === 0n) return null;
  const diff = toUnits(last, p) - o;
  let scaled = (diff * 100000n) / o; // percent with 3 decimals, truncated
  scaled = scaled >= 0n ? (scaled + 5n) / 10n : (scaled - 5n) / 10n;
  const text = fromUnits(scaled, 2);
  return (scaled >= 0n ? "+" : "") + text + "%";
}

/** A ratio for drawing only (depth bars): Number is fine for pixels, never for text. */
export function ratio(a, b) {
  const x = Number(a);
  const y = Number(b);
  return y > 0 ? Math.min(1, x / y) : 0;
}

/** Local time of a millisecond timestamp, hh:mm:ss. */
export function clock(ms) {
  return new Date(Number(ms)).toLocaleTimeString([], { hour12: false });
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many || one + "s");
}
