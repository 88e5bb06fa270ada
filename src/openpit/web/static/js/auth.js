// Signed REST requests computed in the browser with WebCrypto (HMAC-SHA256).
// Invariants: the API secret lives only in this module's closure (never stored, never
// sent); what leaves the page is the key id, a timestamp and hex signatures over
// timestamp + METHOD + path + body (docs/rest.md "Signing"). Timestamps are corrected
// by the server clock offset and strictly increase, so no two requests share a
// signature (the server refuses replays).

let creds = null; // { apiKey, cryptoKey, user }
let offsetMs = 0;
let lastTs = 0;
const enc = new TextEncoder();

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
    this.code = body && body.code;
  }
}

async function hmacHex(cryptoKey, text) {
  const sig = await crypto.subtle.sign("HMAC", cryptoKey, enc.encode(text));
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function publicGet(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

export async function syncClock() {
  const before = Date.now();
  const t = await publicGet("/api/v1/time");
  offsetMs = Number(t.server_time) - Math.round((before + Date.now()) / 2);
}

export async function login(apiKey, secret) {
  const cryptoKey = await crypto.subtle.importKey(
    "raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await syncClock().catch(() => {});
  const candidate = { apiKey, cryptoKey, user: null };
  const prev = creds;
  creds = candidate;
  try {
    const token = await signed("POST", "/api/v1/tokens", { ttl_seconds: 3600 });
    candidate.user = token.user;
    return token;
  } catch (err) {
    creds = prev;
    throw err;
  }
}

export function logout() { creds = null; }
export function loggedIn() { return creds !== null; }
export function user() { return creds && creds.user; }

/** A fresh typed-dialect JWT for the logged-in key. */
export async function token() {
  return signed("POST", "/api/v1/tokens", { ttl_seconds: 3600 });
}

export async function signed(method, path, bodyObj) {
  if (!creds) throw new ApiError(401, { message: "log in first" });
  const body = bodyObj === undefined ? "" : JSON.stringify(bodyObj);
  const ts = Math.max(Date.now() + offsetMs, lastTs + 1);
  lastTs = ts;
  const sig = await hmacHex(creds.cryptoKey, ts + method + path + body);
  const headers = {
    Accept: "application/json",
    "X-OPENPIT-APIKEY": creds.apiKey,
    "X-OPENPIT-TIMESTAMP": String(ts),
    "X-OPENPIT-SIGNATURE": sig,
  };
  if (body) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body || undefined });
  const out = await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, out);
  return out;
}
