// Admin page: the event's name, colours and logo. A colour pair below WCAG AA contrast is
// refused by the server with the pair and its ratio, shown here as it says it.

import { api } from "/static/js/api.js";
import { $, say } from "/static/js/dom.js";
import { t } from "/static/js/i18n.js";

async function fill() {
  const branding = await api("GET", "/api/v1/branding");
  const form = $("branding-form");
  form.elements.name.value = branding.name;
  for (const field of ["background", "text", "accent"]) {
    if (branding[field]) form.elements[field].value = branding[field];
  }
}

function wire() {
  $("branding-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const status = $("branding-status");
    try {
      await api("PUT", "/api/v1/branding", {
        name: form.elements.name.value,
        background: form.elements.background.value,
        text: form.elements.text.value,
        accent: form.elements.accent.value,
      });
      const file = form.elements.logo.files[0];
      if (file) await api("PUT", "/api/v1/branding/logo", file, { "Content-Type": file.type || "application/octet-stream" });
      say(status, t("branding.saved"), "ok");
    } catch (error) {
      say(status, error.message, "error");
    }
  });
}

wire();
fill().catch(() => {});
