// What the browser remembers between visits: localStorage when the browser allows it (an
// embedded third-party frame may be denied it), else memory for this page's life; drafts of
// what a person typed and the name they chat under.

const memory = new Map();
export const storage = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return memory.has(key) ? memory.get(key) : null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      memory.set(key, value);
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      memory.delete(key);
    }
  },
};

const NAME_KEY = "torget.name";

export function displayName() {
  return storage.get(NAME_KEY) || "";
}

export function setDisplayName(name) {
  storage.set(NAME_KEY, name);
}

/**
 * Keep ``input``'s value in storage under ``key`` (what a person typed survives reloads,
 * reconnects and language switches); return a function that clears it.
 */
export function keepDraft(input, key) {
  const storageKey = `torget.draft.${key}`;
  const saved = storage.get(storageKey);
  if (saved && !input.value) input.value = saved;
  input.addEventListener("input", () => {
    if (input.value) storage.set(storageKey, input.value);
    else storage.remove(storageKey);
  });
  return (sent) => {
    if (sent === undefined || input.value === sent) {
      input.value = "";
      storage.remove(storageKey);
    }
  };
}
