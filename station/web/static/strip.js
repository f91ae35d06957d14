"use strict";
// A bound book captured by page, on its book's page: the strip of its book pages (the capture filed
// at each, what was read on it, the registrations it holds, why they are withheld), the breaks in the
// sequence and the captures filed nowhere, with the operator's mends. Uses app.js's helpers (h, api,
// act, enc, refresh, state); loaded after it.

function startSheetLink(book, page) {
  return h("a", {class: "button start-sheet", download: "", dataset: {page},
                 href: `/api/books/${enc(book)}/start-sheet?page=${page}`},
    `In tờ bắt đầu từ trang ${page} / start sheet from page ${page}`);
}

function stripThumb(pageId, alt) {
  return h("a", {href: `/api/pages/${pageId}/image`, target: "_blank", rel: "noopener"},
    h("img", {class: "thumb", loading: "lazy", alt, src: `/api/pages/${pageId}/thumbnail`,
              onerror: event => event.target.replaceWith(h("span", {class: "muted small"}, "không có ảnh / no image"))}));
}

function bookPageForm(after, book, pageId) {
  after.parentElement.querySelector(".inline-form")?.remove();
  const input = h("input", {name: "book_page", type: "number", min: 1, required: true, placeholder: "trang / page",
                            "aria-label": "Trang sổ / book page"});
  const form = h("form", {class: "inline-form", onsubmit: event => {
      event.preventDefault();
      const n = Number(input.value);
      act(api(`/api/pages/${pageId}/book-page`, {book_page: n, book}), `Ảnh ${pageId} là trang ${n} / is book page ${n}.`);
    }},
    `Ảnh ${pageId} là trang / is book page`, input, h("button", {class: "primary", type: "submit"}, "Ghi / state"),
    h("button", {type: "button", onclick: () => { form.remove(); if (state.stale) refresh(true); }}, "Hủy / cancel"));
  after.after(form);
  input.focus();
}

function mendActions(book, pageId, missingPage) {
  const box = h("div", {class: "actions"},
    h("button", {class: "danger", dataset: {action: "drop"}, onclick: () => {
      if (!confirm(`Bỏ ảnh ${pageId} khỏi dải trang và mọi tệp PDF? Ảnh vẫn được giữ trong danh mục.\n` +
                   `Drop capture ${pageId} from the book's pages and every PDF?`)) return;
      act(api(`/api/pages/${pageId}/drop`, {book}), `Đã bỏ ảnh ${pageId} / capture dropped.`);
    }}, "Bỏ bản chụp thừa / drop this capture"),
    h("button", {dataset: {action: "state"}, onclick: () => bookPageForm(box, book, pageId)}, "Đây là trang… / this is page…"),
    missingPage ? startSheetLink(book, missingPage) : null);
  return box;
}

function stripCell(book, p) {
  const kind = p.page_id == null ? "gap" : p.doubt ? "doubtful" : p.blank ? "blank" : "filed";
  const read = [
    p.printed_page != null ? `đọc trang / read p. ${p.printed_page}` : null,
    p.numbers_read.length ? `số đọc / nos. read ${p.numbers_read.join(", ")}` : null,
    p.stated_page != null ? `đã ghi trang / stated p. ${p.stated_page}` : null,
  ].filter(Boolean);
  return h("div", {class: `strip-cell ${kind}${p.doubt ? " has-doubt" : ""}`, title: p.doubt || p.source || "",
                   dataset: {bookPage: p.book_page, state: kind, ...(p.page_id != null ? {page: p.page_id} : {})}},
    h("span", {class: "no"}, `Trang ${p.book_page}`),
    p.page_id != null ? stripThumb(p.page_id, `trang ${p.book_page}`) : h("span", {class: "gap-mark"}, "chưa chụp / not captured"),
    p.blank ? h("span", {class: "small"}, "trang trắng / blank") : null,
    p.unreadable ? h("span", {class: "small alert"}, "ảnh hỏng / unreadable") : null,
    h("span", {class: "regs"}, p.registrations.length ? `số / nos. ${p.registrations.join(", ")}` : "—"),
    read.length ? h("span", {class: "read small"}, read.join(" · ")) : null,
    p.doubt ? h("span", {class: "reasons"}, p.doubt) : null,
    p.page_id == null ? startSheetLink(book, p.book_page) : null,
    p.stated_page != null ? h("button", {class: "small", dataset: {action: "clear"}, onclick: () =>
      act(api(`/api/pages/${p.page_id}/book-page`, {book_page: null, book}), `Ảnh ${p.page_id}: đã bỏ ghi trang / statement taken back.`)},
      "Bỏ ghi trang / clear") : null);
}

function breakItem(book, x) {
  const missing = x.found != null && x.found > x.expected && x.withholds.length ? x.expected : null;
  const said = x.found == null ? "giống ảnh trước / the same picture again" : `ảnh nói trang / says page ${x.found}`;
  return h("li", {class: "break", dataset: {page: x.page_id}},
    stripThumb(x.page_id, `ảnh ${x.page_id}`),
    h("div", {},
      h("strong", {}, `Ảnh ${x.page_id} (${x.source})`), ` — chờ trang / expected page ${x.expected}, ${said}`,
      h("div", {class: "reasons"}, x.reason),
      x.withholds.length ? h("div", {class: "small"}, `Đang giữ lại số / holding back nos. ${x.withholds.join(", ")}`)
        : h("div", {class: "small muted"}, "Không giữ lại số nào / holds nothing back"),
      mendActions(book, x.page_id, missing)));
}

function unfiledItem(book, c, isBreak) {
  return h("li", {class: "unfiled", dataset: {page: c.page_id}},
    stripThumb(c.page_id, `ảnh ${c.page_id}`),
    h("div", {}, h("strong", {}, `Ảnh ${c.page_id} (${c.source})`), h("div", {class: "small"}, c.why),
      isBreak ? h("div", {class: "small muted"}, "Xem chỗ đứt ở trên / see the break above") : mendActions(book, c.page_id, null)));
}

function stripSection(b) {
  const s = b.strip;
  const breakPages = new Set(s.breaks.map(x => x.page_id));
  const runs = s.runs.map(r => `trang ${r.start_page} (${r.captures} ảnh)`).join(", ");
  return h("section", {class: "panel strip-panel", id: "strip", dataset: {breaks: s.breaks.length}},
    h("h2", {}, `Các trang của sổ / book pages (${s.pages.length})`),
    h("p", {class: "muted small"}, `Tờ bắt đầu sổ / start sheets: ${runs || "—"} · ${s.confirmed_pages} trang tự xác nhận vị trí ` +
      "/ pages that confirmed their place"),
    h("div", {class: "strip", id: "strip-pages"}, s.pages.map(p => stripCell(b.book, p))),
    h("h3", {}, `Chỗ đứt / breaks (${s.breaks.length})`),
    s.breaks.length ? h("ul", {class: "mend-list", id: "breaks"}, s.breaks.map(x => breakItem(b.book, x)))
      : h("p", {class: "message ok", id: "no-breaks"}, "Không có chỗ đứt / no breaks."),
    s.unfiled.length ? [h("h3", {}, `Ảnh không xếp vào trang nào / captures filed nowhere (${s.unfiled.length})`),
      h("ul", {class: "mend-list", id: "unfiled"}, s.unfiled.map(c => unfiledItem(b.book, c, breakPages.has(c.page_id))))] : null);
}
