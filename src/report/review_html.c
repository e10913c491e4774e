/* The access review as one self-contained HTML page: the evidence header,
 * the summary, what changed, and a table of every identity that reads
 * without JavaScript, which a small inline script sorts and filters. The
 * page loads nothing (a Content-Security-Policy allows only its own inline
 * style and script, by hash), and every string from logs, IAM files, the
 * config or a previous review is escaped and stays out of the script and
 * the style. */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"
#include "report/internal.h"
#include "util/sha256.h"

#include <inttypes.h>
#include <string.h>

/* The stylesheet and the script are constants: the CSP names their
 * SHA-256, so nothing of the review may ever go into them. */
static const char css[] =
    "\n"
    ":root{--line:#c9d1d9;--muted:#57606a;--head:#f3f5f7;--used:#2e7d32;--unused:#c62828;"
    "--unknown:#e0a800}\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",Arial,"
    "sans-serif;margin:1.5em;color:#1f2328;background:#fff}\n"
    "h1{font-size:1.6em;margin:0 0 .2em}\n"
    "h2{font-size:1.25em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid "
    "var(--line)}\n"
    "h3{font-size:1.05em;margin:1.2em 0 .4em}\n"
    "p.sub,.sub{color:var(--muted)}\n"
    ".banner{border:3px solid #b3261e;background:#fde8e7;color:#410e0b;padding:.8em 1em;"
    "margin:1em 0;font-size:1.1em}\n"
    ".banner strong{font-size:1.25em;letter-spacing:.06em;margin-right:.4em}\n"
    "table{border-collapse:collapse;margin:.4em 0}\n"
    "th,td{border:1px solid var(--line);padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "thead th{background:var(--head);position:sticky;top:0;z-index:1}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.n,.nowrap{white-space:nowrap}\n"
    ".wide{overflow-x:auto}\n"
    "#ct-identities{font-size:13px}\n"
    "#ct-identities dl.facts{max-width:36em}\n"
    "#ct-identities td>details[open]{min-width:30em}\n"
    "td.chg{white-space:nowrap}\n"
    "code{font:12px/1.4 ui-monospace,\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
    "overflow-wrap:anywhere}\n"
    ".esc{border:1px dashed #b3261e;color:#b3261e;padding:0 .1em}\n"
    ".tag{display:inline-block;border:1px solid var(--line);border-radius:3px;padding:0 .3em;"
    "margin-left:.35em;font-size:.8em;color:var(--muted);white-space:nowrap}\n"
    ".flag{font-weight:700}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em .9em;margin:.5em 0;"
    "max-width:70em}\n"
    "dl.facts dt{color:var(--muted)}\n"
    "dl.facts dd{margin:0}\n"
    "ul.names{margin:0;padding-left:1.2em}\n"
    "ul.uses{margin:0;padding-left:1.2em}\n"
    "ul.uses li{margin-bottom:.4em}\n"
    "ul.uses svg.bar{margin:.2em 0}\n"
    "ul.warnings li{margin:.2em 0}\n"
    "table.summary td{font-size:1.3em;text-align:center;min-width:6em}\n"
    "table.summary th{text-align:center;font-weight:normal;color:var(--muted)}\n"
    "details>summary{cursor:pointer}\n"
    "tr:target>td{outline:2px solid #0969da}\n"
    "svg.bar{display:block;width:110px;height:12px;border:1px solid #6e7781;background:#fff}\n"
    ".bar .u{fill:var(--used)}.bar .x{fill:var(--unused)}.bar .q{fill:var(--unknown)}\n"
    ".key{display:inline-block;width:.9em;height:.9em;border:1px solid #6e7781;"
    "vertical-align:-.1em;margin:0 .25em 0 .6em}\n"
    ".key.u{background:var(--used)}.key.x{background:var(--unused)}"
    ".key.q{background:var(--unknown)}\n"
    ".controls{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;margin:.6em 0;"
    "padding:.5em .7em;background:var(--head);border:1px solid var(--line)}\n"
    ".controls input[type=search]{min-width:18em;font:inherit}\n"
    "th button.sort{font:inherit;font-weight:700;color:inherit;background:none;border:0;"
    "padding:0;cursor:pointer;text-align:left}\n"
    "th[aria-sort=ascending] button.sort::after{content:\" \\25B2\"}\n"
    "th[aria-sort=descending] button.sort::after{content:\" \\25BC\"}\n"
    "[hidden]{display:none!important}\n"
    "@page{size:landscape;margin:1cm}\n"
    "@media print{\n"
    ".controls,button.sort::after{display:none!important}\n"
    "body{margin:0;font-size:9pt}\n"
    "#ct-identities{font-size:8pt}\n"
    "#ct-identities dl.facts{max-width:26em}\n"
    "#ct-identities td>details{min-width:22em}\n"
    "td.n,td.chg{white-space:normal}\n"
    "th,td{padding:.15em .3em}\n"
    "code{font-size:7.5pt}\n"
    /* the bar repeats the counts beside it in colour: the page needs the room */
    "#ct-identities>thead>tr>th:nth-child(14),#ct-identities>tbody>tr>td:nth-child(14)"
    "{display:none}\n"
    "thead th{position:static}\n"
    "thead{display:table-header-group}\n"
    "tr{break-inside:avoid}\n"
    "a{color:inherit;text-decoration:none}\n"
    "details>summary{list-style:none}\n"
    "svg.bar,.key,.banner{print-color-adjust:exact;-webkit-print-color-adjust:exact}\n"
    "}\n"
    "@media print{details::details-content{content-visibility:visible;display:block}}\n";

static const char js[] =
    "\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var root = document.documentElement, errors = [];\n"
    "  function fail(msg) {\n"
    "    errors.push(String(msg));\n"
    "    root.setAttribute('data-ct-errors', errors.join(' | '));\n"
    "  }\n"
    "  window.onerror = function (msg, src, line) { fail(msg + ' (line ' + line + ')'); };\n"
    "  document.addEventListener('securitypolicyviolation', function (e) {\n"
    "    fail('blocked by the Content-Security-Policy: ' + e.violatedDirective);\n"
    "  });\n"
    "  var style = document.querySelector('style');\n"
    "  if (!style || !style.sheet) fail('the stylesheet was not applied');\n"
    "  var table = document.getElementById('ct-identities');\n"
    "  var body = table.tBodies[0], rows = [].slice.call(body.rows);\n"
    "  var heads = [].slice.call(table.tHead.rows[0].cells);\n"
    "  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });\n"
    "  var sortCol = -1, sortDir = 1;\n"
    "  function key(row, col) {\n"
    "    var cell = row.cells[col], v = cell.getAttribute('data-v');\n"
    "    return v === null ? cell.textContent.trim() : v;\n"
    "  }\n"
    "  function sortBy(col) {\n"
    "    sortDir = col === sortCol ? -sortDir : 1;\n"
    "    sortCol = col;\n"
    "    var num = heads[col].getAttribute('data-type') === 'num';\n"
    "    var items = rows.map(function (row, i) {\n"
    "      var k = key(row, col);\n"
    "      return {row: row, i: i, blank: k === '', k: num ? Number(k) : k.toLowerCase()};\n"
    "    });\n"
    "    items.sort(function (a, b) {\n"
    "      if (a.blank !== b.blank) return a.blank ? 1 : -1;\n"
    "      var d = num ? a.k - b.k : a.k < b.k ? -1 : a.k > b.k ? 1 : 0;\n"
    "      return d * sortDir || a.i - b.i;\n"
    "    });\n"
    "    items.forEach(function (it) { body.appendChild(it.row); });\n"
    "    heads.forEach(function (h, i) {\n"
    "      if (i === col) h.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');\n"
    "      else h.removeAttribute('aria-sort');\n"
    "    });\n"
    "  }\n"
    "  heads.forEach(function (h, i) {\n"
    "    var b = document.createElement('button');\n"
    "    b.type = 'button';\n"
    "    b.className = 'sort';\n"
    "    b.title = 'Sort by this column';\n"
    "    while (h.firstChild) b.appendChild(h.firstChild);\n"
    "    h.appendChild(b);\n"
    "    b.addEventListener('click', function () { sortBy(i); });\n"
    "  });\n"
    "  var controls = document.getElementById('ct-controls');\n"
    "  var q = document.getElementById('ct-q'), shown = document.getElementById('ct-shown');\n"
    "  var boxes = [].slice.call(controls.querySelectorAll('input[type=checkbox]'));\n"
    "  function apply() {\n"
    "    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean);\n"
    "    var kinds = {}, only = [], n = 0;\n"
    "    boxes.forEach(function (b) {\n"
    "      if (b.hasAttribute('data-kind')) kinds[b.getAttribute('data-kind')] = b.checked;\n"
    "      else if (b.checked) only.push(b.getAttribute('data-only'));\n"
    "    });\n"
    "    rows.forEach(function (row, i) {\n"
    "      var ok = kinds[row.getAttribute('data-kind')] !== false &&\n"
    "        only.every(function (a) { return row.getAttribute('data-' + a) === 'yes'; }) &&\n"
    "        words.every(function (w) { return texts[i].indexOf(w) >= 0; });\n"
    "      row.hidden = !ok;\n"
    "      if (ok) n++;\n"
    "    });\n"
    "    shown.textContent = n + ' of ' + rows.length + ' identities shown';\n"
    "  }\n"
    "  q.addEventListener('input', apply);\n"
    "  boxes.forEach(function (b) { b.addEventListener('change', apply); });\n"
    "  controls.hidden = false;\n"
    "  apply();\n"
    "  var reopen = [];\n"
    "  window.addEventListener('beforeprint', function () {\n"
    "    reopen = [].filter.call(document.querySelectorAll('details'), function (d) {\n"
    "      return !d.open;\n"
    "    });\n"
    "    reopen.forEach(function (d) { d.open = true; });\n"
    "  });\n"
    "  window.addEventListener('afterprint', function () {\n"
    "    reopen.forEach(function (d) { d.open = false; });\n"
    "    reopen = [];\n"
    "  });\n"
    "  root.setAttribute('data-ct-ready', '1');\n"
    "})();\n";

/* ---- escaping ---- */

/* Writes n bytes of s as HTML text, or as an attribute's value (quoted
 * with "): the five markup characters as references, bytes that are not
 * UTF-8 as U+FFFD, and what nobody would see (controls, bidirectional
 * overrides, zero-width characters) as \uNNNN, marked as such in text
 * (`markup`). */
static void put_n(FILE *out, const char *s, size_t n, bool markup)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = ct_render_char(s + i, n - i, &cp);
        if (cp == '&')
            fputs("&amp;", out);
        else if (cp == '<')
            fputs("&lt;", out);
        else if (cp == '>')
            fputs("&gt;", out);
        else if (cp == '"')
            fputs("&quot;", out);
        else if (cp == '\'')
            fputs("&#39;", out);
        else if (cp == CT_RENDER_INVALID)
            fputs("\xEF\xBF\xBD", out);
        else if (ct_render_invisible(cp)) {
            char code[12];
            snprintf(code, sizeof(code), cp > 0xFFFF ? "\\U%08" PRIX32 : "\\u%04" PRIX32, cp);
            if (markup)
                fprintf(out, "<span class=\"esc\" title=\"U+%04" PRIX32 "\">%s</span>", cp, code);
            else
                fputs(code, out);
        } else
            fwrite(s + i, 1, k, out);
        i += k;
    }
}

static void put(FILE *out, const char *s)
{
    s = s ? s : "";
    put_n(out, s, strlen(s), true);
}

static void put_attr(FILE *out, const char *s)
{
    s = s ? s : "";
    put_n(out, s, strlen(s), false);
}

static void put_code(FILE *out, const char *s)
{
    fputs("<code>", out);
    put(out, s);
    fputs("</code>", out);
}

static void put_day(FILE *out, int64_t day)
{
    char buf[11];
    ct_date_format_day(day, buf);
    fputs(buf, out);
}

static void put_days(FILE *out, int64_t n)
{
    fprintf(out, "%" PRId64 " day%s", n, n == 1 ? "" : "s");
}

/* An argument as a POSIX shell would need it to run the same command. */
static void put_arg(FILE *out, const char *a)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_-./:=@%+,";
    size_t n = strlen(a);
    if (n && strspn(a, plain) == n) {
        put(out, a);
        return;
    }
    fputs("&#39;", out);
    for (const char *q; (q = strchr(a, '\'')) != NULL; a = q + 1) {
        put_n(out, a, (size_t)(q - a), true);
        fputs("&#39;\\&#39;&#39;", out);
    }
    put(out, a);
    fputs("&#39;", out);
}

/* How many names a list shows: an administrator's grants still unused
 * since the last review are thousands, which the JSON lists. */
#define NAMES_MAX 300

/* Action names as a list: inline when short, else in a <details>; `none`
 * when there are none. */
static void put_names(FILE *out, const char *const *names, size_t n, const char *none)
{
    if (!n) {
        fputs(none, out);
        return;
    }
    if (n > 6)
        fprintf(out, "<details><summary>%zu actions</summary>", n);
    for (size_t i = 0; i < n && i < NAMES_MAX; i++) {
        if (i)
            fputs(", ", out);
        put_code(out, names[i]);
    }
    if (n > NAMES_MAX)
        fprintf(out, " and %zu more (the JSON review lists them all)", n - NAMES_MAX);
    if (n > 6)
        fputs("</details>", out);
}

static void csp_source(const char *text, char out[CT_BASE64_SIZE(CT_SHA256_LEN)])
{
    uint8_t digest[CT_SHA256_LEN];
    ct_sha256_digest(text, strlen(text), digest);
    ct_base64_encode(digest, sizeof(digest), out);
}

/* ---- the head and the evidence header ---- */

static void page_head(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    char css_hash[CT_BASE64_SIZE(CT_SHA256_LEN)], js_hash[CT_BASE64_SIZE(CT_SHA256_LEN)];
    csp_source(css, css_hash);
    csp_source(js, js_hash);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", out);
    /* Nothing to load, and only this page's own style and script may run
     * (a link in the page still opens: navigation is not a load). */
    fprintf(out,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'sha256-%s'; script-src 'sha256-%s'; base-uri 'none'; "
            "form-action 'none'\">\n",
            css_hash, js_hash);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", out);
    fputs("<meta name=\"generator\" content=\"cloudtracker ", out);
    put_attr(out, rep->tool_version);
    fputs("\">\n<title>", out);
    if (rep->incomplete)
        fputs("INCOMPLETE: ", out);
    fputs("Access review ", out);
    put_day(out, r->window.first_day);
    fputs(" to ", out);
    put_day(out, r->window.last_day);
    for (size_t i = 0; i < r->account_count; i++) {
        fputs(i ? ", " : " \xE2\x80\x94 ", out);
        put_attr(out, r->accounts[i].view->name);
    }
    fputs("</title>\n<style>", out);
    fputs(css, out);
    fputs("</style>\n</head>\n<body>\n", out);
}

static void banner(FILE *out)
{
    fputs("<div class=\"banner\" role=\"alert\" id=\"ct-incomplete\"><strong>INCOMPLETE</strong>"
          "This review rests on inputs that were skipped or read only in part (see the "
          "warnings below): it may miss activity, so identities may look more idle, or their "
          "grants less used, than they are.</div>\n",
          out);
}

/* The identities of the review in account `a`, of one kind. */
static size_t reviewed_in(const ct_review *r, const ct_review_account *a, ct_review_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->identity_count; i++)
        n += r->identities[i].kind == kind && r->identities[i].account &&
             strcmp(r->identities[i].account->id, a->view->id) == 0;
    return n;
}

static void days_without_events(FILE *out, const ct_review *r, const ct_review_account *a)
{
    int64_t span = r->window.last_day - r->window.first_day + 1;
    if (!a->empty_day_count) {
        fprintf(out, "none of %" PRId64, span);
        return;
    }
    fprintf(out, "<span class=\"flag\">%zu of %" PRId64 "</span>: ", a->empty_day_count, span);
    for (size_t k = 0; k < a->empty_run_count; k++) {
        const ct_window *run = &a->empty_runs[k];
        if (k)
            fputs(", ", out);
        put_day(out, run->first_day);
        if (run->last_day != run->first_day) {
            fputs(" to ", out);
            put_day(out, run->last_day);
        }
    }
}

static void data_events(FILE *out, const ct_data_events *d)
{
    if (!d->count) {
        fputs("none in the logs", out);
        return;
    }
    fprintf(out, "<details><summary>%zu kind%s</summary><ul class=\"names\">", d->count,
            d->count == 1 ? "" : "s");
    for (size_t i = 0; i < d->count; i++) {
        const ct_data_event *e = &d->items[i];
        fputs("<li><code>", out);
        put(out, e->event_source);
        fputc(' ', out);
        put(out, e->event_name);
        fprintf(out, "</code> (%s): %" PRIu64 " events</li>",
                e->read_only < 0 ? "readOnly not recorded"
                : e->read_only   ? "read-only"
                                 : "write",
                e->count);
    }
    fputs("</ul></details>", out);
}

/* ---- the credential report ---- */

/* A yes/no column of the credential report, or AWS's word for no value. */
static void credential_bool(FILE *out, const ct_credential_bool *b, const char *yes, const char *no)
{
    switch (b->state) {
    case CT_CREDENTIAL_VALUE:
        fputs(b->value ? yes : no, out);
        break;
    case CT_CREDENTIAL_NOT_APPLICABLE:
        fputs("<code>N/A</code>", out);
        break;
    case CT_CREDENTIAL_NO_INFORMATION:
        fputs("<code>no_information</code>", out);
        break;
    case CT_CREDENTIAL_NOT_SUPPORTED:
        fputs("<code>not_supported</code>", out);
        break;
    }
}

/* A password or an access key: on or off, its last use as the report
 * writes it, and for an active one how long it has been unused and from
 * what that is counted (ct_credential_unused). */
static void credential_item(FILE *out, const char *name, const ct_credential_bool *on,
                            const char *yes, const char *no, const ct_credential_time *last_used,
                            const ct_credential_unused *u)
{
    fprintf(out, "<li>%s: ", name);
    credential_bool(out, on, yes, no);
    if (u->since != CT_CREDENTIAL_SINCE_INACTIVE) {
        fputs(", last used ", out);
        put_code(out, last_used->text);
        fputs(u->flagged ? "; <span class=\"flag\">" : "; ", out);
        if (u->days >= 0) {
            fputs("unused ", out);
            put_days(out, u->days);
        }
        fputs(u->since == CT_CREDENTIAL_SINCE_USE       ? " since its last use"
              : u->since == CT_CREDENTIAL_SINCE_SET     ? " since it was set (no use on record)"
              : u->since == CT_CREDENTIAL_SINCE_CREATED ? " since the user was created (no use "
                                                          "or set date on record)"
                                                        : "no date on record to count from",
              out);
        if (u->flagged)
            fputs("</span> (flagged)", out);
    }
    fputs("</li>", out);
}

/* What the credential report says of a user or the root user (`u` NULL:
 * the report has no row for it). */
static void credentials(FILE *out, const ct_credential_user *u, const ct_credential_dormancy *c)
{
    if (!u) {
        fputs("<span class=\"flag\">not in the credential report</span>", out);
        return;
    }
    fputs("<ul class=\"names\">", out);
    credential_item(out, "password", &u->password_enabled, "enabled", "disabled",
                    &u->password_last_used, &c->password);
    fputs("<li>MFA: ", out);
    credential_bool(out, &u->mfa_active, "active", "<span class=\"flag\">not active</span>");
    fputs("</li>", out);
    credential_item(out, "access key 1", &u->keys[0].active, "active", "inactive",
                    &u->keys[0].last_used, &c->keys[0]);
    credential_item(out, "access key 2", &u->keys[1].active, "active", "inactive",
                    &u->keys[1].last_used, &c->keys[1]);
    fputs("</ul>", out);
}

/* The review's entry of an account. */
static const ct_review_account *account_of(const ct_review *r, const ct_account_view *view)
{
    for (size_t i = 0; view && i < r->account_count; i++)
        if (r->accounts[i].view == view)
            return &r->accounts[i];
    return NULL;
}

static void account_row(FILE *out, const ct_review_report *rep, const ct_review_account *a)
{
    const ct_review *r = rep->review;
    const ct_account_coverage *c = &a->coverage;
    fputs("<tr><td>", out);
    put(out, a->view->name);
    fputs("<br><code class=\"nowrap\">", out);
    put(out, a->view->id);
    fputs("</code></td>\n<td><dl class=\"facts\"><dt>IAM file</dt><dd>", out);
    put_code(out, a->iam_path);
    fputs("</dd><dt>SHA-256</dt><dd>", out);
    put_code(out, a->iam_sha256);
    fputs("</dd><dt>Latest date in it</dt><dd>", out);
    put(out, a->iam_latest_date && a->iam_latest_date[0] ? a->iam_latest_date : "none stated");
    size_t users = reviewed_in(r, a, CT_REVIEW_USER), roles = reviewed_in(r, a, CT_REVIEW_ROLE);
    fprintf(out, "</dd><dt>Users</dt><dd>%zu in the file, %zu reviewed%s</dd>", a->users, users,
            users == a->users ? "" : " <span class=\"flag\">(differs)</span>");
    fprintf(out, "<dt>Roles</dt><dd>%zu in the file, %zu reviewed%s</dd>", a->roles, roles,
            roles == a->roles ? "" : " <span class=\"flag\">(differs)</span>");
    if (a->credentials) {
        fputs("<dt>Credential report</dt><dd>", out);
        put_code(out, a->credentials_path);
        fputs("</dd><dt>Root user</dt><dd>", out);
        credentials(out, a->root, &a->root_check);
        fputs("</dd>", out);
    }
    fputs("</dl></td>\n", out);
    fprintf(out, "<td><dl class=\"facts\"><dt>Events</dt><dd>%" PRIu64 "</dd>", c->events);
    fputs("<dt>Days without events</dt><dd>", out);
    days_without_events(out, r, a);
    fputs("</dd><dt>Regions</dt><dd>", out);
    for (size_t k = 0; k < c->region_count; k++) {
        if (k)
            fputs(", ", out);
        if (c->regions[k][0])
            put(out, c->regions[k]);
        else
            fputs("(no Region)", out);
    }
    if (!c->region_count)
        fputs("none", out);
    fputs("</dd><dt>Data events</dt><dd>", out);
    data_events(out, &c->data);
    fputs("</dd><dt>Trail files</dt><dd>", out);
    if (c->files_known) {
        fprintf(out, "%" PRIu64 " read, ", c->files_read);
        fprintf(out,
                c->files_partial ? "<span class=\"flag\">%" PRIu64 " read in part</span>, "
                                 : "%" PRIu64 " read in part, ",
                c->files_partial);
        fprintf(out,
                c->files_skipped ? "<span class=\"flag\">%" PRIu64 " skipped</span>"
                                 : "%" PRIu64 " skipped",
                c->files_skipped);
    } else {
        fputs("not known (", out);
        put(out, rep->backend);
        fputs(" holds records, not files)", out);
    }
    fputs("</dd></dl></td></tr>\n", out);
}

static void evidence(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    char made[21];
    ct_review_format_time(rep->made_at, made);
    fputs("<section id=\"ct-evidence\">\n<h2>Evidence: what this review rests on</h2>\n"
          "<dl class=\"facts\">\n<dt>Tool</dt><dd>cloudtracker ",
          out);
    put(out, rep->tool_version);
    fputs("</dd>\n<dt>Command line</dt><dd><code>", out);
    for (size_t i = 0; i < rep->argc; i++) {
        if (i)
            fputc(' ', out);
        put_arg(out, rep->argv[i]);
    }
    fprintf(out, "</code></dd>\n<dt>Made at</dt><dd>%s</dd>\n<dt>Backend</dt><dd>", made);
    put(out, rep->backend);
    fputs("</dd>\n<dt>Window</dt><dd>", out);
    put_day(out, r->window.first_day);
    fputs(" to ", out);
    put_day(out, r->window.last_day);
    fprintf(out,
            " (%" PRId64 " days)</dd>\n<dt>Dormant</dt><dd>no activity in the %u days that end "
            "with the window</dd>\n<dt>Complete</dt><dd>%s</dd>\n</dl>\n",
            r->window.last_day - r->window.first_day + 1, r->dormant_days,
            rep->incomplete ? "<span class=\"flag\">no</span>: inputs were skipped or read in "
                              "part"
                            : "yes: no input is known to be skipped or read in part");
    fputs("<h3>Accounts</h3>\n<div class=\"wide\"><table class=\"accounts\">\n<thead><tr>"
          "<th>Account</th><th>IAM data</th><th>Trail coverage in the window</th></tr></thead>\n"
          "<tbody>\n",
          out);
    for (size_t i = 0; i < r->account_count; i++)
        account_row(out, rep, &r->accounts[i]);
    fputs("</tbody></table></div>\n<h3>Warnings</h3>\n", out);
    if (!rep->warning_count)
        fputs("<p>None.</p>\n", out);
    else
        fputs("<ul class=\"warnings\">\n", out);
    for (size_t i = 0; i < rep->warning_count; i++) {
        fputs("<li>", out);
        put(out, rep->warnings[i]);
        fputs("</li>\n", out);
    }
    if (rep->warning_count)
        fputs("</ul>\n", out);
    fputs("</section>\n", out);
}

static void summary(FILE *out, const ct_review *r)
{
    ct_review_totals t;
    ct_review_summary(r, &t);
    bool reports = false;
    size_t flagged = 0;
    for (size_t i = 0; i < r->account_count; i++)
        reports = reports || r->accounts[i].credentials;
    for (size_t i = 0; i < r->identity_count; i++)
        flagged += r->identities[i].credential_check.flagged != 0;
    fputs("<section id=\"ct-summary\">\n<h2>Summary</h2>\n<table class=\"summary\"><thead><tr>"
          "<th>Identities</th><th>Users</th><th>Roles</th><th>People</th><th>Dormant</th>"
          "<th>Administrators</th><th>With unused privileged actions</th>",
          out);
    if (reports)
        fputs("<th>Users with unused credentials</th>", out);
    fprintf(out,
            "</tr></thead>\n<tbody><tr><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td>"
            "<td>%zu</td><td>%zu</td>",
            t.identities, t.users, t.roles, t.people, t.dormant, t.administrators,
            t.privileged_unused);
    if (reports)
        fprintf(out, "<td>%zu</td>", flagged);
    fputs("</tr></tbody></table>\n</section>\n", out);
}

/* ---- what changed ---- */

static void change_name(FILE *out, const ct_review_change *x)
{
    if (x->identity != SIZE_MAX)
        fprintf(out, "<a href=\"#id-%zu\">", x->identity);
    put(out, x->name);
    if (x->identity != SIZE_MAX)
        fputs("</a>", out);
}

static void changes(FILE *out, const ct_review_changes *c)
{
    fputs("<section id=\"ct-changes\">\n<h2>Changes since the review made ", out);
    put(out, c->previous_made_at);
    fputs("</h2>\n<p class=\"sub\">That review covered ", out);
    put_day(out, c->previous_window.first_day);
    fputs(" to ", out);
    put_day(out, c->previous_window.last_day);
    fprintf(out,
            ".</p>\n<table class=\"summary\"><thead><tr><th>Added</th><th>Removed</th>"
            "<th>Revocations verified</th><th>Unused, still granted</th><th>Newly dormant</th>"
            "<th>Active again</th></tr></thead>\n<tbody><tr><td>%zu</td><td>%zu</td><td>%zu</td>"
            "<td>%zu</td><td>%zu</td><td>%zu</td></tr></tbody></table>\n",
            c->added, c->removed, c->revoked, c->still_granted, c->newly_dormant, c->active_again);
    if (!c->count) {
        fputs("<p>No identity changed.</p>\n</section>\n", out);
        return;
    }
    fputs("<div class=\"wide\"><table class=\"changes\">\n<thead><tr><th>Kind</th>"
          "<th>Account</th><th>Name</th><th>Change</th><th>Grants added</th>"
          "<th>Grants removed</th><th>Revoked (verified)</th><th>Unused, still granted</th>"
          "<th>Dormancy</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < c->count; i++) {
        const ct_review_change *x = &c->items[i];
        fprintf(out, "<tr><td>%s</td><td>", ct_review_kind_name(x->kind));
        if (x->kind != CT_REVIEW_PERSON)
            put(out, x->account_name);
        fputs("</td><td>", out);
        change_name(out, x);
        fprintf(out, "</td><td>%s</td><td>", ct_presence_name(x->presence));
        put_names(out, x->grants_added, x->grants_added_count, "");
        fputs("</td><td>", out);
        put_names(out, x->grants_removed, x->grants_removed_count, "");
        fputs("</td><td>", out);
        put_names(out, x->revoked, x->revoked_count, "");
        fputs("</td><td>", out);
        put_names(out, x->still_granted, x->still_granted_count, "");
        fprintf(out, "</td><td>%s</td></tr>\n",
                x->newly_dormant  ? "newly dormant"
                : x->active_again ? "active again"
                                  : "");
    }
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* ---- the identities ---- */

/* The used/unused/unknown bar: one SVG, its parts as wide as their counts
 * (attributes, not style, which the CSP would refuse). */
static void bar(FILE *out, size_t used, size_t unused, size_t unknown)
{
    size_t total = used + unused + unknown;
    if (!total) {
        fputs("<span class=\"sub\">no grants</span>", out);
        return;
    }
    fprintf(out,
            "<svg class=\"bar\" viewBox=\"0 0 %zu 1\" preserveAspectRatio=\"none\" role=\"img\" "
            "aria-label=\"%zu used, %zu unused, %zu unknown\"><title>%zu used, %zu unused, %zu "
            "unknown</title>",
            total, used, unused, unknown, used, unused, unknown);
    if (used)
        fprintf(out, "<rect class=\"u\" x=\"0\" y=\"0\" width=\"%zu\" height=\"1\"/>", used);
    if (unused)
        fprintf(out, "<rect class=\"x\" x=\"%zu\" y=\"0\" width=\"%zu\" height=\"1\"/>", used,
                unused);
    if (unknown)
        fprintf(out, "<rect class=\"q\" x=\"%zu\" y=\"0\" width=\"%zu\" height=\"1\"/>",
                used + unused, unknown);
    fputs("</svg>", out);
}

/* What a person's row sums up: the counts of the roles they used. */
static void sum_uses(const ct_review_identity *id, ct_review_actions *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (size_t k = 0; k < id->use_count; k++) {
        const ct_review_actions *x = &id->uses[k].actions;
        sum->used_count += x->used_count;
        sum->unused_count += x->unused_count;
        sum->unknown_count += x->unknown_count;
        sum->not_granted_count += x->not_granted_count;
        sum->attempted_count += x->attempted_count;
        sum->privileged_unused_count += x->privileged_unused_count;
        sum->calls += x->calls;
        sum->failed_calls += x->failed_calls;
    }
}

static void count_cells(FILE *out, const ct_review_actions *x)
{
    fprintf(out,
            "<td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
            "<td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
            "<td class=\"n\" data-v=\"%" PRIu64 "\">%" PRIu64,
            x->used_count, x->unused_count, x->unknown_count, x->not_granted_count,
            x->attempted_count, x->calls, x->calls);
    if (x->failed_calls)
        fprintf(out, "<br><span class=\"sub\">%" PRIu64 " failed</span>", x->failed_calls);
    fprintf(out, "</td><td class=\"n\">%zu</td>", x->privileged_unused_count);
}

static void bar_cell(FILE *out, const ct_review_actions *x)
{
    size_t total = x->used_count + x->unused_count + x->unknown_count;
    /* Sorted by the share of unused grants, in thousandths. */
    if (total)
        fprintf(out, "<td data-v=\"%zu\">", x->unused_count * 1000 / total);
    else
        fputs("<td data-v=\"\">", out);
    bar(out, x->used_count, x->unused_count, x->unknown_count);
    fputs("</td>", out);
}

static void admin_fact(FILE *out, const ct_review_identity *id)
{
    fputs("<dt>Administrator</dt><dd>", out);
    if (id->admin == CT_ADMIN_NO)
        fputs("no", out);
    else if (id->kind == CT_REVIEW_PERSON) {
        fputs("<span class=\"flag\">yes</span>, through the role ", out);
        put_code(out, id->admin_via);
    } else if (id->admin == CT_ADMIN_ALL_ACTIONS)
        fputs("<span class=\"flag\">yes</span>: granted every action of the catalog", out);
    else {
        fputs("<span class=\"flag\">yes</span>: granted ", out);
        put_code(out, id->admin_via);
        fputs(", which lets it give itself any permission", out);
    }
    fputs("</dd>", out);
}

static void action_facts(FILE *out, const ct_review_actions *x)
{
    fputs("<dt>Unused privileged actions</dt><dd>", out);
    put_names(out, x->privileged_unused, x->privileged_unused_count, "none");
    fputs("</dd>", out);
    if (x->not_granted_count) {
        fputs("<dt>Used, not granted</dt><dd>", out);
        put_names(out, x->not_granted, x->not_granted_count, "none");
        fputs("</dd>", out);
    }
    if (x->attempted_count) {
        fputs("<dt>Only denied attempts</dt><dd>", out);
        put_names(out, x->attempted, x->attempted_count, "none");
        fputs("</dd>", out);
    }
}

static void activity(FILE *out, const ct_review *r, int64_t last_day)
{
    if (last_day < 0) {
        fputs("none in the window", out);
        return;
    }
    put_day(out, last_day);
    fputs(" (", out);
    put_days(out, r->window.last_day - last_day);
    fputs(" before the window's end)", out);
}

static void role_people(FILE *out, const ct_review *r, const ct_review_identity *id)
{
    fprintf(out,
            "<dt>Sessions</dt><dd>%zu active, %zu of them naming nobody</dd><dt>People</dt>"
            "<dd>",
            id->sessions, id->anonymous_sessions);
    if (!id->use_count)
        fputs("none", out);
    else
        fputs("<ul class=\"names\">", out);
    for (size_t k = 0; k < id->use_count; k++) {
        const ct_review_use *u = &id->uses[k];
        fprintf(out, "<li><a href=\"#id-%zu\">", u->identity);
        put(out, r->identities[u->identity].name);
        fprintf(out, "</a>: %s confidence, %zu session%s, last activity ", u->high ? "high" : "low",
                u->sessions, u->sessions == 1 ? "" : "s");
        activity(out, r, u->last_day);
        fputs("</li>", out);
    }
    if (id->use_count)
        fputs("</ul>", out);
    fputs("</dd>", out);
}

/* A person's roles, one block each: how they used it, their own calls'
 * verdicts against its grants, and what of them an auditor looks at. A
 * list, not a table, so that the name column stays narrow. */
static void person_roles(FILE *out, const ct_review *r, const ct_review_identity *id)
{
    fprintf(out, "<dt>Sessions</dt><dd>%zu active</dd>", id->sessions);
    fputs("<dt>Roles used</dt><dd>", out);
    if (!id->use_count)
        fputs("none in the window", out);
    else
        fputs("<ul class=\"uses\">", out);
    for (size_t k = 0; k < id->use_count; k++) {
        const ct_review_use *u = &id->uses[k];
        const ct_review_actions *x = &u->actions;
        const ct_review_identity *role = &r->identities[u->identity];
        fprintf(out, "<li><a href=\"#id-%zu\">", u->identity);
        put(out, role->name);
        fputs("</a> (", out);
        put(out, role->account ? role->account->name : "");
        fprintf(out, "): %s confidence, %zu session%s, last activity ", u->high ? "high" : "low",
                u->sessions, u->sessions == 1 ? "" : "s");
        activity(out, r, u->last_day);
        bar(out, x->used_count, x->unused_count, x->unknown_count);
        fprintf(out,
                "%zu used, %zu unused, %zu unknown, %zu not granted, %zu only denied; "
                "%" PRIu64 " calls, %" PRIu64 " failed",
                x->used_count, x->unused_count, x->unknown_count, x->not_granted_count,
                x->attempted_count, x->calls, x->failed_calls);
        fputs("<dl class=\"facts\">", out);
        action_facts(out, x);
        fputs("</dl></li>", out);
    }
    if (id->use_count)
        fputs("</ul>", out);
    fputs("</dd>", out);
}

/* The name cell: the name, its marks, and the details in a <details>. */
static void name_cell(FILE *out, const ct_review *r, const ct_review_identity *id)
{
    fputs("<td data-v=\"", out);
    put_attr(out, id->name);
    fputs("\"><details><summary>", out);
    put(out, id->name);
    if (id->service_linked)
        fputs("<span class=\"tag\">service-linked</span>", out);
    if (id->identity_center)
        fputs("<span class=\"tag\">Identity Center</span>", out);
    if (id->identity_center_user)
        fputs("<span class=\"tag\">Identity Center user</span>", out);
    if (id->credential_check.flagged)
        fputs("<span class=\"tag flag\">unused credentials</span>", out);
    fputs("</summary>\n<dl class=\"facts\">", out);
    if (id->kind != CT_REVIEW_PERSON) {
        fputs("<dt>ARN</dt><dd>", out);
        put_code(out, id->arn);
        fputs("</dd><dt>Created</dt><dd>", out);
        put(out, id->created && id->created[0] ? id->created : "not stated");
        fputs("</dd>", out);
    } else if (id->use_count) {
        fprintf(out, "<dt>Confidence</dt><dd>%s</dd>", id->person->high ? "high" : "low");
    }
    fputs("<dt>Last activity</dt><dd>", out);
    activity(out, r, id->last_day);
    fputs("</dd>", out);
    admin_fact(out, id);
    const ct_review_account *acct = account_of(r, id->account);
    if (id->kind == CT_REVIEW_USER && acct && acct->credentials) {
        fputs("<dt>Credentials</dt><dd>", out);
        credentials(out, id->credential, &id->credential_check);
        fputs("</dd>", out);
    }
    if (id->kind != CT_REVIEW_PERSON)
        action_facts(out, &id->actions);
    if (id->kind == CT_REVIEW_ROLE)
        role_people(out, r, id);
    if (id->kind == CT_REVIEW_PERSON)
        person_roles(out, r, id);
    fputs("</dl></details></td>", out);
}

static const char *admin_word(const ct_review_identity *id)
{
    switch (id->admin) {
    case CT_ADMIN_NO:
        return "";
    case CT_ADMIN_ALL_ACTIONS:
        return id->kind == CT_REVIEW_PERSON ? "via role" : "all actions";
    case CT_ADMIN_ESCALATION:
        return id->kind == CT_REVIEW_PERSON ? "via role" : "escalation";
    }
    return "";
}

static void change_cell(FILE *out, const ct_review_change *x)
{
    if (!x) {
        fputs("<td class=\"chg\" data-v=\"\"></td>", out);
        return;
    }
    const char *name = ct_presence_name(x->presence);
    fprintf(out, "<td class=\"chg\" data-v=\"%s\">%s", name, name);
    struct {
        size_t n;
        const char *what;
    } parts[] = {{x->grants_added_count, "granted"},
                 {x->grants_removed_count, "no longer granted"},
                 {x->revoked_count, "revoked"},
                 {x->still_granted_count, "unused, still granted"}};
    for (size_t i = 0; x->presence == CT_PRESENCE_KEPT && i < 4; i++)
        if (parts[i].n)
            fprintf(out, "<br>%zu %s", parts[i].n, parts[i].what);
    if (x->newly_dormant)
        fputs("<br>newly dormant", out);
    if (x->active_again)
        fputs("<br>active again", out);
    fputs("</td>", out);
}

static void identity_row(FILE *out, const ct_review_report *rep, size_t i,
                         const ct_review_change *change)
{
    const ct_review *r = rep->review;
    const ct_review_identity *id = &r->identities[i];
    ct_review_actions sum;
    const ct_review_actions *x = &id->actions;
    if (id->kind == CT_REVIEW_PERSON) {
        sum_uses(id, &sum);
        x = &sum;
    }
    const char *dormant = ct_dormancy_name(id->dormant);
    fprintf(out,
            "<tr id=\"id-%zu\" data-kind=\"%s\" data-dormant=\"%s\" data-admin=\"%s\" "
            "data-priv=\"%s\" data-cred=\"%s\"><td>%s</td>",
            i, ct_review_kind_name(id->kind), dormant, id->admin != CT_ADMIN_NO ? "yes" : "no",
            x->privileged_unused_count ? "yes" : "no", id->credential_check.flagged ? "yes" : "no",
            ct_review_kind_name(id->kind));
    if (id->account) {
        fputs("<td data-v=\"", out);
        put_attr(out, id->account->name);
        fputs("\">", out);
        put(out, id->account->name);
    } else {
        fprintf(out, "<td data-v=\"\"><span class=\"sub\">%zu role%s</span>", id->use_count,
                id->use_count == 1 ? "" : "s");
    }
    fputs("</td>", out);
    name_cell(out, r, id);
    if (id->last_day >= 0) {
        fprintf(out, "<td class=\"n\" data-v=\"%" PRId64 "\">", r->window.last_day - id->last_day);
        put_day(out, id->last_day);
        fputs("<br><span class=\"sub\">", out);
        put_days(out, r->window.last_day - id->last_day);
        fputs(" before the end</span></td>", out);
    } else {
        fputs("<td class=\"n\" data-v=\"\">never</td>", out);
    }
    fprintf(out, "<td>%s%s%s</td>", id->dormant == CT_DORMANT_YES ? "<span class=\"flag\">" : "",
            dormant, id->dormant == CT_DORMANT_YES ? "</span>" : "");
    fprintf(out, "<td><span class=\"flag\">%s</span></td>", admin_word(id));
    count_cells(out, x);
    bar_cell(out, x);
    if (rep->changes)
        change_cell(out, change);
    fputs("</tr>\n", out);
}

static void identities(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    fprintf(
        out,
        "<section id=\"ct-table\">\n<h2>Identities (%zu)</h2>\n<p class=\"sub\">Open a name "
        "for its details. Last activity: the last day with any event (failed calls too), and how "
        "many days before the window's end. Grants bar:<span class=\"key u\"></span>used<span "
        "class=\"key x\">"
        "</span>unused<span class=\"key q\"></span>unknown (CloudTrail cannot show its use); "
        "the counts are in the columns beside it. A person's counts are the sums over the "
        "roles they used.</p>\n",
        r->identity_count);
    fputs("<div class=\"controls\" id=\"ct-controls\" hidden>\n<label>Filter <input "
          "type=\"search\" id=\"ct-q\" placeholder=\"name, ARN, action, person\"></label>\n"
          "<span><label><input type=\"checkbox\" data-kind=\"user\" checked> users</label> "
          "<label><input type=\"checkbox\" data-kind=\"role\" checked> roles</label> "
          "<label><input type=\"checkbox\" data-kind=\"person\" checked> people</label></span>\n"
          "<span><label><input type=\"checkbox\" data-only=\"dormant\"> dormant only</label> "
          "<label><input type=\"checkbox\" data-only=\"admin\"> administrators only</label> "
          "<label><input type=\"checkbox\" data-only=\"priv\"> unused privileged actions "
          "only</label> <label><input type=\"checkbox\" data-only=\"cred\"> unused "
          "credentials only</label></span>\n<output id=\"ct-shown\"></output>\n</div>\n",
          out);
    fputs("<div class=\"wide\"><table id=\"ct-identities\">\n<thead><tr><th>Kind</th>"
          "<th>Account</th><th>Name</th><th class=\"n\" data-type=\"num\">Last activity</th>"
          "<th>Dormant</th><th>Admin</th><th class=\"n\" data-type=\"num\">Used</th>"
          "<th class=\"n\" data-type=\"num\">Unused</th>"
          "<th class=\"n\" data-type=\"num\">Unknown</th>"
          "<th class=\"n\" data-type=\"num\">Not granted</th>"
          "<th class=\"n\" data-type=\"num\">Denied</th>"
          "<th class=\"n\" data-type=\"num\">Calls</th>"
          "<th class=\"n\" data-type=\"num\">Unused privi&shy;leged</th>"
          "<th data-type=\"num\">Grants</th>",
          out);
    if (rep->changes)
        fputs("<th>Change</th>", out);
    fputs("</tr></thead>\n<tbody>\n", out);
    size_t next = 0;
    for (size_t i = 0; i < r->identity_count; i++)
        identity_row(out, rep, i, ct_review_change_of(rep->changes, i, &next));
    fputs("</tbody></table></div>\n</section>\n", out);
}

int ct_review_html(FILE *out, const ct_review_report *rep)
{
    page_head(out, rep);
    if (rep->incomplete)
        banner(out);
    fputs("<header><h1>Access review</h1>\n<p class=\"sub\">", out);
    const ct_review *r = rep->review;
    for (size_t i = 0; i < r->account_count; i++) {
        fputs(i ? ", " : "", out);
        put(out, r->accounts[i].view->name);
        fputs(" (", out);
        put(out, r->accounts[i].view->id);
        fputc(')', out);
    }
    fputs(r->account_count ? "; " : "", out);
    put_day(out, r->window.first_day);
    fputs(" to ", out);
    put_day(out, r->window.last_day);
    char made[21];
    ct_review_format_time(rep->made_at, made);
    fprintf(out, "; made %s.</p></header>\n", made);
    evidence(out, rep);
    summary(out, r);
    if (rep->changes)
        changes(out, rep->changes);
    identities(out, rep);
    fputs("<footer><p class=\"sub\">Made by cloudtracker ", out);
    put(out, rep->tool_version);
    fputs(". This page loads nothing: it reads the same offline, and without JavaScript, which "
          "only sorts and filters the table.</p></footer>\n<script>",
          out);
    fputs(js, out);
    fputs("</script>\n</body>\n</html>\n", out);
    /* Flushed, so a full disk shows here and not only when closing. */
    return fflush(out) != 0 || ferror(out) ? CT_EIO : 0;
}
