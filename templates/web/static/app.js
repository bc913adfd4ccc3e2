// giaouoc web interface: the little script the pages need (no framework, no build step).
// Every call goes to the service's own JSON API with the session cookie and the page's
// anti-CSRF token. Signing keys are read and used in this browser only (WebCrypto: Ed25519,
// ECDSA P-256, RSASSA-PKCS1-v1_5 with SHA-256).
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ------------------------------------------------------------------ API calls and errors

  class ApiFailure extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || [];
    }
  }

  function sentence(text) {
    if (!text) return "";
    const t = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(t) ? t : t + ".";
  }

  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    const token = $('meta[name="csrf-token"]');
    if (token) headers["X-CSRF-Token"] = token.content;
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    } catch (_) {
      throw new ApiFailure(0, "network", "Không kết nối được với máy chủ. Hãy kiểm tra kết nối mạng rồi thử lại.");
    }
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (res.ok) return data;
    const code = (data && data.error) || "";
    const message = (data && data.message) || "";
    let text;
    if (res.status === 401) {
      text = "Phiên đăng nhập đã hết hạn hoặc mã truy cập đã bị thu hồi. Hãy đăng nhập lại rồi thực hiện lại thao tác.";
    } else if (res.status === 403) {
      text = "Bạn không có quyền làm việc này: " + message;
    } else if (res.status === 413) {
      text = "Dữ liệu gửi lên quá lớn.";
    } else if (res.status >= 500) {
      text = "Máy chủ gặp sự cố. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, hãy báo quản trị viên.";
    } else {
      text = message;
    }
    throw new ApiFailure(res.status, code, sentence(text), data && data.details);
  }

  /** Shows a message in a status element; a 401 gets a link to sign in again. */
  function say(el, text, kind, failure) {
    if (!el) return;
    el.textContent = text;
    el.classList.remove("good", "bad");
    if (kind) el.classList.add(kind);
    if (failure && failure.status === 401) {
      const a = document.createElement("a");
      a.href = "/dang-nhap?tiep=" + encodeURIComponent(location.pathname);
      a.textContent = " Đăng nhập lại";
      el.appendChild(a);
    }
    if (el.hasAttribute("hidden")) el.hidden = false;
  }

  function busy(buttons, on) {
    buttons.forEach((b) => { b.disabled = on; });
  }

  // ------------------------------------------------------------------ covenant page

  function covenantPage() {
    const status = $("#thong-bao");
    const labels = {
      "open-registration": ["open-registration", "Đã mở đăng ký thi đua."],
      freeze: ["freeze", "Đã chốt nội dung và tạo bản PDF, DOCX."],
      archive: ["archive", "Đã lưu trữ bản giao ước đã ký đủ."],
    };
    $$("[data-action]").forEach((button) => {
      button.addEventListener("click", async () => {
        const [path, done] = labels[button.dataset.action];
        const all = $$("[data-action]");
        busy(all, true);
        say(status, "Đang thực hiện…");
        try {
          await api("POST", "/covenants/" + encodeURIComponent(button.dataset.covenant) + "/" + path);
          say(status, done, "good");
          location.reload();
        } catch (e) {
          say(status, e.message, "bad", e);
          busy(all, false);
        }
      });
    });
  }

  // ------------------------------------------------------------------ the year's documents

  /** "Phát hành để ký": the leader unit issues a year's document, then goes to its page. */
  function issueButtons() {
    const status = $("#thong-bao-van-ban");
    $$("[data-issue]").forEach((button) => {
      button.addEventListener("click", async () => {
        const all = $$("[data-issue]");
        busy(all, true);
        say(status, "Đang tạo văn bản và trường chữ ký…");
        try {
          const doc = await api("POST", "/covenants/" + encodeURIComponent(button.dataset.covenant) +
            "/year-documents/" + encodeURIComponent(button.dataset.issue), {});
          say(status, "Đã phát hành văn bản để ký.", "good");
          location.href = "/giao-uoc/" + encodeURIComponent(doc.id);
        } catch (e) {
          say(status, e.message, "bad", e);
          busy(all, false);
        }
      });
    });
  }

  // ------------------------------------------------------------------ field errors

  /** Removes the messages `showFieldError` put in `form`. */
  function clearFieldErrors(form) {
    $$(".field-error.dynamic", form).forEach((e) => e.remove());
    $$(".field-error", form).forEach((e) => { e.hidden = true; e.textContent = ""; });
    $$('[aria-invalid="true"]', form).forEach((e) => {
      e.removeAttribute("aria-invalid");
      e.removeAttribute("aria-describedby");
    });
    const general = $("#loi-chung", form);
    if (general) general.hidden = true;
  }

  /** Shows a message next to the field of `form` at `path` (`data-path`), or in the error
   *  line of the nearest enclosing list (`#loi-<list>`), or in `#loi-chung`. */
  function showFieldError(form, path, message) {
    const el = path ? $(`[data-path="${CSS.escape(path)}"]`, form) : null;
    if (el) {
      const p = document.createElement("p");
      p.className = "field-error dynamic";
      p.id = "loi-" + el.id;
      p.textContent = sentence(message);
      el.insertAdjacentElement("afterend", p);
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", p.id);
      return el;
    }
    const list = (path || "").split(/[.[]/)[0];
    const holder = list ? $("#loi-" + list) : null;
    const target = holder || $("#loi-chung");
    target.textContent = (target.textContent ? target.textContent + " " : "") + sentence(message);
    target.hidden = false;
    return target;
  }

  /** Clears `form`'s messages, shows the server's `details` (or the page's own problems),
   *  and focuses the first field in error. */
  function fieldErrors(form, details) {
    clearFieldErrors(form);
    const shown = (details || []).map((d) => showFieldError(form, d.path, d.message));
    if (shown[0] && shown[0].focus) shown[0].focus();
  }

  // ------------------------------------------------------------------ registration form

  function registrationPage() {
    const dataEl = $("#du-lieu-dang-ky");
    const form = $("#dang-ky");
    if (dataEl) {
      const page = JSON.parse(dataEl.textContent);
      if (form) registrationForm(form, page);
      const review = $("#xem-xet");
      if (review) reviewForm(review, page);
    }
  }

  function field(labelText, path, value, opts) {
    const wrap = document.createElement("div");
    const id = "f-" + path.replace(/[^a-zA-Z0-9]+/g, "-");
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelText;
    const input = document.createElement(opts && opts.multiline ? "textarea" : "input");
    input.id = id;
    input.dataset.path = path;
    if (opts && opts.multiline) input.rows = 2;
    if (opts && opts.numeric) input.inputMode = opts.numeric;
    if (opts && opts.maxlength) input.maxLength = opts.maxlength;
    input.value = value === undefined || value === null ? "" : String(value);
    wrap.append(label, input);
    return wrap;
  }

  function registrationForm(form, page) {
    const model = {
      collective_title: page.data.collective_title || "",
      individual_titles: (page.data.individual_titles || []).map((t) => ({ ...t })),
      pledges: (page.data.pledges || []).map((p) => ({ ...p })),
    };
    const titlesEl = $("#danh-hieu-ca-nhan");
    const pledgesEl = $("#chi-tieu");
    const status = $("#thong-bao");
    $("#collective_title").value = model.collective_title;

    function readInto() {
      model.collective_title = $("#collective_title").value;
      model.individual_titles = $$("li.row", titlesEl).map((li, i) => ({
        title: $(`[data-path="individual_titles[${i}].title"]`, li).value,
        count: $(`[data-path="individual_titles[${i}].count"]`, li).value,
      }));
      model.pledges = $$("li.row", pledgesEl).map((li, i) => ({
        text: $(`[data-path="pledges[${i}].text"]`, li).value,
        indicator: $(`[data-path="pledges[${i}].indicator"]`, li).value,
        target: $(`[data-path="pledges[${i}].target"]`, li).value,
        unit: $(`[data-path="pledges[${i}].unit"]`, li).value,
      }));
    }

    function tools(list, i, what) {
      const box = document.createElement("div");
      box.className = "row-tools";
      const mk = (text, label, action, disabled) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = text;
        b.setAttribute("aria-label", label);
        b.title = label;
        b.dataset.row = String(i);
        b.dataset.list = list;
        b.dataset.tool = action;
        b.disabled = disabled;
        box.appendChild(b);
      };
      const n = model[list].length;
      mk("↑", `Chuyển ${what} ${i + 1} lên`, "up", i === 0);
      mk("↓", `Chuyển ${what} ${i + 1} xuống`, "down", i === n - 1);
      mk("✕", `Xóa ${what} ${i + 1}`, "remove", false);
      return box;
    }

    function render(focusPath) {
      titlesEl.replaceChildren(...model.individual_titles.map((t, i) => {
        const li = document.createElement("li");
        li.className = "row";
        const fields = document.createElement("div");
        fields.className = "row-fields title-row";
        fields.append(
          field("Danh hiệu", `individual_titles[${i}].title`, t.title, { maxlength: 300 }),
          field("Số người", `individual_titles[${i}].count`, t.count, { numeric: "numeric" }),
        );
        li.append(fields, tools("individual_titles", i, "danh hiệu"));
        return li;
      }));
      pledgesEl.replaceChildren(...model.pledges.map((p, i) => {
        const li = document.createElement("li");
        li.className = "row";
        const fields = document.createElement("div");
        fields.className = "row-fields";
        const sub = document.createElement("div");
        sub.className = "sub";
        sub.append(
          field("Chỉ số đo", `pledges[${i}].indicator`, p.indicator, { maxlength: 300 }),
          field("Mục tiêu", `pledges[${i}].target`, p.target, { numeric: "decimal" }),
          field("Đơn vị tính", `pledges[${i}].unit`, p.unit, { maxlength: 50 }),
        );
        fields.append(field("Nội dung chỉ tiêu", `pledges[${i}].text`, p.text, { multiline: true, maxlength: 2000 }), sub);
        li.append(fields, tools("pledges", i, "chỉ tiêu"));
        return li;
      }));
      if (focusPath) {
        const el = $(`[data-path="${focusPath}"]`, form) || $(`[data-add]`, form);
        if (el) el.focus();
      }
    }

    form.addEventListener("click", (ev) => {
      const b = ev.target.closest("button");
      if (!b) return;
      if (b.dataset.add) {
        readInto();
        const list = b.dataset.add;
        model[list].push(list === "pledges" ? { text: "" } : { title: "", count: "" });
        const i = model[list].length - 1;
        render(list === "pledges" ? `pledges[${i}].text` : `individual_titles[${i}].title`);
        return;
      }
      if (b.dataset.tool) {
        readInto();
        const list = b.dataset.list;
        const i = Number(b.dataset.row);
        const rows = model[list];
        const key = list === "pledges" ? "text" : "title";
        if (b.dataset.tool === "remove") {
          rows.splice(i, 1);
          const next = Math.min(i, rows.length - 1);
          render(next >= 0 ? `${list}[${next}].${key}` : null);
          say(status, "Đã xóa một dòng (chưa lưu).");
        } else {
          const j = b.dataset.tool === "up" ? i - 1 : i + 1;
          if (j < 0 || j >= rows.length) return;
          [rows[i], rows[j]] = [rows[j], rows[i]];
          render(`${list}[${j}].${key}`);
        }
        return;
      }
      if (b.dataset.save) save(b.dataset.save === "submit");
    });

    const clearErrors = () => clearFieldErrors(form);
    const showError = (path, message) => showFieldError(form, path, message);

    /** The body to send, or the problems found before sending. */
    function collect() {
      readInto();
      const problems = [];
      const body = { individual_titles: [], pledges: [] };
      const ct = model.collective_title.trim();
      if (ct) body.collective_title = ct;
      model.individual_titles.forEach((t, i) => {
        const count = String(t.count).trim();
        if (!/^\d+$/.test(count)) {
          problems.push([`individual_titles[${i}].count`, "số người phải là số nguyên không âm, ví dụ 12"]);
        }
        body.individual_titles.push({ title: t.title.trim(), count: /^\d+$/.test(count) ? Number(count) : count });
      });
      model.pledges.forEach((p, i) => {
        const out = { text: p.text.trim() };
        if (p.indicator.trim()) out.indicator = p.indicator.trim();
        const target = String(p.target).trim().replace(",", ".");
        if (target) {
          if (!/^-?\d+(\.\d+)?$/.test(target)) {
            problems.push([`pledges[${i}].target`, "mục tiêu phải là một số, ví dụ 95 hoặc 99,5"]);
          } else {
            out.target = Number(target);
          }
        }
        if (p.unit.trim()) out.unit = p.unit.trim();
        body.pledges.push(out);
      });
      return { body, problems };
    }

    async function save(submit) {
      clearErrors();
      const { body, problems } = collect();
      if (problems.length) {
        const first = problems.map(([p, m]) => showError(p, m))[0];
        say(status, `Có ${problems.length} lỗi cần sửa trước khi lưu.`, "bad");
        if (first && first.focus) first.focus();
        return;
      }
      body.submit = submit;
      const buttons = $$("[data-save]", form);
      busy(buttons, true);
      say(status, submit ? "Đang gửi…" : "Đang lưu…");
      try {
        const saved = await api("PUT", `/covenants/${encodeURIComponent(page.covenant)}/registrations/${encodeURIComponent(page.unit)}`, body);
        const badge = $("#trang-thai-dang-ky");
        if (badge) {
          badge.textContent = saved.status === "submitted" ? "Đã gửi, chờ duyệt" : "Bản nháp";
          badge.className = "badge reg-" + saved.status;
        }
        const time = new Date().toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
        say(status, submit
          ? `Đã gửi bản đăng ký cho đơn vị Trưởng khối lúc ${time}. Bạn vẫn sửa được cho đến khi bản đăng ký được chấp nhận.`
          : `Đã lưu nháp lúc ${time}.`, "good");
      } catch (e) {
        if (e.status === 422 && e.details.length) {
          const first = e.details.map((d) => showError(d.path, d.message))[0];
          say(status, `${e.message} Hãy sửa các ô được đánh dấu đỏ.`, "bad");
          if (first && first.focus) first.focus();
        } else {
          say(status, e.message, "bad", e);
        }
      } finally {
        busy(buttons, false);
      }
    }

    render(null);
  }

  function reviewForm(form, page) {
    const status = $("#thong-bao-xem-xet");
    const comment = $("#nhan-xet");
    const error = $("#loi-comment");
    comment.addEventListener("input", () => {
      if (comment.value.trim()) {
        error.hidden = true;
        comment.removeAttribute("aria-invalid");
      }
    });
    $$("[data-review]", form).forEach((b) => {
      b.addEventListener("click", async () => {
        const accept = b.dataset.review === "accept";
        error.hidden = true;
        comment.removeAttribute("aria-invalid");
        const text = comment.value.trim();
        if (!accept && !text) {
          error.textContent = "Hãy ghi nhận xét để đơn vị biết cần sửa gì.";
          error.hidden = false;
          comment.setAttribute("aria-invalid", "true");
          comment.setAttribute("aria-describedby", "loi-comment");
          comment.focus();
          return;
        }
        const buttons = $$("[data-review]", form);
        busy(buttons, true);
        say(status, "Đang gửi…");
        try {
          const url = form.dataset.url ||
            `/covenants/${encodeURIComponent(page.covenant)}/registrations/${encodeURIComponent(page.unit)}/review`;
          const what = form.dataset.what || "bản đăng ký";
          await api("POST", url, text ? { accept, comment: text } : { accept });
          say(status, accept ? `Đã chấp nhận ${what}.` : `Đã trả lại ${what} kèm nhận xét.`, "good");
          location.reload();
        } catch (e) {
          say(status, e.message, "bad", e);
          busy(buttons, false);
        }
      });
    });
  }

  // ------------------------------------------------------------------ results of a period

  /** "1.234,5" or "1234.5" → 1234.5; anything else → NaN. */
  function vnNumber(text) {
    const t = text.trim().replace(/\s/g, "");
    if (!t) return NaN;
    if (/^\d{1,3}(\.\d{3})+(,\d+)?$/.test(t) || /^\d+(,\d+)?$/.test(t)) {
      return Number(t.replace(/\./g, "").replace(",", "."));
    }
    return /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
  }

  function resultsUnitPage() {
    const dataEl = $("#du-lieu-ket-qua");
    if (!dataEl) return;
    const page = JSON.parse(dataEl.textContent);
    const review = $("#xem-xet");
    if (review) reviewForm(review, page);
    const form = $("#ket-qua");
    if (!form) return;
    const base = `/covenants/${encodeURIComponent(page.covenant)}`;
    const status = $("#thong-bao");
    const data = page.data || {};
    const chosen = new Set((data.evidence || []).concat(...(data.pledges || []).map((p) => p.evidence || [])));
    const files = page.evidence.slice();
    // What was saved before.
    (data.pledges || []).forEach((p, i) => {
      const el = $(`#ket-qua-${i}`);
      if (!el) return;
      if (el.tagName === "INPUT" && p.achieved !== null && p.achieved !== undefined) {
        el.value = String(p.achieved).replace(".", ",");
      } else if (p.text) {
        el.value = p.text;
      }
    });
    if (data.summary) $("#tom-tat").value = data.summary;

    function renderFiles() {
      const list = $("#minh-chung");
      list.textContent = "";
      files.forEach((f, i) => {
        const li = document.createElement("li");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.id = `minh-chung-${i}`;
        box.checked = chosen.has(f.sha256);
        box.addEventListener("change", () => { if (box.checked) chosen.add(f.sha256); else chosen.delete(f.sha256); });
        const label = document.createElement("label");
        label.htmlFor = box.id;
        const a = document.createElement("a");
        a.href = f.url;
        a.textContent = f.file_name || f.sha256.slice(0, 12);
        label.append(" Đính kèm ", a);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button small";
        remove.textContent = "Xóa tệp";
        remove.setAttribute("aria-label", `Xóa tệp ${a.textContent}`);
        remove.addEventListener("click", async () => {
          const error = $("#loi-evidence");
          error.hidden = true;
          remove.disabled = true;
          try {
            await api("DELETE", `${base}/evidence/${encodeURIComponent(page.unit)}/${f.sha256}`);
            files.splice(files.indexOf(f), 1);
            chosen.delete(f.sha256);
            renderFiles();
            say(status, `Đã xóa tệp ${a.textContent}.`, "good");
          } catch (e) {
            say(error, e.message, "bad", e);
            remove.disabled = false;
          }
        });
        li.append(box, label, " ", remove);
        list.append(li);
      });
    }
    renderFiles();

    $("#tai-minh-chung").addEventListener("change", async (ev) => {
      const file = ev.target.files && ev.target.files[0];
      const error = $("#loi-evidence");
      error.hidden = true;
      if (!file) return;
      if (file.size > 10 * 1024 * 1024) {
        say(error, "Tệp lớn hơn 10 MB; hãy nén hoặc chia nhỏ tệp.", "bad");
        return;
      }
      say(status, "Đang tải tệp lên…");
      try {
        const headers = { Accept: "application/json" };
        const token = $('meta[name="csrf-token"]');
        if (token) headers["X-CSRF-Token"] = token.content;
        const res = await fetch(`${base}/evidence/${encodeURIComponent(page.unit)}?name=${encodeURIComponent(file.name)}`,
          { method: "POST", headers, body: file, credentials: "same-origin" });
        const body = await res.json().catch(() => null);
        if (!res.ok) throw new ApiFailure(res.status, (body && body.error) || "", sentence((body && body.message) || "Không tải được tệp."));
        if (!files.some((f) => f.sha256 === body.sha256)) files.push(body);
        chosen.add(body.sha256);
        renderFiles();
        say(status, `Đã tải lên ${file.name}.`, "good");
      } catch (e) {
        say(error, e.message, "bad", e);
        say(status, "");
      }
      ev.target.value = "";
    });

    const clearErrors = () => clearFieldErrors(form);
    const showError = (path, message) => showFieldError(form, path, message);

    $$("[data-save]", form).forEach((button) => {
      button.addEventListener("click", async () => {
        clearErrors();
        const problems = [];
        const body = { pledges: [], evidence: Array.from(chosen), submit: button.dataset.save === "submit" };
        page.pledges.forEach((p, i) => {
          const el = $(`#ket-qua-${i}`);
          if (el.tagName === "INPUT") {
            const n = vnNumber(el.value);
            if (Number.isNaN(n)) problems.push([`pledges[${i}].achieved`, "hãy nhập kết quả bằng số, ví dụ 1.234,5"]);
            body.pledges.push({ achieved: Number.isNaN(n) ? el.value : n });
          } else {
            body.pledges.push({ text: el.value.trim() });
          }
        });
        const summary = $("#tom-tat").value.trim();
        if (summary) body.summary = summary;
        if (problems.length) {
          const first = problems.map(([path, m]) => showError(path, m))[0];
          if (first && first.focus) first.focus();
          say(status, `Còn ${problems.length} chỗ cần sửa.`, "bad");
          return;
        }
        const buttons = $$("[data-save]", form);
        busy(buttons, true);
        say(status, "Đang lưu…");
        try {
          const saved = await api("PUT", `${base}/results/${page.period}/${encodeURIComponent(page.unit)}`, body);
          $("#trang-thai-ket-qua").textContent = saved.status === "submitted" ? "Đã gửi, chờ duyệt" : "Bản nháp";
          say(status, saved.status === "submitted" ? "Đã gửi báo cáo kết quả cho đơn vị Trưởng khối." : "Đã lưu nháp.", "good");
        } catch (e) {
          const details = e.details || [];
          const first = details.map((d) => showError(d.path, d.message))[0];
          if (first && first.focus) first.focus();
          say(status, e.message, "bad", e);
        } finally {
          busy(buttons, false);
        }
      });
    });
  }

  // ------------------------------------------------------------------ scores

  function scoresPage() {
    const dataEl = $("#du-lieu-cham-diem");
    const form = $("#cham-diem");
    if (!dataEl || !form) return;
    const page = JSON.parse(dataEl.textContent);
    const pick = $("#don-vi-cham");
    const inputs = $$("[data-id]", form);
    const unit = () => (pick ? pick.value : page.own_unit);
    function fill() {
      const key = pick ? `${unit()}:agreed` : `${unit()}:self`;
      const sheet = page.sheets[key] || (pick && page.sheets[`${unit()}:self`]) || { points: {} };
      inputs.forEach((el) => {
        const v = sheet.points[el.dataset.id];
        el.value = v === undefined ? "" : String(v).replace(".", ",");
      });
      total();
    }
    function total() {
      let t = 0;
      inputs.forEach((el) => {
        const n = vnNumber(el.value);
        if (!Number.isNaN(n)) t += el.dataset.kind === "minus" ? -n : n;
      });
      $("#tong-diem").textContent = (Math.round(t * 100) / 100).toString().replace(".", ",");
    }
    inputs.forEach((el) => el.addEventListener("input", total));
    if (pick) pick.addEventListener("change", fill);
    fill();
    const status = $("#thong-bao");
    $("#luu-diem").addEventListener("click", async () => {
      const points = {};
      const problems = [];
      inputs.forEach((el) => {
        if (!el.value.trim()) return;
        const n = vnNumber(el.value);
        if (Number.isNaN(n)) problems.push({ path: el.dataset.path, message: "điểm phải là số, ví dụ 9,5" });
        else points[el.dataset.id] = n;
      });
      if (problems.length) {
        fieldErrors(form, problems);
        say(status, `Còn ${problems.length} chỗ cần sửa.`, "bad");
        return;
      }
      const url = `/covenants/${encodeURIComponent(page.covenant)}/scores/${encodeURIComponent(unit())}${pick ? "/agreed" : ""}`;
      say(status, "Đang lưu…");
      try {
        const saved = await api("PUT", url, { points });
        fieldErrors(form, []);
        page.sheets[`${unit()}:${pick ? "agreed" : "self"}`] = saved.data;
        say(status, `Đã lưu điểm của ${unit()}: ${saved.total_text} điểm.`, "good");
      } catch (e) {
        fieldErrors(form, e.details);
        say(status, e.message, "bad", e);
      }
    });
  }

  // ------------------------------------------------------------------ conference

  function conferencePage() {
    const dataEl = $("#du-lieu-hoi-nghi");
    const form = $("#hoi-nghi");
    if (!dataEl || !form) return;
    const page = JSON.parse(dataEl.textContent);
    const c = page.conference;
    const set = (sel, v) => { const el = $(sel); if (el && v !== undefined && v !== null) el.value = v; };
    if (c) {
      set("#ngay", c.date); set("#dia-diem", c.place);
      ["chair", "secretary"].forEach((w) => {
        set(`#${w}-name`, c[w].name); set(`#${w}-position`, c[w].position); set(`#${w}-unit`, c[w].unit);
      });
      $$("[data-attend]", form).forEach((b) => { b.checked = c.attending.includes(b.dataset.attend); });
      Object.entries(c.flag_votes).forEach(([u, v]) => set(`#phieu-${u}`, v));
      set("#truong-khoi", c.election.head); set("#phieu-truong-khoi", c.election.head_votes);
      set("#pho-truong-khoi", c.election.deputy); set("#phieu-pho-truong-khoi", c.election.deputy_votes);
    }
    const status = $("#thong-bao");
    const count = (sel) => {
      const t = $(sel).value.trim();
      return /^\d+$/.test(t) ? Number(t) : t;
    };
    $("#luu-hoi-nghi").addEventListener("click", async () => {
      const flag_votes = {};
      $$("[data-votes]", form).forEach((el) => {
        const t = el.value.trim();
        if (t) flag_votes[el.dataset.votes] = /^\d+$/.test(t) ? Number(t) : t;
      });
      const body = {
        date: $("#ngay").value, place: $("#dia-diem").value.trim(),
        chair: { name: $("#chair-name").value.trim(), position: $("#chair-position").value.trim(), unit: $("#chair-unit").value },
        secretary: { name: $("#secretary-name").value.trim(), position: $("#secretary-position").value.trim(), unit: $("#secretary-unit").value },
        attending: $$("[data-attend]", form).filter((b) => b.checked).map((b) => b.dataset.attend),
        flag_votes,
        election: { head: $("#truong-khoi").value, head_votes: count("#phieu-truong-khoi"),
                    deputy: $("#pho-truong-khoi").value, deputy_votes: count("#phieu-pho-truong-khoi") },
      };
      say(status, "Đang lưu…");
      try {
        await api("PUT", `/covenants/${encodeURIComponent(page.covenant)}/conference`, body);
        say(status, "Đã lưu kết quả hội nghị.", "good");
        location.reload();
      } catch (e) {
        fieldErrors(form, e.details);
        say(status, e.message, "bad", e);
      }
    });
    const next = $("#tao-nam-sau");
    if (next) {
      next.addEventListener("click", async () => {
        say(status, "Đang tạo giao ước năm sau…");
        try {
          const created = await api("POST", `/covenants/${encodeURIComponent(page.covenant)}/next-year`, {});
          location.href = "/giao-uoc/" + encodeURIComponent(created.id);
        } catch (e) {
          say(status, e.message, "bad", e);
        }
      });
    }
  }

  // ------------------------------------------------------------------ signing

  function b64ToBytes(b64) {
    const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, ""));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function bytesToB64(bytes) {
    let bin = "";
    new Uint8Array(bytes).forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin);
  }

  class SignProblem extends Error {
    constructor(step, message) {
      super(message);
      this.step = step;
    }
  }

  /** WebCrypto's names for the key kinds the signing page knows (the certificate's key). */
  const ALGORITHMS = {
    ed25519: { key: { name: "Ed25519" }, sign: { name: "Ed25519" }, label: "Ed25519", members: ["x"] },
    p256: {
      key: { name: "ECDSA", namedCurve: "P-256" },
      sign: { name: "ECDSA", hash: "SHA-256" },
      label: "ECDSA P-256",
      members: ["x", "y"],
    },
    rsa: {
      key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      sign: { name: "RSASSA-PKCS1-v1_5" },
      label: "RSA",
      members: ["n"],
    },
  };

  // ---- PKCS#12 (RFC 7292): the private key of a .p12/.pfx file, decrypted here with WebCrypto.

  /** One DER element at `at`: its tag, and where its contents start and end (X.690 §8.1). */
  function der(bytes, at) {
    if (at + 2 > bytes.length) throw new Error("der");
    const tag = bytes[at];
    let len = bytes[at + 1];
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 4 || start + n > bytes.length) throw new Error("der");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i];
      start += n;
    }
    if (start + len > bytes.length) throw new Error("der");
    return { tag, from: at, start, end: start + len, next: start + len, bytes };
  }
  const body = (e) => e.bytes.subarray(e.start, e.end);
  /** The elements inside a constructed element. */
  function children(e) {
    const out = [];
    for (let at = e.start; at < e.end; ) {
      const c = der(e.bytes, at);
      out.push(c);
      at = c.next;
    }
    return out;
  }
  function oid(e) {
    const b = body(e);
    const parts = [Math.floor(b[0] / 40), b[0] % 40];
    let v = 0;
    for (let i = 1; i < b.length; i++) {
      v = v * 128 + (b[i] & 0x7f);
      if (!(b[i] & 0x80)) { parts.push(v); v = 0; }
    }
    return parts.join(".");
  }
  const integer = (e) => body(e).reduce((v, b) => v * 256 + b, 0);
  /** The contents of an [0] EXPLICIT wrapper. */
  const explicit0 = (e) => children(e)[0];

  const OID = {
    data: "1.2.840.113549.1.7.1",
    encryptedData: "1.2.840.113549.1.7.6",
    keyBag: "1.2.840.113549.1.12.10.1.1",
    shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
    pbes2: "1.2.840.113549.1.5.13",
    pbkdf2: "1.2.840.113549.1.5.12",
    aes: { "2.16.840.1.101.3.4.1.2": 128, "2.16.840.1.101.3.4.1.22": 192, "2.16.840.1.101.3.4.1.42": 256 },
    prf: { "1.2.840.113549.2.7": "SHA-1", "1.2.840.113549.2.9": "SHA-256", "1.2.840.113549.2.10": "SHA-384", "1.2.840.113549.2.11": "SHA-512" },
  };

  /** Decrypts PBES2 (RFC 8018 §6.2: PBKDF2 + AES-CBC) content with the password. */
  async function pbes2(algorithm, ciphertext, password) {
    const [algOid, params] = children(algorithm);
    if (oid(algOid) !== OID.pbes2) {
      throw new SignProblem("key", "Tệp .p12 này dùng cách mã hóa cũ (3DES hoặc RC2) mà trình duyệt không hỗ trợ. Hãy xuất lại tệp với mã hóa AES (ví dụ: openssl pkcs12 -export ... mặc định của OpenSSL 3), hoặc ký bằng giaouoc client sign.");
    }
    const [kdf, scheme] = children(params);
    const [kdfOid, kdfParams] = children(kdf);
    if (oid(kdfOid) !== OID.pbkdf2) throw new SignProblem("key", "Tệp .p12 dùng hàm dẫn xuất khóa không được hỗ trợ.");
    const k = children(kdfParams);
    const salt = body(k[0]);
    const iterations = integer(k[1]);
    let hash = "SHA-1";
    for (const extra of k.slice(2)) if (extra.tag === 0x30) hash = OID.prf[oid(children(extra)[0])] || "unsupported";
    const [encOid, iv] = children(scheme);
    const bits = OID.aes[oid(encOid)];
    if (!bits || hash === "unsupported" || iterations > 10000000) {
      throw new SignProblem("key", "Tệp .p12 dùng thuật toán mã hóa không được hỗ trợ.");
    }
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveKey"]);
    const aes = await crypto.subtle.deriveKey(
      { name: "PBKDF2", salt, iterations, hash }, base, { name: "AES-CBC", length: bits }, false, ["decrypt"]);
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv: body(iv) }, aes, ciphertext));
    } catch (_) {
      throw new SignProblem("key", "Mật khẩu của tệp .p12 không đúng.");
    }
  }

  /** The PKCS#8 private key of a PKCS#12 file (the first key bag). */
  async function keyFromP12(bytes, password) {
    let safes;
    try {
      const pfx = children(der(bytes, 0));
      const authSafe = children(pfx[1]);
      if (oid(authSafe[0]) !== OID.data) throw new Error("not data");
      const octets = explicit0(authSafe[1]);
      safes = children(der(body(octets), 0));
    } catch (e) {
      if (e instanceof SignProblem) throw e;
      throw new SignProblem("key", "Tệp đã chọn không phải tệp .p12/.pfx đọc được.");
    }
    for (const info of safes) {
      const [type, content] = children(info);
      let safeContents;
      if (oid(type) === OID.data) {
        safeContents = body(explicit0(content));
      } else if (oid(type) === OID.encryptedData) {
        const encInfo = children(explicit0(content))[1];
        const [, alg, enc] = children(encInfo);
        // [0] IMPLICIT OCTET STRING: primitive (0x80) or constructed (0xa0, concatenated).
        const ct = enc.tag === 0x80 ? body(enc)
          : Uint8Array.from(children(enc).flatMap((c) => Array.from(body(c))));
        safeContents = await pbes2(alg, ct, password);
      } else continue;
      for (const bag of children(der(safeContents, 0))) {
        const [bagId, value] = children(bag);
        const inner = explicit0(value);
        if (oid(bagId) === OID.keyBag) return inner.bytes.slice(inner.from, inner.end);
        if (oid(bagId) === OID.shroudedKeyBag) {
          const [alg, data] = children(inner);
          return pbes2(alg, body(data), password);
        }
      }
    }
    throw new SignProblem("key", "Tệp .p12 không chứa khóa bí mật.");
  }

  /** Reads the key file (PKCS#8 PEM, or PKCS#12 with its password) and checks it is the key
   *  of the unit's certificate. */
  async function loadKey(file, kind, expected, unit, password) {
    const alg = ALGORITHMS[kind];
    if (!file) throw new SignProblem("key", "Hãy chọn tệp khóa bí mật (.key hoặc .p12) của lãnh đạo đơn vị.");
    if (file.size > 65536) {
      throw new SignProblem("key", "Tệp đã chọn quá lớn để là một tệp khóa. Hãy chọn tệp khóa bí mật (.key, .p12).");
    }
    const raw = new Uint8Array(await file.arrayBuffer());
    let pkcs8;
    if (raw[0] === 0x30) {
      pkcs8 = await keyFromP12(raw, password || "");
    } else {
      const text = new TextDecoder().decode(raw);
      if (text.includes("ENCRYPTED PRIVATE KEY")) {
        throw new SignProblem("key", "Tệp khóa PEM này được bảo vệ bằng mật khẩu; hãy dùng tệp .p12 (kèm mật khẩu) hoặc tệp khóa không mật khẩu.");
      }
      const m = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(text);
      if (!m) {
        throw new SignProblem("key", "Tệp đã chọn không phải tệp khóa bí mật. Hãy chọn tệp .key hoặc .p12 (không phải tệp chứng thư .crt hay yêu cầu .csr).");
      }
      pkcs8 = b64ToBytes(m[1]);
    }
    let key;
    try {
      key = await crypto.subtle.importKey("pkcs8", pkcs8, alg.key, true, ["sign"]);
    } catch (_) {
      throw new SignProblem("key", `Tệp khóa không đọc được hoặc không phải khóa ${alg.label} của chứng thư này.`);
    }
    const jwk = await crypto.subtle.exportKey("jwk", key);
    if (alg.members.some((k) => jwk[k] !== expected[k])) {
      throw new SignProblem("key", `Khóa này không khớp với chứng thư số của đơn vị ${unit}: có thể đây là khóa của đơn vị khác hoặc khóa cũ. Chưa có gì được gửi lên máy chủ.`);
    }
    return key;
  }

  /** The page head's progress ("1/16") after a signature was added here. */
  function showProgress(done) {
    const progress = $("#tien-do-ky");
    if (progress && done && done.signed) progress.textContent = done.signed;
  }

  /** The upload form: a file signed elsewhere, or one-time links for a desktop signing tool. */
  function uploadForm() {
    const form = $("#tai-len");
    if (!form) return;
    const { covenant, unit } = form.dataset;
    const base = `/covenants/${encodeURIComponent(covenant)}/signatures/${encodeURIComponent(unit)}`;
    const error = $("#loi-tai-len");
    const result = $("#ket-qua-tai-len");
    const send = $("#nut-tai-len");
    const linkButton = $("#nut-lien-ket");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      result.hidden = true;
      const file = $("#tep-da-ky").files[0];
      if (!file) {
        say(error, "Hãy chọn tệp PDF đã ký.", "bad");
        return;
      }
      const body = new FormData();
      body.append("file", file, file.name);
      busy([send, linkButton], true);
      try {
        const done = await api("POST", base + "/upload", body);
        const now = form.dataset.yearDoc === "true"
          ? `Văn bản hiện có ${done.signed} người ký đã ký`
          : `Giao ước hiện có ${done.signed} đơn vị đã ký`;
        say(result, `Đã nhận bản đã ký${done.tool ? " (ký bằng " + done.tool + ")" : ""}. ${now} (phiên bản ${done.index}).`, "good");
        showProgress(done);
      } catch (e) {
        let message = e.message;
        const reasons = (e.details || []).map((d) => d.message).filter((t) => t && t !== e.message);
        if (reasons.length) message += " " + reasons.map(sentence).join(" ");
        if (e.code === "stale") message = "Tệp được ký trên một phiên bản cũ: đơn vị khác đã ký trước. Hãy tải bản PDF mới nhất, ký lại rồi gửi.";
        say(error, message, "bad", e);
      } finally {
        busy([send, linkButton], false);
      }
    });
    linkButton.addEventListener("click", async () => {
      error.hidden = true;
      busy([send, linkButton], true);
      try {
        const links = await api("POST", base + "/desktop-links", {});
        const out = $("#lien-ket");
        out.replaceChildren();
        const p = document.createElement("p");
        p.textContent = "Dán hai địa chỉ này vào phần mềm ký (mỗi cặp dùng một lần, hết hạn lúc " +
          new Date(links.expires_at).toLocaleTimeString("vi-VN") + "). Tệp ký gửi lên ở trường “uploadfile”.";
        const dl = document.createElement("dl");
        [["Tải tệp", links.download_url], ["Gửi tệp đã ký", links.upload_url]].forEach(([label, path]) => {
          const dt = document.createElement("dt");
          dt.textContent = label;
          const dd = document.createElement("dd");
          const code = document.createElement("code");
          code.textContent = new URL(path, location.href).href;
          dd.append(code);
          dl.append(dt, dd);
        });
        out.append(p, dl);
        out.hidden = false;
      } catch (e) {
        say(error, e.message, "bad", e);
      } finally {
        busy([send, linkButton], false);
      }
    });
  }

  function signPage() {
    uploadForm();
    const form = $("#ky-so");
    if (!form) return;
    const { covenant, unit, keyKind } = form.dataset;
    const expected = JSON.parse(form.dataset.keyJwk || "{}");
    const error = $("#loi-ky");
    const result = $("#ket-qua");
    const button = $("#nut-ky");
    const step = (name, state) => {
      const li = $(`[data-step="${name}"]`, form);
      if (!li) return;
      li.classList.remove("doing", "done", "failed");
      if (state) li.classList.add(state);
    };
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      result.hidden = true;
      ["key", "prepare", "sign", "complete"].forEach((s) => step(s, null));
      if (!window.crypto || !crypto.subtle) {
        say(error, "Trình duyệt chỉ cho phép ký số trên kết nối an toàn. Hãy mở trang này qua HTTPS (hoặc http://127.0.0.1 trên chính máy chủ).", "bad");
        return;
      }
      button.disabled = true;
      let current = "key";
      try {
        step("key", "doing");
        const password = $("#mat-khau-khoa") ? $("#mat-khau-khoa").value : "";
        const key = await loadKey($("#tep-khoa").files[0], keyKind, expected, unit, password);
        step("key", "done");
        const base = `/covenants/${encodeURIComponent(covenant)}/signatures/${encodeURIComponent(unit)}`;
        let done = null;
        for (let attempt = 1; attempt <= 5 && !done; attempt++) {
          current = "prepare";
          step("prepare", "doing");
          const prepared = await api("POST", base + "/prepare", {});
          step("prepare", "done");
          current = "sign";
          step("sign", "doing");
          const toSign = b64ToBytes(prepared.to_sign);
          // What we sign must be a DER SET of CMS signed attributes (RFC 5652 §5.4), nothing else.
          if (toSign[0] !== 0x31 || toSign.length > 8192) {
            throw new SignProblem("sign", "Máy chủ gửi dữ liệu cần ký không đúng dạng thuộc tính ký CMS; trang đã từ chối ký. Hãy báo quản trị viên.");
          }
          if (prepared.signature_algorithm && !prepared.signature_algorithm.startsWith(keyKind === "p256" ? "ecdsa-p256" : keyKind)) {
            throw new SignProblem("sign", "Máy chủ yêu cầu một thuật toán ký khác với khóa đã chọn; trang đã từ chối ký.");
          }
          // ECDSA comes back as r‖s, which the service encodes for CMS.
          const signature = await crypto.subtle.sign(ALGORITHMS[keyKind].sign, key, toSign);
          step("sign", "done");
          current = "complete";
          step("complete", "doing");
          try {
            done = await api("POST", base + "/complete", { prepare_id: prepared.prepare_id, signature: bytesToB64(signature) });
          } catch (e) {
            if (e.status === 409 && e.code === "stale" && attempt < 5) {
              say(result, "Một đơn vị khác vừa ký trước; đang chuẩn bị lại trên phiên bản mới…");
              ["prepare", "sign", "complete"].forEach((s) => step(s, null));
              continue;
            }
            throw e;
          }
        }
        step("complete", "done");
        showProgress(done);
        result.replaceChildren();
        const p = document.createElement("p");
        if (form.dataset.yearDoc === "true") {
          p.textContent = `Đã ký thành công. Văn bản hiện có ${done.signed} người ký đã ký (phiên bản ${done.index}).`;
        } else if (form.dataset.seat === "seal") {
          p.textContent = `Đã đóng dấu thành công. Giao ước hiện có ${done.signed} đơn vị đã ký và đóng dấu (phiên bản ${done.index}).`;
        } else if (form.dataset.seals === "true") {
          p.textContent = `Đã ký thành công (phiên bản ${done.index}). Văn thư của đơn vị đóng dấu tiếp theo; giao ước hiện có ${done.signed} đơn vị đã ký và đóng dấu.`;
        } else {
          p.textContent = `Đã ký thành công. Giao ước hiện có ${done.signed} đơn vị đã ký (phiên bản ${done.index}).`;
        }
        const a = document.createElement("a");
        a.href = `/covenants/${encodeURIComponent(covenant)}/document.pdf`;
        a.className = "button primary";
        a.id = "tai-ban-da-ky";
        a.setAttribute("download", "");
        a.textContent = "Tải bản PDF đã ký";
        const back = document.createElement("a");
        back.href = `/giao-uoc/${encodeURIComponent(covenant)}`;
        back.className = "button";
        back.textContent = "Về trang giao ước";
        result.append(p, a, back);
        result.hidden = false;
        result.focus();
      } catch (e) {
        step(e.step || current, "failed");
        let message = e.message;
        if (e.code === "already_signed") message = `Đơn vị ${unit} đã ký giao ước này rồi.`;
        if (e.code === "bad_signature") message = "Máy chủ từ chối chữ ký: khóa không khớp với chứng thư của đơn vị.";
        say(error, message, "bad", e);
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ verify

  function verifyPage() {
    const form = $("#kiem-tra");
    if (!form) return;
    const input = $("#tep-pdf");
    const zone = $("#vung-tha");
    const error = $("#loi-tep");
    const max = Number(form.dataset.maxBytes);
    function check(file) {
      if (!file) {
        say(error, "Chưa chọn tệp. Hãy chọn hoặc kéo thả tệp PDF giao ước cần kiểm tra.", "bad");
        return false;
      }
      if (max && file.size > max) {
        say(error, `Tệp “${file.name}” quá lớn (${(file.size / 1048576).toFixed(1)} MB): hệ thống nhận tệp tối đa ${Math.floor(max / 1048576)} MB. Hãy kiểm tra xem đã chọn đúng tệp PDF giao ước chưa.`, "bad");
        return false;
      }
      error.hidden = true;
      return true;
    }
    form.addEventListener("submit", (ev) => {
      if (!check(input.files[0])) ev.preventDefault();
    });
    input.addEventListener("change", () => {
      if (check(input.files[0])) form.requestSubmit();
    });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (ev) => {
      ev.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const files = ev.dataTransfer && ev.dataTransfer.files;
      if (!files || !files.length) return;
      input.files = files;
      if (check(files[0])) form.requestSubmit();
    });
  }

  // ------------------------------------------------------------------ start

  const pages = {
    covenant: covenantPage,
    registration: registrationPage,
    results_unit: resultsUnitPage,
    scores: scoresPage,
    conference: conferencePage,
    sign: signPage,
    verify: verifyPage,
  };
  const start = () => {
    const page = pages[document.body.dataset.page];
    if (page) page();
    issueButtons();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
