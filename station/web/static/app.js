"use strict";
// The operator's dashboard: hash routes over the station's JSON API, live updates from
// /api/stream (server-sent events). Plain DOM, no framework, nothing loaded from elsewhere.

const STATUS = {done: "xong / done", missing: "thiếu / missing", doubtful: "cần kiểm tra / doubtful"};
const state = {route: null, data: null, json: null, flash: null, stale: false, station: null, filter: {}};

// --- small helpers (h, enc and when are dom.js's) -------------------------------------------------
const mb = bytes => (bytes / 1e6).toFixed(1);
const kb = bytes => bytes == null ? "—" : `${Math.round(bytes / 1024)} KB`;
const day = iso => iso ? iso.split("-").reverse().join("/") : "—";

function ranges(numbers) {
  // [1,2,3,7,9,10] -> "1-3,7,9-10": short enough for a link, read back by the API as on the CLI.
  const out = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    out.push(j > i ? `${numbers[i]}-${numbers[j]}` : `${numbers[i]}`);
    i = j;
  }
  return out.join(",");
}

function operator() {
  return (localStorage.getItem("operator") || "").trim() || "web";
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function detailText(data, fallback) {
  const detail = data && data.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map(e => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  return fallback;
}

async function api(path, body) {
  const init = {credentials: "same-origin", headers: {"X-Operator": enc(operator())}};
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  if (answer.status === 401) {
    location.reload();  // the station asks for its token again
    throw new ApiError(401, "Cần mã truy cập / access token needed");
  }
  const data = await answer.json().catch(() => null);
  if (!answer.ok) throw new ApiError(answer.status, detailText(data, answer.statusText));
  return data;
}

function progressBar(b) {
  const pct = n => b.expected ? `${(100 * n / b.expected).toFixed(1)}%` : "0%";
  const bar = h("span", {class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": b.expected,
                         "aria-valuenow": b.done},
                h("span", {class: "done"}), h("span", {class: "doubtful"}));
  bar.children[0].style.width = pct(b.done);
  bar.children[1].style.width = pct(b.doubtful);
  return h("span", {class: "progress"}, bar, h("span", {class: "count"}, `${b.done}/${b.expected}`));
}

function badge(status) {
  return h("span", {class: `badge ${status}`}, STATUS[status] || status);
}

// --- routes ------------------------------------------------------------------------------------
function parseRoute() {
  const [path, query] = (location.hash.replace(/^#/, "") || "/").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  if (parts[0] === "book" && parts[1]) {
    if (parts[2] === "todo") return {view: "todo", book: parts[1]};
    if (parts[2] === "entry" && parts[3]) return {view: "entry", book: parts[1], number: Number(parts[3])};
    return {view: "book", book: parts[1]};
  }
  if (parts[0] === "held") return {view: "held"};
  if (parts[0] === "report") return {view: "report", book: params.get("book")};
  return {view: "books"};
}

const bookHref = book => `#/book/${enc(book)}`;
const entryHref = (book, number) => `#/book/${enc(book)}/entry/${number}`;

const views = {};

// --- books -------------------------------------------------------------------------------------
views.books = {
  title: () => "Các sổ / books",
  load: () => api("/api/books"),
  render(_route, data) {
    const rows = data.books.map(b => h("tr", {class: "row-link", dataset: {book: b.book},
                                               onclick: () => { location.hash = bookHref(b.book); }},
      h("td", {}, h("a", {href: bookHref(b.book)}, b.book),
        (b.notes || []).length ? h("span", {class: "book-note", title: b.notes.join("\n")}, " ⚠") : null,
        byPageTags(b)),
      h("td", {}, progressBar(b)),
      h("td", {class: "num doubtful-count"}, b.doubtful),
      h("td", {class: "num missing-count"}, b.missing),
      h("td", {class: "num"}, b.done_this_week),
      h("td", {class: "num"}, b.pages),
      h("td", {class: "num"}, mb(b.bytes)),
      h("td", {}, when(b.last_activity))));
    const station = state.station;
    return h("div", {},
      h("h1", {}, "Các sổ / books"),
      station ? h("p", {class: "muted"}, `Trạm / station: ${station.name}` +
                  (station.commune ? ` · ${station.commune}` : "")) : null,
      data.held_pages ? h("p", {class: "message info"},
        h("a", {href: "#/held"}, `${data.held_pages} trang nằm ngoài mọi trường hợp, chờ xử lý / pages held for review`)) : null,
      data.books.length ? h("table", {class: "list", id: "books"},
        h("thead", {}, h("tr", {},
          h("th", {}, "Sổ / book"), h("th", {}, "Tiến độ / done"), h("th", {class: "num"}, "Cần kiểm tra / doubtful"),
          h("th", {class: "num"}, "Thiếu / missing"), h("th", {class: "num"}, "Tuần này / this week"),
          h("th", {class: "num"}, "Trang / pages"), h("th", {class: "num"}, "MB"),
          h("th", {}, "Hoạt động gần nhất / last activity"))),
        h("tbody", {}, rows))
        : h("p", {class: "muted"}, "Chưa có sổ nào: `station book add` / no books yet."));
  },
};

function byPageTags(b) {
  if (!b.by_page) return null;
  const breaks = b.breaks || [];
  return [h("span", {class: "tag by-page"}, "theo trang / by page"),
    breaks.length ? h("span", {class: "tag breaks", title: breaks.join("\n"), dataset: {breaks: breaks.length}},
                      `${breaks.length} chỗ đứt / breaks`) : null];
}

// --- one book ----------------------------------------------------------------------------------
views.book = {
  title: r => `Sổ ${r.book}`,
  async load(r) {
    const book = await api(`/api/books/${enc(r.book)}`);
    // A book captured by page (strip.js): the strip of its pages too.
    if (book.by_page) book.strip = await api(`/api/books/${enc(r.book)}/strip`);
    return book;
  },
  render(r, b) {
    const filter = state.filter[b.book] || "all";
    const missing = b.entries.filter(e => e.status === "missing").map(e => e.number);
    const cells = b.entries.filter(e => filter === "all" || e.status === filter).map(e =>
      h("a", {class: `cell ${e.status}`, href: entryHref(b.book, e.number), title: e.reasons.join("\n"),
              dataset: {number: e.number, status: e.status}},
        h("span", {class: "no"}, `Số ${e.number}`),
        e.page_ids.length ? h("img", {class: "thumb", loading: "lazy", alt: `số ${e.number}`,
                                      src: `/api/pages/${e.page_ids[0]}/thumbnail`}) : null,
        h("span", {class: "small"}, STATUS[e.status] + (e.pages ? ` · ${e.pages} tr.` : "")),
        e.status !== "missing" && e.reasons.length ? h("span", {class: "reasons"}, e.reasons.join("; ")) : null,
        e.warnings && e.warnings.length ? h("span", {class: "warnings", title: e.warnings.join("\n")}, "⚠ lưu ý / note") : null));
    const filterButton = (key, label) => h("button", {class: filter === key ? "active" : null, dataset: {filter: key},
      onclick: () => { state.filter[b.book] = key; rerender(); }}, label);
    return h("div", {},
      h("p", {class: "no-print"}, h("a", {href: "#/"}, "← Các sổ / books")),
      h("div", {class: "entry-head"}, h("h1", {}, `Sổ ${b.book}`), progressBar(b), byPageTags(b)),
      h("p", {id: "summary", dataset: {done: b.done, missing: b.missing, doubtful: b.doubtful}},
        `${b.done} xong · ${b.missing} thiếu · ${b.doubtful} cần kiểm tra · ${b.pages} trang · ${mb(b.bytes)} MB` +
        ` · hoạt động gần nhất / last activity: ${when(b.last_activity)}`),
      (b.notes || []).length ? h("ul", {class: "message info", id: "book-notes"}, b.notes.map(x => h("li", {}, x))) : null,
      h("p", {class: "actions"},
        h("a", {class: "button", href: `${bookHref(b.book)}/todo`, id: "todo-link"},
          `In danh sách cần quét (${missing.length}) / print to-do`),
        h("a", {class: "button", href: `#/report?book=${enc(b.book)}`}, "Báo cáo tuần / weekly report")),
      b.strip ? stripSection(b) : null,
      h("div", {class: "filters legend"}, filterButton("all", "Tất cả / all"), filterButton("missing", STATUS.missing),
        filterButton("doubtful", STATUS.doubtful), filterButton("done", STATUS.done)),
      h("div", {class: "grid", id: "grid"}, cells),
      h("h2", {}, `Còn thiếu / missing (${missing.length})`),
      h("p", {id: "missing-list"}, missing.length ? ranges(missing).replaceAll(",", ", ") : "Không còn số nào thiếu / none."));
  },
  // A book page being stated in the strip: a live redraw would throw it away.
  editing() { return document.querySelector("#view .inline-form") !== null; },
};

// --- the printable to-do -----------------------------------------------------------------------
views.todo = {
  title: r => `Cần quét — Sổ ${r.book}`,
  load: r => api(`/api/books/${enc(r.book)}`),
  render(r, b) {
    const missing = b.entries.filter(e => e.status === "missing");
    const numbers = ranges(missing.map(e => e.number));
    // A book captured by page takes no entry separators: a book-start sheet before each run of missing
    // book pages (trangSo), and the pages from there on are placed by the register.
    const pagesMissing = [...new Set(missing.map(e => parseInt(e.page_no, 10)).filter(n => n > 0))].sort((x, y) => x - y);
    const startSheets = pagesMissing.filter((page, i) => i === 0 || pagesMissing[i - 1] < page - 1);
    const station = state.station || {};
    return h("div", {class: "panel"},
      h("p", {class: "no-print"}, h("a", {href: bookHref(b.book)}, `← Sổ ${b.book}`)),
      h("h1", {}, `Danh sách cần quét bổ sung — Sổ ${b.book}`),
      h("p", {}, `Trạm / station: ${station.name || ""}${station.commune ? " · " + station.commune : ""} · ` +
                 `In ngày / printed: ${new Date().toLocaleDateString("vi-VN")} · ${missing.length} trường hợp / entries`),
      missing.length ? h("p", {class: "actions no-print"},
        h("button", {class: "primary", onclick: () => window.print()}, "In / print"),
        b.by_page ? startSheets.map(page => h("a", {class: "button start-sheet-link", download: "",
                                                   href: `/api/books/${enc(b.book)}/start-sheet?page=${page}`},
                                              `Tờ bắt đầu sổ từ trang ${page} (PDF) / book-start sheet from page ${page}`))
          : h("a", {class: "button", id: "separators-link", download: `to-phan-cach-${b.book}.pdf`,
                    href: `/api/books/${enc(b.book)}/separators?entries=${enc(numbers)}`},
              `Tải tờ phân cách cho ${missing.length} số này (PDF) / separator sheets`)) : null,
      missing.length ? h("table", {class: "list", id: "todo"},
        h("thead", {}, h("tr", {}, h("th", {}, "Số / no."), h("th", {}, "Ngày đăng ký / date"),
          h("th", {}, "Trang số / book page"), h("th", {}, "Đã đặt tờ phân cách / sheet in"), h("th", {}, "Đã quét / scanned"))),
        h("tbody", {}, missing.map(e => h("tr", {dataset: {number: e.number}},
          h("td", {}, e.number), h("td", {}, day(e.reg_date)), h("td", {}, e.page_no || "—"),
          h("td", {}, "☐"), h("td", {}, "☐")))))
        : h("p", {class: "message ok"}, "Không còn số nào thiếu / nothing missing."),
      missing.length ? h("p", {class: "print-only"}, b.by_page
        ? startSheets.map(page => `Tờ bắt đầu sổ: station separators ${b.book} --start-page ${page} -o bat-dau-trang-${page}.pdf`).join(" · ")
        : `Tờ phân cách: station separators ${b.book} --entries ${numbers} -o to-phan-cach.pdf`) : null);
  },
};

// --- one entry ---------------------------------------------------------------------------------
async function act(promise, okText) {
  try {
    await promise;
    state.flash = {kind: "ok", text: okText};
  } catch (error) {
    if (error.status === 409) state.flash = {kind: "conflict", text: `Xung đột / conflict: ${error.message}`};
    else state.flash = {kind: "error", text: `Lỗi / error${error.status ? " " + error.status : ""}: ${error.message}`};
  }
  await refresh(true);
}

function inlineForm(card, label, defaults, submit) {
  card.querySelector(".inline-form")?.remove();
  const book = h("input", {name: "book", value: defaults.book, size: 11, "aria-label": "Sổ / book"});
  const number = h("input", {name: "number", type: "number", min: 1, required: true, "aria-label": "Số / entry",
                             placeholder: "số / no."});
  const form = h("form", {class: "inline-form", onsubmit: event => {
      event.preventDefault();
      submit(book.value.trim(), Number(number.value));
    }},
    "Sổ", book, "số", number, h("button", {class: "primary", type: "submit"}, label),
    h("button", {type: "button", onclick: () => { form.remove(); if (state.stale) refresh(true); }}, "Hủy / cancel"));
  card.append(form);
  number.focus();
}

function pageCard(e, scan, page, order) {
  const source = {book: e.book, number: e.number, version: e.version};
  const facts = [
    ["Trang / page", `#${page.id}`], ["Tệp / file", page.source], ["Kết quả / verdict", page.verdict],
    ["Đã chỉnh nghiêng / skew", page.skew_deg == null ? "—" : `${page.skew_deg.toFixed(2)}°`],
    ["Xoay / rotation", page.rotation == null ? "—" : `${page.rotation}°`],
    ["DPI", page.dpi == null ? "—" : `${Math.round(page.dpi)}` +
            (page.input_dpi && Math.round(page.input_dpi) !== Math.round(page.dpi) ? ` (ảnh gốc ${Math.round(page.input_dpi)})` : "")],
    ["Dung lượng / size", kb(page.bytes)], ["Mã vạch / barcode", page.barcode || "—"],
  ];
  if (page.read_number != null) facts.push(["Số đọc được / number read", page.number_evidence
    ? h("span", {}, String(page.read_number), h("br"),
        h("img", {class: "evidence", src: `/api/pages/${page.id}/evidence`, alt: `số ${page.read_number} đọc trên trang`}))
    : String(page.read_number)]);
  if (page.reason) facts.push(["Ghi chú / note", page.reason]);
  const card = h("div", {class: `page-card${page.deleted ? " deleted" : ""}`, dataset: {page: page.id}},
    h("a", {href: `/api/pages/${page.id}/image`, target: "_blank", rel: "noopener"},
      h("img", {class: "large", loading: "lazy", src: `/api/pages/${page.id}/image`, alt: `trang ${page.id}`})),
    page.deleted ? h("span", {class: "badge deleted"}, "đã xóa / deleted") : null,
    h("dl", {}, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  if (page.deleted) return card;
  const at = order.indexOf(page.id);
  const swap = other => {
    const next = order.slice();
    [next[at], next[other]] = [next[other], next[at]];
    return act(api(`/api/books/${enc(e.book)}/entries/${e.number}/reorder`, {pages: next, version: e.version}),
               "Đã sắp lại thứ tự / reordered.");
  };
  card.append(h("div", {class: "actions"},
    scan.counts && order.length > 1 ? [
      h("button", {title: "Lên trước / earlier", disabled: at === 0, dataset: {action: "up"}, onclick: () => swap(at - 1)}, "↑"),
      h("button", {title: "Xuống sau / later", disabled: at === order.length - 1, dataset: {action: "down"},
                   onclick: () => swap(at + 1)}, "↓")] : null,
    h("button", {dataset: {action: "move"}, onclick: () => inlineForm(card, "Chuyển / move", {book: e.book},
      (book, number) => act(api(`/api/pages/${page.id}/move`, {book, number, source}),
                            `Đã chuyển trang ${page.id} sang sổ ${book} số ${number} / page moved.`))},
      "Chuyển sang số… / move"),
    h("button", {dataset: {action: "share"}, onclick: () => inlineForm(card, "Dùng chung / share", {book: e.book},
      (book, number) => act(api(`/api/pages/${page.id}/share`, {book, number, source}),
                            `Trang ${page.id} cũng thuộc sổ ${book} số ${number} / page shared.`))},
      "Dùng chung với số… / share"),
    h("button", {class: "danger", dataset: {action: "delete"}, onclick: () => {
      if (!confirm(`Xóa trang ${page.id} khỏi tệp PDF? Trang vẫn được giữ trong danh mục.\nDelete page ${page.id} from the PDFs?`)) return;
      act(api(`/api/pages/${page.id}/delete`, {source}), `Đã xóa trang ${page.id} / page deleted.`);
    }}, "Xóa / delete")));
  return card;
}

views.entry = {
  title: r => `Sổ ${r.book} · số ${r.number}`,
  load: r => api(`/api/books/${enc(r.book)}/entries/${r.number}`),
  render(r, e) {
    const reason = h("input", {class: "reason-input", name: "reason", maxlength: 300, size: 40, required: true,
                               placeholder: "Lý do (đã đối chiếu sổ gốc…) / reason"});
    const scans = e.scans.map(scan => {
      const order = scan.pages.map(p => p.id);
      const mark = scan.counts ? "đang dùng / in use" : scan.chosen === false ? "không dùng / set aside" : "chưa chọn / not picked";
      return h("section", {class: `panel scan ${scan.counts ? "counts" : "aside"}`, dataset: {scan: scan.id}},
        h("h2", {}, `Lượt quét ${scan.id} · lô ${scan.batch} — ${mark}`),
        scan.damaged ? h("p", {class: "reasons-list"}, "Có ảnh hỏng trong lượt quét này / an unreadable capture") : null,
        e.scans.length > 1 && !scan.counts ? h("p", {}, h("button", {class: "primary", dataset: {action: "pick"},
          onclick: () => act(api(`/api/books/${enc(e.book)}/entries/${e.number}/pick`, {scan: scan.id, version: e.version}),
                             `Dùng lượt quét ${scan.id} / scan picked.`)}, "Dùng lượt quét này / use this scan")) : null,
        h("div", {class: "pages"}, scan.pages.length ? scan.pages.map(p => pageCard(e, scan, p, order))
          : h("p", {class: "muted"}, "Không có trang / no pages")));
    });
    return h("div", {},
      h("p", {class: "no-print"}, h("a", {href: bookHref(e.book)}, `← Sổ ${e.book}`), " · ",
        e.number > 1 ? h("a", {href: entryHref(e.book, e.number - 1)}, `‹ số ${e.number - 1}`) : null, " ",
        h("a", {href: entryHref(e.book, e.number + 1)}, `số ${e.number + 1} ›`)),
      h("div", {class: "entry-head"}, h("h1", {}, `Sổ ${e.book} · số ${e.number}`),
        h("span", {id: "entry-status", dataset: {status: e.status}}, badge(e.status))),
      e.reasons.length ? h("ul", {class: "reasons-list", id: "reasons"}, e.reasons.map(x => h("li", {}, x))) : null,
      (e.warnings || []).length ? h("ul", {class: "warnings-list", id: "warnings"}, e.warnings.map(x => h("li", {}, x))) : null,
      h("p", {}, `Ngày đăng ký / date: ${day(e.reg_date)} · phiên bản / version ${e.version} · `,
        e.pdf ? h("a", {href: `/api/books/${enc(e.book)}/entries/${e.number}/pdf`, target: "_blank", rel: "noopener",
                        id: "pdf-link"}, `Mở tệp PDF (${e.pdf.pages} trang, ${kb(e.pdf.bytes)}) / open PDF`)
              : h("span", {class: "muted"}, "chưa có tệp PDF / no PDF yet"),
        e.scans.length ? [" · ", h("a", {href: `/api/books/${enc(e.book)}/separators?entries=${e.number}`, download: ""},
                                   "Tờ phân cách để quét lại / separator sheet to rescan")] : null),
      e.status === "doubtful" ? h("form", {class: "inline-form", id: "accept", onsubmit: event => {
          event.preventDefault();
          act(api(`/api/books/${enc(e.book)}/entries/${e.number}/accept`, {reason: reason.value, version: e.version}),
              "Đã chấp nhận / accepted.");
        }}, "Chấp nhận dù có cảnh báo / accept despite the warnings:", reason,
        h("button", {class: "primary", type: "submit"}, "Chấp nhận / accept")) : null,
      e.scans.length ? scans : h("p", {class: "message info"}, "Chưa quét số này / not scanned yet. ",
        h("a", {href: `/api/books/${enc(e.book)}/separators?entries=${e.number}`, download: ""},
          "Tờ phân cách (PDF) / separator sheet")));
  },
  editing() {
    // An open form or a typed reason: a live redraw would throw the operator's input away.
    const view = document.getElementById("view");
    return [...view.querySelectorAll("input")].some(i => i.value.trim() && i.name !== "book") ||
           view.querySelector(".page-card .inline-form") !== null;
  },
};

// --- pages held outside every entry -----------------------------------------------------------------
views.held = {
  title: () => "Trang chờ / held pages",
  load: () => api("/api/held"),
  render(_r, data) {
    const card = p => {
      const el = h("div", {class: "page-card", dataset: {page: p.id}},
        p.has_image ? h("img", {class: "large", loading: "lazy", src: `/api/pages/${p.id}/thumbnail`, alt: `trang ${p.id}`}) : null,
        h("dl", {}, h("dt", {}, "Trang / page"), h("dd", {}, `#${p.id} · lô ${p.batch}`), h("dt", {}, "Tệp / file"),
          h("dd", {}, p.source), h("dt", {}, "Lý do / why"), h("dd", {}, p.reason)));
      el.append(h("div", {class: "actions"},
        h("button", {onclick: () => inlineForm(el, "Chuyển vào / move", {book: ""},
          (book, number) => act(api(`/api/pages/${p.id}/move`, {book, number}), `Đã chuyển trang ${p.id} / page moved.`))},
          "Chuyển vào số… / move to entry"),
        h("button", {class: "danger", onclick: () => {
          if (confirm(`Xóa trang ${p.id}? / delete page ${p.id}?`)) act(api(`/api/pages/${p.id}/delete`, {}), `Đã xóa trang ${p.id}.`);
        }}, "Xóa / delete")));
      return el;
    };
    return h("div", {}, h("h1", {}, "Trang nằm ngoài mọi trường hợp / held pages"),
      h("p", {class: "muted"}, "Trang trước tờ phân cách đầu tiên, sau tờ không đọc được hoặc tờ của sổ khác: chuyển vào đúng số hoặc xóa."),
      data.pages.length ? h("div", {class: "pages held-list"}, data.pages.map(card))
        : h("p", {class: "message ok"}, "Không có trang nào chờ / none."));
  },
  editing() { return document.querySelector("#view .inline-form") !== null; },
};

// --- weekly report -----------------------------------------------------------------------------
function weekTable(weeks, id) {
  return h("table", {class: "list", id},
    h("thead", {}, h("tr", {}, h("th", {}, "Tuần / week"), h("th", {}, "Từ / from"), h("th", {}, "Đến / to"),
      h("th", {class: "num"}, "Xong trong tuần / done"), h("th", {class: "num"}, "Lũy kế / cumulative"),
      h("th", {class: "num"}, "Còn lại / remaining"))),
    h("tbody", {}, weeks.map(w => h("tr", {dataset: {week: w.week}}, h("td", {}, w.week), h("td", {}, day(w.start)),
      h("td", {}, day(w.end)), h("td", {class: "num"}, w.done), h("td", {class: "num"}, w.cumulative),
      h("td", {class: "num"}, w.remaining)))));
}

views.report = {
  title: () => "Báo cáo tuần / weekly report",
  load: r => api(`/api/report/weekly${r.book ? "?book=" + enc(r.book) : ""}`),
  render(r, data) {
    const query = r.book ? `?book=${enc(r.book)}` : "";
    return h("div", {class: "panel report"},
      h("h1", {}, "Báo cáo tiến độ số hóa Sổ hộ tịch theo tuần" + (r.book ? ` — Sổ ${r.book}` : "")),
      h("p", {}, `Xã / commune: ${data.commune} · Trạm / station: ${data.station} · Lập lúc / generated: ${when(data.generated_at)}`),
      h("p", {class: "actions no-print"}, h("button", {class: "primary", onclick: () => window.print()}, "In / print"),
        h("a", {class: "button", href: `/api/report/weekly.xlsx${query}`, id: "xlsx-link"}, "Tải Excel / download .xlsx"),
        r.book ? h("a", {class: "button", href: "#/report"}, "Toàn xã / whole commune") : null),
      h("h2", {}, r.book ? `Sổ ${r.book} theo tuần / by week` : "Toàn xã theo tuần / commune by week"),
      weekTable(data.weeks, "weeks"),
      h("h2", {}, "Theo sổ / per book"),
      h("table", {class: "list", id: "report-books"},
        h("thead", {}, h("tr", {}, h("th", {}, "Sổ / book"), h("th", {class: "num"}, "Tổng số / expected"),
          h("th", {class: "num"}, "Xong / done"), h("th", {class: "num"}, "Thiếu / missing"),
          h("th", {class: "num"}, "Cần kiểm tra / doubtful"), h("th", {class: "num"}, "Xong tuần này / this week"),
          h("th", {class: "num"}, "Còn lại / remaining"))),
        h("tbody", {}, data.books.map(b => h("tr", {dataset: {book: b.book}},
          h("td", {}, h("a", {href: `#/report?book=${enc(b.book)}`}, b.book)), h("td", {class: "num"}, b.expected),
          h("td", {class: "num"}, b.done), h("td", {class: "num"}, b.missing), h("td", {class: "num"}, b.doubtful),
          h("td", {class: "num"}, b.done_this_week), h("td", {class: "num"}, b.expected - b.done))))));
  },
};

// --- drawing and refreshing ----------------------------------------------------------------------
function flashBox() {
  if (!state.flash) return null;
  const box = h("div", {class: `message ${state.flash.kind}`, id: "flash", role: "alert"}, state.flash.text);
  if (state.flash.kind === "conflict") {
    box.append(" ", h("button", {onclick: () => { state.flash = null; refresh(true); }}, "Tải lại / reload"));
  }
  return box;
}

function draw() {
  const view = views[state.route.view];
  document.title = `${view.title(state.route)} — Trạm số hóa`;
  document.getElementById("view").replaceChildren(flashBox() || "", view.render(state.route, state.data));
}

function rerender() {
  if (state.data) draw();
}

let loading = null;
let again = null;  // null, or whether the load queued behind the running one is forced

async function refresh(force = false) {
  // One load at a time; changes that arrive meanwhile are taken by one more load after it.
  if (loading) {
    again = again || force;
    return loading;
  }
  const route = state.route;
  const view = views[route.view];
  loading = (async () => {
    try {
      const data = await view.load(route);
      if (route !== state.route) return;
      const json = JSON.stringify(data);
      if (!force && json === state.json) return;
      if (!force && state.json !== null && view.editing && view.editing()) {
        showStale();
        return;
      }
      state.data = data;
      state.json = json;
      state.stale = false;
      draw();
    } catch (error) {
      if (route !== state.route) return;
      document.getElementById("view").replaceChildren(h("p", {class: "message error", role: "alert"},
        `Lỗi / error${error.status ? " " + error.status : ""}: ${error.message}`), h("p", {}, h("a", {href: "#/"}, "← Các sổ / books")));
      state.json = null;
    } finally {
      loading = null;
      if (again !== null) {
        const forced = again;
        again = null;
        refresh(forced);
      }
    }
  })();
  return loading;
}

function showStale() {
  state.stale = true;
  if (document.getElementById("stale")) return;
  document.getElementById("view").prepend(h("div", {class: "message info", id: "stale"},
    "Mục này vừa thay đổi ở nơi khác / changed elsewhere. ",
    h("button", {onclick: () => refresh(true)}, "Tải lại / reload")));
}

function navigate() {
  state.route = parseRoute();
  state.data = state.json = null;
  state.flash = null;
  state.stale = false;
  document.getElementById("view").replaceChildren(h("p", {class: "muted"}, "Đang tải… / loading…"));
  window.scrollTo(0, 0);
  refresh(true);
}

// --- live: catalog changes, device events ---------------------------------------------------------
function touches(change, route) {
  if (change.books === null) return true;
  if (route.view === "book" || route.view === "todo") return change.books.includes(route.book);
  if (route.view === "entry") {
    if (!(route.book in change.entries)) return false;
    const numbers = change.entries[route.book];
    return numbers === null || numbers.includes(route.number);
  }
  return true;
}

function renderBanner(device) {
  const box = document.getElementById("banner");
  box.replaceChildren();
  for (const job of device.paused) {
    box.append(h("div", {class: "event", dataset: {job: job.id}},
      `⚠ Máy quét ${job.device} đang dừng / scanner paused: ${job.message || ""}`,
      h("button", {onclick: () => api(`/api/jobs/${job.id}/resume`, {}).catch(showBannerError)}, "Tiếp tục / resume"),
      h("button", {class: "danger", onclick: () => api(`/api/jobs/${job.id}/stop`, {}).catch(showBannerError)}, "Dừng / stop")));
  }
  for (const event of device.events) {
    box.append(h("div", {class: "event", dataset: {kind: event.kind, seq: event.seq}},
      `⚠ ${event.device}: ${event.message}`, h("span", {class: "when"}, when(event.at)),
      h("button", {onclick: () => api("/api/events/clear", {through: event.seq})
        .then(answer => renderBanner({paused: device.paused, events: answer.events.filter(e => !e.cleared)}))
        .catch(showBannerError)}, "Đã xử lý / clear")));
  }
}

function showBannerError(error) {
  document.getElementById("banner").prepend(h("div", {class: "event"}, `Lỗi / error: ${error.message}`));
}

function setLive(on) {
  const live = document.getElementById("live");
  live.className = `live ${on ? "on" : "off"}`;
  live.textContent = on ? "● trực tiếp / live" : "● mất kết nối / offline";
}

async function loadStation() {
  try {
    state.station = await api("/api/station");
    const s = state.station;
    document.getElementById("station").textContent = `${s.name}${s.commune ? " · " + s.commune : ""}`;
    document.getElementById("held-link").textContent = `Trang chờ / held (${s.held_pages})`;
  } catch (error) { /* shown by the view's own load */ }
}

function connect() {
  const stream = new EventSource("/api/stream");
  stream.addEventListener("open", () => setLive(true));
  stream.addEventListener("device", message => renderBanner(JSON.parse(message.data)));
  stream.addEventListener("catalog", message => {
    const change = JSON.parse(message.data);
    loadStation();
    if (touches(change, state.route)) refresh();
  });
  stream.addEventListener("error", () => {
    setLive(false);
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (token expired, station restarting): ask again in a moment.
      setTimeout(async () => {
        const answer = await fetch("/api/health", {credentials: "same-origin"}).catch(() => null);
        if (answer && answer.status === 401) location.reload();
        else connect();
      }, 3000);
    }
  });
}

function start() {
  const input = document.getElementById("operator");
  input.value = localStorage.getItem("operator") || "";
  input.addEventListener("change", () => localStorage.setItem("operator", input.value.trim()));
  window.addEventListener("hashchange", navigate);
  loadStation().then(() => { if (state.route.view === "books" || state.route.view === "todo") rerender(); });
  navigate();
  connect();
}

document.addEventListener("DOMContentLoaded", start);
