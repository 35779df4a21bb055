// The console's router: `#/<page>/<id>` picks a page; each page returns its stop function.

import { get, saveToken, setAuth, token, tokenRole } from "./api.js";
import { experiments } from "./experiments.js";
import { item } from "./item.js";
import { models } from "./models.js";
import { overview } from "./overview.js";
import { flash } from "./ui.js";
import { user } from "./user.js";

const PAGES = { overview, user, item, experiments, models };
let stop = () => {};

function route() {
  stop();
  flash("");
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = PAGES[name] ? name : "overview";
  for (const link of document.querySelectorAll("#nav a[data-page]")) {
    link.classList.toggle("current", link.dataset.page === page);
  }
  const id = rest.length ? decodeURIComponent(rest.join("/")) : "";
  stop = PAGES[page](document.getElementById("page"), id) || (() => {});
}

function showRole(authOn) {
  const role = tokenRole();
  const text = authOn === false ? "auth off: every action allowed" : role ? `role: ${role}` : "no token: read-only pages fail with 401";
  document.getElementById("role").textContent = text;
}

async function start() {
  const input = document.getElementById("token");
  input.value = token();
  let authOn = null;
  try {
    authOn = (await get("/stats")).auth;
    setAuth(authOn);
  } catch {
    authOn = null;
  }
  showRole(authOn);
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken(input.value);
    showRole(authOn);
    route();
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
