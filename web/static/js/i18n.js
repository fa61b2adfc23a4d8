// Translations: the page's language (remembered, else the browser's), its catalogue with English
// as the fallback, data-i18n* attributes in the HTML, t(key, vars) in scripts, and dates and
// times written the language's way.

import { el } from "/static/js/dom.js";
import { storage } from "/static/js/storage.js";

export const LANGUAGES = ["sv", "fi", "nb", "en"];
const LANG_KEY = "torget.lang";
let catalogue = {};
let fallback = {};
export let lang = "en";

function browserLanguage() {
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    const base = String(wanted).toLowerCase().split("-")[0];
    if (base === "no" || base === "nn") return "nb";
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

async function loadCatalogue(code) {
  const answer = await fetch(`/static/i18n/${code}.json`, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`catalogue ${code}: ${answer.status}`);
  return answer.json();
}

/** Load the catalogue of the remembered (or browser) language and translate the page. */
export async function initI18n() {
  const stored = storage.get(LANG_KEY);
  lang = LANGUAGES.includes(stored) ? stored : browserLanguage();
  fallback = await loadCatalogue("en");
  catalogue = lang === "en" ? fallback : await loadCatalogue(lang).catch(() => fallback);
  document.documentElement.lang = lang;
  translate(document);
  const picker = document.getElementById("lang");
  if (picker) {
    picker.replaceChildren(
      ...LANGUAGES.map((code) => el("option", { value: code, text: t(`lang.${code}`) })),
    );
    picker.value = lang;
    picker.addEventListener("change", () => {
      storage.set(LANG_KEY, picker.value);
      location.reload(); // drafts are kept in storage, so nothing typed is lost
    });
  }
}

/** The text of ``key`` in the page's language, with {name} placeholders filled in. */
export function t(key, vars = {}) {
  const text = catalogue[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Translate elements marked with data-i18n (text), data-i18n-placeholder/-label/-title. */
export function translate(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]"))
    node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-label]"))
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
}

/** A language tag's name in the page's language ("en" -> "English"), or the tag itself. */
export function languageName(code) {
  try {
    return new Intl.DisplayNames([lang], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}

export function formatDay(iso) {
  return new Date(iso).toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long" });
}
