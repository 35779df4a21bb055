// The public HTTP API as the console calls it: the saved token, its role, JSON requests.

const TOKEN_KEY = "streamrec.token";
const ROLES = ["reader", "writer", "admin"];
let authOn = null;

export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function saveToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value.trim());
  else localStorage.removeItem(TOKEN_KEY);
}

export function setAuth(on) {
  authOn = Boolean(on);
}

// The role claim of the saved token (decoded, not verified: the server checks it).
export function tokenRole() {
  const parts = token().split(".");
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    return ROLES.includes(payload.role) ? payload.role : null;
  } catch {
    return null;
  }
}

// Whether the console may offer an action needing `needed`; with auth off, everyone may.
export function can(needed) {
  if (authOn === false) return true;
  const role = tokenRole();
  return role !== null && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

// Why an action needing `needed` is disabled, for its tooltip and message.
export function why(needed) {
  const role = tokenRole();
  return role ? `needs the ${needed} role (your token: ${role})` : `needs a token with the ${needed} role`;
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || String(status);
  }
}

// One request; resolves to the JSON body, rejects with ApiError on a non-2xx answer.
export async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const text = await answer.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { text };
  }
  if (!answer.ok) throw new ApiError(answer.status, parsed);
  return parsed;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

// A readable line for an error thrown by `call`.
export function explain(error) {
  if (!(error instanceof ApiError)) return String(error.message || error);
  if (error.status === 401) return `401: ${error.message}. Paste a token above.`;
  if (error.status === 403) return `403: ${error.message}.`;
  return `${error.status}: ${error.message}`;
}
