// The event's branding on every page: its name and logo in the header (the colours come with
// /branding.css, which app.css imports). Loaded by common.js.

import { api } from "/static/js/api.js";

/** Show ``branding`` (GET /api/v1/branding) in the page's header. */
export function showBranding(branding) {
  const brand = document.querySelector(".bar .brand");
  if (!brand || !branding) return;
  brand.removeAttribute("data-i18n"); // the event's name, in every language
  brand.textContent = branding.name;
  if (branding.logo) {
    const logo = document.createElement("img");
    logo.className = "brand-logo";
    logo.src = new URL(branding.logo, location.href).pathname; // this origin, whatever the public URL
    logo.alt = "";
    brand.prepend(logo);
  }
  if (!document.title.includes(branding.name)) document.title = document.title.replace("Torget", branding.name);
}

async function load() {
  try {
    showBranding(await api("GET", "/api/v1/branding"));
  } catch {
    /* the built-in look stays */
  }
}

load();
