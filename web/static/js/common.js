// What several pages do the same way around the modules: the staff pages' sign-in, the viewers'
// access-code dialog (and the programme behind it), copying to the clipboard and the session id
// in the page's address.

import { api, ApiError, signIn, whoAmI } from "/static/js/api.js";
import { $, el, say } from "/static/js/dom.js";
import { formatDay, formatTime, t } from "/static/js/i18n.js";
import { PASS_KEY } from "/static/js/realtime.js";
import { displayName, storage } from "/static/js/storage.js";
import "/static/js/branding.js"; // the event's name and logo on every page

/**
 * Open a staff page: its sign-in form (#signin) until the person is signed in, then who they are
 * in #who (with their role unless ``withRole`` is false) and the page's #console; resolve with
 * who they are.
 */
export async function openConsole({ withRole = true } = {}) {
  const me = await requireSignIn($("signin"));
  $("who").textContent = withRole ? `${me.name} (${t(`role.${me.role}`)})` : me.name;
  $("console").hidden = false;
  return me;
}

/**
 * Fill the console's #session picker with the sessions of ``me``'s studios whose state is a key
 * of ``order`` (its value ranks them; then by start), the page's ?session= chosen when it is
 * one of them; return them.
 */
export function fillSessionPicker(me, sessions, order) {
  const mine = sessions
    .filter((s) => me.role === "admin" || !me.studio_ids.length || me.studio_ids.includes(s.studio_id))
    .filter((s) => s.state in order)
    .sort((a, b) => order[a.state] - order[b.state] || a.starts_at.localeCompare(b.starts_at));
  const picker = $("session");
  picker.replaceChildren(...mine.map((s) => el("option", { value: s.id,
    text: `${s.studio_name} · ${formatDay(s.starts_at)} ${formatTime(s.starts_at)} · ${s.title} (${t(`state.${s.state}`)})` })));
  const wanted = new URLSearchParams(location.search).get("session");
  if (wanted && mine.some((s) => s.id === wanted)) picker.value = wanted;
  return mine;
}

/**
 * Show the sign-in form in ``form`` until the person is signed in; resolve with who they are.
 * The form has an input named "token" and an output element with class "status".
 */
async function requireSignIn(form) {
  const me = await whoAmI();
  if (me) {
    form.hidden = true;
    return me;
  }
  return signInWith(form);
}

function signInWith(form) {
  form.hidden = false;
  const status = form.querySelector(".status");
  return new Promise((resolve) => {
    const submit = async (event) => {
      event.preventDefault();
      const input = form.elements.token;
      try {
        const who = await signIn(input.value.trim());
        input.value = "";
        say(status, "");
        form.hidden = true;
        form.removeEventListener("submit", submit);
        resolve(who);
      } catch (error) {
        say(status, error.message, "error");
        input.focus();
      }
    };
    form.addEventListener("submit", submit);
  });
}

/**
 * What a staff page does when its Realtime says the sign-in ended (the websocket closed with
 * 4401): say so in the page's #signin form, shown above the console (which stays, so a
 * broadcast sent from this browser goes on), until the person signs in again; then call
 * ``onBack(who)`` and reconnect the websocket as staff. Use as ``onSignInEnded``.
 */
export function askSignInAgain(onBack = () => {}) {
  let asking = false;
  return async (rt) => {
    if (asking) return;
    asking = true;
    const form = $("signin");
    say(form.querySelector(".status"), t("auth.ended"), "warn");
    const signedIn = signInWith(form);
    form.elements.token.focus();
    onBack(await signedIn);
    asking = false;
    rt.ws?.close();
  };
}

/** The programme, asking for the event's access code first when the event has one. */
export async function loadProgram(query = "") {
  try {
    return await api("GET", `/api/v1/program${query}`);
  } catch (error) {
    if (error.status !== 401) throw error;
    await askAccessCode();
    return api("GET", `/api/v1/program${query}`);
  }
}

/** Ask for the access code in the page's #access dialog and get a viewer pass with it. */
export function askAccessCode() {
  const form = $("access");
  if (!form) return Promise.reject(new ApiError(401, "unauthenticated", t("access.needed")));
  form.hidden = false;
  form.elements.code.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const pass = await api("POST", "/api/v1/auth/viewer", {
          display_name: displayName() || t("chat.guest"),
          access_code: form.elements.code.value,
        });
        storage.set(PASS_KEY, pass.viewer_pass); // presented in the websocket's first frame
        form.hidden = true;
        resolve();
      } catch (error) {
        say(form.querySelector(".status"), error.message, "error");
      }
    });
  });
}

/** Copy ``text`` to the clipboard and say in ``status`` whether it worked. */
export async function copyText(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    if (status) say(status, t("common.copied"));
  } catch {
    if (status) say(status, t("common.copy_failed"), "error");
  }
}

/** The session id at the end of the page's path (/s/{id}, /embed/{id}). */
export function sessionIdFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}
