"use strict";
// What the station's dashboard (app.js, strip.js) and the province centre's (centre.js) both build pages
// with: loaded before them by each index.html.

// An element with its attributes (on… a listener, dataset, class) and children (nested lists, text).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const enc = encodeURIComponent;
const when = iso => iso ? new Date(iso).toLocaleString("vi-VN") : "—";
