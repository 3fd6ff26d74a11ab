"""The print style sheets. No text prints below 8 pt: 11 px is 8.25 pt on paper, the smallest size used.

Tables are never scaled down to fit: their cells wrap (at any character if they must), so a
wide table grows taller instead of smaller.
"""

# Shared by every printed page: fonts, wrapping tables and code, figures kept whole.
BASE_CSS = """
@page { size: Letter; margin: 0.3in 0.3in 0.35in 0.3in; }  /* 7.9in wide inside */
html, body { background: #fff !important; }
body { -webkit-print-color-adjust: exact; print-color-adjust: exact; font-size: 11px; }
* { font-variant-ligatures: none; }  /* "offline", not "o\ufb04ine", in the PDF's text */
small, sub, sup, .jp-InputPrompt, .jp-OutputPrompt, figcaption, code, kbd, samp { font-size: max(11px, 1em) !important; }
pre, code, .jp-OutputArea-output pre, .highlight pre, .jp-RenderedText pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere !important; word-break: break-word;
  overflow: visible !important; font-size: 11px !important; line-height: 1.2 !important;
}
table { font-size: 11px !important; max-width: 100% !important; border-collapse: collapse; }
td, th { overflow-wrap: break-word; word-break: normal; padding: 0.1em 0.4em !important;
         font-size: 11px !important; vertical-align: top; }
/* a table wider than the page wraps between words, at the <wbr> after _ / . (TIGHT_TABLES_JS), and inside
   long ids and numbers-with-letters (span.brk); never inside a word ("succeede d") */
table.tight { width: 100%; }
table.tight td, table.tight th { overflow-wrap: break-word; word-break: normal; }
table.tight span.brk { overflow-wrap: anywhere; }
table.roomy td { min-width: 4.5em; }
table.tighter td, table.tighter th { padding: 0.15em 0.2em !important; }
tr.more td { font-style: italic; color: #555; text-align: left !important; }
tr, img, svg, figure, .jp-RenderedImage, .jp-RenderedSVG { break-inside: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
img, svg { max-width: 100% !important; height: auto !important; }
figure.shot { margin: 0.6em 0 1em 0; break-inside: avoid; }
figure.shot figcaption { font-size: 12px !important; margin-bottom: 0.3em; }
figure.shot img { display: block; max-height: 4.2in !important; width: auto !important; margin: 0.2em 0; }
"""

# nbconvert's lab template, for print: body as wide as the page, nothing clipped.
PRINT_CSS = BASE_CSS + """
body.jp-Notebook { padding: 0 !important; width: 7.9in; margin: 0 !important; }
.jp-Notebook { overflow: visible !important; }
:root { --jp-code-font-size: 11px; --jp-content-font-size1: 12px; --jp-ui-font-size1: 11px;
        --jp-content-font-size0: 11px; --jp-ui-font-size0: 11px; --jp-cell-prompt-width: 52px; }
.jp-CodeMirrorEditor, .jp-InputArea-editor, .highlight { overflow: visible !important; }
.jp-Cell-inputWrapper, .jp-MarkdownCell { break-inside: avoid; }
.jp-CodeCell .jp-Cell-inputWrapper { break-after: avoid; }
.jp-RenderedHTMLCommon table { table-layout: auto; }
.jp-OutputArea-output { overflow: visible !important; }
.jp-Cell { padding: 1px 0 !important; }
.jp-RenderedHTMLCommon h1, .jp-RenderedMarkdown h1 { font-size: 19px !important; margin: 0 0 4px 0 !important; }
.jp-RenderedHTMLCommon h2, .jp-RenderedMarkdown h2 { font-size: 15px !important; margin: 10px 0 3px 0 !important; }
.jp-RenderedHTMLCommon h3, .jp-RenderedMarkdown h3 { font-size: 13px !important; margin: 8px 0 2px 0 !important; }
.jp-OutputArea-output img { max-height: 3in !important; width: auto !important; }
.jp-RenderedHTMLCommon table { margin: 2px 0 6px 0 !important; }
.jp-OutputArea-child { margin: 0 !important; break-inside: auto !important; }  /* long tables and texts go on */
.jp-RenderedText pre, .jp-OutputArea-output pre { margin: 2px 0 !important; }
p.folded { color: #555; font-style: italic; font-size: 11px; margin: 0 0 1em 0; }
div.labkit-notebook + div.labkit-notebook { border-top: 2px solid #0f3460; margin-top: 14px; padding-top: 6px; }
"""

# The kit's own pages: the grader's page, the student's code and text, the evidence.
FRONT_CSS = BASE_CSS + """
body { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif; color: #1b1f24; width: 7.9in; margin: 0; }
h1 { font-size: 19px; margin: 0 0 .08in 0; color: #0f3460; }
h2 { font-size: 14px; margin: .12in 0 .05in 0; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
h3 { font-size: 13px; margin: .12in 0 .04in 0; }
.course { font-size: 11px; color: #555; letter-spacing: .04em; text-transform: uppercase; }
div.top { display: grid; grid-template-columns: 3.4in auto; column-gap: 0.2in; }
dl.meta { display: grid; grid-template-columns: 0.8in auto; row-gap: 1px; font-size: 11px; margin: 0 0 .06in 0;
          align-content: start; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; font-weight: 600; }
table.grid { width: 100%; margin: 0.3em 0 0.6em 0; }
table.grid th { background: #eef1f5; text-align: left; }
table.grid td, table.grid th { border: 1px solid #c9ced6; padding: 0 4px !important; line-height: 1.12; }
tr.part td { background: #f6f7f9; font-weight: 600; }
td.status, table.rubric td:last-child { white-space: nowrap; }
.evidenced { color: #0a6b2d; } .missing { color: #a11; } .partial { color: #8a5a00; } .grader { color: #555; }
ol.contents { font-size: 11px; line-height: 1.2; margin: 0; padding-left: 1.4em; }
ol.contents span.page { float: right; color: #555; }
p.note { font-size: 11px; color: #555; }
.light { font-weight: normal !important; color: #555; font-size: 11px; }
pre.code { border: 1px solid #d8dce2; background: #fafbfc; padding: 3px 5px; margin: 0.3em 0 0.6em 0;
           line-height: 1.1 !important; }
pre.code .ln { color: #8a94a3; user-select: none; }
pre.code span.l { display: block; padding-left: var(--ln); text-indent: calc(-1 * var(--ln)); }
pre.code span.l.gap { margin-top: 0.35em; }  /* where blank lines were */
div.shots { display: grid; grid-template-columns: 1fr 1fr 1fr; column-gap: 12px; }
div.shots figure.shot { margin: 0 0 8px 0; }
div.shots figure.shot figcaption { font-size: 11px !important; }
div.shots figure.shot img { max-height: 2.4in !important; max-width: 100% !important; }
figure.chart img { max-height: 2.8in !important; }
em.req { color: #444; }
.answer { border-left: 3px solid #0f3460; padding: 2px 10px; margin: 0.3em 0; }
.answer p, .answer ul, .answer ol { margin: 0.4em 0; } .answer li { margin: 0.1em 0; }
"""

# Tables that do not fit the page between words get, in turn: cells kept at least 4.5em wide (a
# cell that holds only a number is never broken), break points after "_", "/" and a "." that is
# not a decimal point (<wbr>, no character added, so the PDF's text stays searchable) and inside
# long tokens that are not words (ids such as pi_3Nxyz…: 16 characters or more with a digit, or 24
# or more), cells as narrow as needed, then less padding. A word is never broken. Run before
# printing; nothing is scaled down.
TIGHT_TABLES_JS = """<script>
(function () {
  function fits(t) { return t.scrollWidth <= t.parentElement.getBoundingClientRect().width + 1; }
  function breakPoints(t) {
    var walk = document.createTreeWalker(t, NodeFilter.SHOW_TEXT), n, nodes = [];
    while ((n = walk.nextNode())) { nodes.push(n); }
    nodes.forEach(function (node) {
      var parts = node.nodeValue.split(/(?<=[_\\/])|(?<=\\.)(?!\\d)/);
      if (parts.length < 2) { return; }
      var frag = document.createDocumentFragment();
      parts.forEach(function (p, i) {
        if (i) { frag.appendChild(document.createElement("wbr")); }
        frag.appendChild(document.createTextNode(p));
      });
      node.parentNode.replaceChild(frag, node);
    });
  }
  function longTokens(t) {  // ids may break anywhere (span.brk); words never
    var walk = document.createTreeWalker(t, NodeFilter.SHOW_TEXT), n, nodes = [];
    while ((n = walk.nextNode())) { nodes.push(n); }
    nodes.forEach(function (node) {
      var parts = node.nodeValue.split(/(\\s+)/), found = false;
      var frag = document.createDocumentFragment();
      parts.forEach(function (p) {
        if ((p.length >= 16 && /\\d/.test(p) && !/^[-+$]?[\\d,.]+%?$/.test(p)) || p.length >= 24) {
          var span = document.createElement("span");
          span.className = "brk";
          span.textContent = p;
          frag.appendChild(span);
          found = true;
        } else {
          frag.appendChild(document.createTextNode(p));
        }
      });
      if (found) { node.parentNode.replaceChild(frag, node); }
    });
  }
  document.querySelectorAll("table").forEach(function (t) {
    if (t.parentElement.getBoundingClientRect().width <= 0 || fits(t)) { return; }
    t.querySelectorAll("td, th").forEach(function (c) {  // 15055.5750, -8.93, $1,800, 4.5%: kept whole
      if (/^\\s*[-+$]?[\\d,]*\\.?\\d+%?\\s*$/.test(c.textContent) && c.textContent.trim().length <= 16) {
        c.style.whiteSpace = "nowrap";
      }
    });
    t.classList.add("tight", "roomy");
    if (fits(t)) { return; }
    longTokens(t);
    breakPoints(t);
    if (fits(t)) { return; }
    t.classList.remove("roomy");
    if (fits(t)) { return; }
    t.classList.add("tighter");
  });
})();
</script>"""


def with_style(page: str, css: str) -> str:
    """``page`` with ``css`` in its head and the table check at the end of its body."""
    style = f"<style>{css}</style>"
    page = page.replace("</head>", style + "</head>", 1) if "</head>" in page else style + page
    return page.replace("</body>", TIGHT_TABLES_JS + "</body>", 1) if "</body>" in page else page + TIGHT_TABLES_JS
