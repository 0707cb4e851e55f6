// Calls to the platform: same origin, session cookie, the session's CSRF token on every change.
let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);

export async function session() {
  const who = await get("/auth/session");
  csrf = who.csrfToken ?? null;
  return who;
}

export async function signIn(username, password) {
  const who = await post("/auth/login", { username, password });
  csrf = who.csrfToken;
  return who;
}

export async function signOut() {
  await request("POST", "/auth/logout");
  csrf = null;
}
