"use strict";
// The centre's dashboard: province → district → commune → book → entry, over the JSON under /ui/
// (the user's session cookie). Hash routes, plain DOM, nothing loaded from elsewhere.

const STATUS = {done: "xong / done", missing: "thiếu / missing", doubtful: "cần kiểm tra / doubtful"};
const PAGE = 100;          // books of a commune a page
const ENTRY_PAGE = 200;    // entries of a book a page

// h, enc and when: dom.js (the station's, loaded first).
// GET the JSON at `path`, or POST `body` to it as JSON.
async function api(path, body) {
  const answer = await fetch(path, body === undefined ? {credentials: "same-origin"} :
    {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
     body: JSON.stringify(body)});
  if (answer.status === 401) {
    location.assign("/login");     // the session ended: sign in again
    throw new Error("Cần đăng nhập / sign in first");
  }
  const data = await answer.json().catch(() => null);
  if (!answer.ok) throw new Error((data && typeof data.detail === "string") ? data.detail : answer.statusText);
  return data;
}

function progressBar(t) {
  const pct = n => t.expected ? `${(100 * n / t.expected).toFixed(1)}%` : "0%";
  const bar = h("span", {class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": t.expected,
                         "aria-valuenow": t.done},
                h("span", {class: "done"}), h("span", {class: "doubtful"}));
  bar.children[0].style.width = pct(t.done);
  bar.children[1].style.width = pct(t.doubtful);
  return h("span", {class: "progress"}, bar, h("span", {class: "count"}, `${t.done}/${t.expected}`));
}

const COUNT_HEADERS = ["Tiến độ / progress", "Cần kiểm tra / doubtful", "Thiếu / missing", "Cần chọn / to pick"];
const countCells = t => [h("td", {}, progressBar(t)), h("td", {class: "num"}, t.doubtful),
                         h("td", {class: "num"}, t.missing), h("td", {class: "num"}, t.to_pick)];

function table(headers, rows) {
  return h("table", {class: "list"},
           h("thead", {}, h("tr", {}, headers.map(x => h("th", {}, x)))), h("tbody", {}, rows));
}

function rowLink(href, cells, data) {
  return h("tr", {class: "row-link", dataset: data || {}, onclick: () => { location.hash = href; }}, cells);
}

const districtHref = name => `#/district/${enc(name)}`;
const communeHref = name => `#/commune/${enc(name)}`;
const bookHref = id => `#/book/${id}`;

function reportLinks(query, label) {
  return h("p", {class: "no-print"}, `${label}: `,
           h("a", {href: `/report?${query}`, target: "_blank", rel: "noopener"}, "trang in / printable page"), " · ",
           h("a", {href: `/ui/report.xlsx?${query}`}, "Excel"));
}

function pager(offset, limit, total, go) {
  if (total <= limit) return null;
  return h("div", {class: "pager"},
           h("button", {disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit))}, "← trước / previous"),
           h("span", {}, `${offset + 1}–${Math.min(offset + limit, total)} / ${total}`),
           h("button", {disabled: offset + limit >= total, onclick: () => go(offset + limit)}, "sau / next →"));
}

function crumbs(...links) {
  return h("p", {class: "crumbs"}, links.map(([label, href]) => href ? [h("a", {href}, label), "›"] : label));
}

// --- views -------------------------------------------------------------------------------------------
async function provinceView() {
  const data = await api("/ui/province");
  const districts = data.districts.map(d => rowLink(districtHref(d.name), [
    h("td", {}, h("a", {href: districtHref(d.name)}, d.name)), h("td", {class: "num"}, d.communes),
    h("td", {class: "num"}, d.books), ...countCells(d), h("td", {class: "num"}, d.at_risk)], {district: d.name}));
  const stations = data.stations.map(s => h("tr", {class: s.silent ? "silent" : null},
    h("td", {}, s.station, s.revoked ? h("span", {class: "muted"}, " (thu hồi / revoked)") : null),
    h("td", {}, s.commune || "—"),
    h("td", {class: s.silent ? "warn" : null}, when(s.last_contact),
      s.silent ? ` ⚠ quá ${data.silent_hours} giờ / over ${data.silent_hours} h` : null),
    h("td", {class: "num"}, s.pages_per_hour), h("td", {class: "num"}, s.entries_per_day),
    h("td", {class: "num"}, s.pages), h("td", {class: "num"}, s.entries_done)));
  const risky = data.at_risk.map(b => rowLink(bookHref(b.id), [
    h("td", {}, b.commune || "—"), h("td", {}, h("a", {href: bookHref(b.id)}, b.code)), h("td", {}, progressBar(b)),
    h("td", {class: "risks"}, b.risks.join("; ")), h("td", {}, when(b.last_activity))], {book: b.code}));
  return [
    h("h1", {}, "Toàn tỉnh / province"),
    h("p", {class: "summary"}, progressBar(data),
      `${data.books} sổ / books · ${data.at_risk_total} sổ cần chú ý / books at risk`),
    reportLinks("", "Báo cáo tuần toàn tỉnh / the province's weekly report"),
    h("h2", {}, "Huyện / districts"),
    table(["Huyện / district", "Xã / communes", "Sổ / books", ...COUNT_HEADERS, "Cần chú ý / at risk"], districts),
    h("h2", {}, `Trạm / stations — ${data.throughput_days} ngày qua / last ${data.throughput_days} days`),
    table(["Trạm / station", "Xã / commune", "Liên lạc cuối / last contact", "Trang một giờ / pages an hour",
           "Trường hợp một ngày / entries a day", "Trang / pages", "Trường hợp xong / entries done"], stations),
    h("h2", {}, "Sổ cần chú ý / books at risk"),
    h("p", {class: "muted small"}, `Đứng yên: chưa xong và không có gì mới trong ${data.stalled_days} ngày / ` +
      `stalled: unfinished, nothing new for ${data.stalled_days} days.` +
      (data.at_risk_total > data.at_risk.length ? ` ${data.at_risk.length} / ${data.at_risk_total} shown.` : "")),
    risky.length ? table(["Xã / commune", "Sổ / book", "Tiến độ / progress", "Vì sao / why",
                          "Hoạt động cuối / last activity"], risky)
                 : h("p", {class: "muted"}, "Không có / none."),
  ];
}

async function districtView(name) {
  const data = await api(`/ui/district?name=${enc(name)}`);
  const rows = data.communes.map(c => rowLink(communeHref(c.name), [
    h("td", {}, h("a", {href: communeHref(c.name)}, c.name)), h("td", {class: "num"}, c.books), ...countCells(c),
    h("td", {class: "num"}, c.at_risk)], {commune: c.name}));
  return [
    crumbs(["Toàn tỉnh / province", "#/"], [name]),
    h("h1", {}, `Huyện / district: ${name}`),
    data.advice ? h("p", {class: "message info"}, data.advice) : null,
    reportLinks(`district=${enc(name)}`, "Báo cáo tuần của huyện / the district's weekly report"),
    table(["Xã / commune", "Sổ / books", ...COUNT_HEADERS, "Cần chú ý / at risk"], rows),
  ];
}

async function communeView(name, offset) {
  const data = await api(`/ui/commune?name=${enc(name)}&offset=${offset}&limit=${PAGE}`);
  const c = data.commune;
  const rows = data.books.map(b => rowLink(bookHref(b.id), [
    h("td", {}, h("a", {href: bookHref(b.id)}, b.code)), ...countCells(b),
    h("td", {class: "risks"}, b.risks.join("; ")), h("td", {}, when(b.last_activity))], {book: b.code}));
  return [
    crumbs(["Toàn tỉnh / province", "#/"], [c.district, districtHref(c.district)], [c.name]),
    h("h1", {}, `Xã / commune: ${c.name}`),
    h("p", {class: "summary"}, progressBar(c), `${c.books} sổ / books`),
    data.advice ? h("p", {class: "message info"}, data.advice) : null,
    reportLinks(`commune=${enc(c.name)}`, "Báo cáo tuần của xã / the commune's weekly report"),
    table(["Sổ / book", ...COUNT_HEADERS, "Cần chú ý / at risk", "Hoạt động cuối / last activity"], rows),
    pager(data.offset, data.limit, data.total, o => { location.hash = `${communeHref(name)}?offset=${o}`; }),
  ];
}

async function bookView(id, offset, status) {
  const query = `offset=${offset}&limit=${ENTRY_PAGE}` + (status ? `&status=${status}` : "");
  const data = await api(`/ui/books/${id}?${query}`);
  const b = data.book;
  const go = (o, s) => { location.hash = `${bookHref(id)}?offset=${o}` + (s ? `&status=${s}` : ""); };
  const filters = h("div", {class: "filters"},
    [[null, "tất cả / all"], ["done", STATUS.done], ["doubtful", STATUS.doubtful], ["missing", STATUS.missing]]
      .map(([s, label]) => h("button", {class: (status || null) === s ? "on" : null, onclick: () => go(0, s)}, label)));
  const pickButtons = e => e.pick_from.map(station => h("button", {
    class: "pick", dataset: {station}, onclick: async () => {
      if (!confirm(`Số ${e.number}: dùng bản quét của trạm ${station}? / use the scan of station ${station}?`)) return;
      try {
        await api(`/ui/books/${id}/entries/${e.number}/pick`, {station});
        show();
      } catch (error) { alert(error.message); }
    }}, `Dùng bản của ${station} / use ${station}'s`));
  const rows = data.entries.map(e => h("tr", {dataset: {number: e.number}},
    h("td", {class: "num"}, e.number), h("td", {}, h("span", {class: `badge ${e.status}`}, STATUS[e.status]),
      e.to_pick ? [" cần chọn bản quét / rescan to pick ", pickButtons(e)] : null),
    h("td", {}, e.page_no || "—"), h("td", {}, when(e.done_at)), h("td", {class: "small"}, e.stations.join("; "))));
  return [
    crumbs(["Toàn tỉnh / province", "#/"], [b.commune || "—", communeHref(b.commune)], [b.code]),
    h("h1", {}, `Sổ / book ${b.code}`),
    h("p", {class: "summary"}, progressBar(b),
      `${b.doubtful} cần kiểm tra / doubtful · ${b.missing} thiếu / missing · ${b.to_pick} cần chọn / to pick`),
    b.risks.length ? h("p", {class: "risks"}, b.risks.join("; ")) : null,
    filters,
    table(["Số / number", "Tình trạng / status", "Trang / page", "Xong lúc / done at", "Các trạm nói / stations say"],
          rows),
    pager(data.offset, data.limit, data.total, o => go(o, status)),
  ];
}

function route() {
  const [path, query] = (location.hash.replace(/^#/, "") || "/").split("?");
  // "/commune/" keeps its empty name: the books whose commune was never set.
  const parts = path.split("/").slice(1).map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  const offset = Number(params.get("offset")) || 0;
  if (parts[0] === "district" && parts[1] !== undefined) return () => districtView(parts[1]);
  if (parts[0] === "commune" && parts[1] !== undefined) return () => communeView(parts[1], offset);
  if (parts[0] === "book" && parts[1]) return () => bookView(Number(parts[1]), offset, params.get("status"));
  return provinceView;
}

async function show() {
  const view = document.getElementById("view");
  try {
    const content = await route()();
    view.replaceChildren(...content.filter(Boolean));
  } catch (error) {
    view.replaceChildren(h("p", {class: "message error"}, error.message));
  }
}

window.addEventListener("hashchange", show);
document.addEventListener("DOMContentLoaded", async () => {
  show();
  const me = await api("/ui/me").catch(() => null);
  if (me) document.getElementById("user").textContent = me.user;
});
