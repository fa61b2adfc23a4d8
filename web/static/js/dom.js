// Small DOM helpers. Text goes in through textContent (the "text" attribute of el(), say(),
// setCount()), never as HTML: user text stays text.

/** Create an element: attrs.text sets textContent, attrs.class the class, on* listeners. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on") && typeof value === "function")
      node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/**
 * Re-render a part of the page without losing the keyboard focus: if focus was on a control in
 * an item with data-id, focus the same control (or the item's first one) after ``render``.
 */
export function keepFocus(render) {
  const active = document.activeElement;
  const item = active?.closest?.("[data-id]");
  const label = active?.textContent;
  render();
  if (!item || document.contains(active)) return;
  const again = document.querySelector(`[data-id="${CSS.escape(item.dataset.id)}"]`);
  if (!again) return;
  const controls = [...again.querySelectorAll("button, select, input")];
  (controls.find((c) => c.textContent === label && !c.disabled) || controls.find((c) => !c.disabled))?.focus();
}

/** Set a live count only when it changes (a screen reader then hears real changes only). */
export function setCount(node, count) {
  const text = String(count);
  if (node.textContent !== text) node.textContent = text;
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Say something in a status region (role=status / aria-live) for sighted and screen readers. */
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.dataset.kind = kind;
}

/** Append ``item`` to ``list``, drop the oldest items beyond ``kept`` and scroll to the end. */
export function appendKept(list, item, kept) {
  list.append(item);
  while (list.children.length > kept) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

/** Remove the item marked data-id=``id`` from ``root``, if it is shown. */
export function removeItem(root, id) {
  root.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
}
