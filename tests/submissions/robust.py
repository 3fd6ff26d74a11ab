"""Made-up submissions written the way students write (issue 30): a page copied from Stripe's card
sample with a wallet button beside the card field, a receipt page after paying, files saved on
Windows, a module-level ``app.run()``, a success message with "not" in it, and two broken pages
(a JavaScript syntax error, a missing template) whose hints must name the real cause.

Each builder starts from the solution edition or the handout's code (tests/submissions/builder.py),
so it stays in step with them; ``EXPECTED`` says how a careful grader would mark each.
"""
from __future__ import annotations

import codecs
import json
from pathlib import Path

from labkit import answers

from .builder import _edit, _replace, full_pci, handout_fixed, handout_style_fixed, own_essay, solution

# What the handout-based cases start from: the kit's handout-style code in any clone (its page in
# templates/page.html), or the handout's own code when ../shared/lab09_handout.txt is at hand
# (its page inline in checkout_server.py). tests.submissions.handout.handout_text() says which are.
BASES = {"handout_style": handout_style_fixed, "handout": handout_fixed}


def _save(path: Path, text: str, encoding: str, crlf: bool = True, bom: bytes = b"") -> None:
    text = text.replace("\r\n", "\n")
    path.write_bytes(bom + (text.replace("\n", "\r\n") if crlf else text).encode(encoding))


def windows_files(dest: Path) -> None:
    """The solution saved on Windows: the checkout server in UTF-16 ("Unicode" in old Notepad), the handler
    and the page's template in Windows-1252 ("ANSI"), the script with a UTF-8 BOM, all with CRLF line ends;
    answers/pci.json in UTF-16 (PowerShell 5.1's ``>``), part_e.md in Windows-1252."""
    solution(dest)
    server = (dest / "checkout_server.py").read_text(encoding="utf-8")
    _save(dest / "checkout_server.py", "# Café Élan — saved by Notepad as Unicode\n" + server, "utf-16-le",
          bom=codecs.BOM_UTF16_LE)
    handler = (dest / "webhook_handler.py").read_text(encoding="utf-8")
    _save(dest / "webhook_handler.py", "# Commandes payées — Notepad, ANSI\n" + handler, "cp1252")
    page = (dest / "templates" / "checkout.html").read_text(encoding="utf-8")
    _save(dest / "templates" / "checkout.html", _replace(page, "Secure checkout", "Paiement sécurisé"), "cp1252")
    script = (dest / "static" / "checkout.js").read_text(encoding="utf-8")
    _save(dest / "static" / "checkout.js", script, "utf-8", bom=codecs.BOM_UTF8)
    pci = full_pci()
    pci["gaps"] += " Café staff also share one till PIN — that is a gap too."
    _save(dest / "answers" / answers.PCI_FILE, json.dumps(pci, indent=2, ensure_ascii=False), "utf-16-le",
          bom=codecs.BOM_UTF16_LE)
    essay = own_essay().replace("For an outdoor gear shop", "For an outdoor gear shop (think café-style service)")
    _save(dest / "answers" / answers.PART_E_FILE, essay, "cp1252")


def broken_answers(dest: Path) -> None:
    """The solution with answers/pci.json cut short (an editor crashed) and part_e.md a Word file renamed."""
    solution(dest)
    text = json.dumps(full_pci(), indent=2)
    (dest / "answers" / answers.PCI_FILE).write_text(text[: len(text) // 2], encoding="utf-8")
    (dest / "answers" / answers.PART_E_FILE).write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)


def module_level_run(dest: Path, base: str = "handout_style") -> None:
    """The handout's server with ``app.run(...)`` at the module's top level (no ``if __name__``)."""
    BASES[base](dest)
    if base == "handout_style":
        _edit(dest, "checkout_server.py", 'if __name__ == "__main__":\n    app.run(', 'app.run(')
        return
    _edit(dest, "checkout_server.py", 'if __name__ == "__main__":\n    print(', 'if True:\n    print(')
    path = dest / "checkout_server.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    app.run(debug=True, port=5000)", "app.run(debug=True, port=5000)"), encoding="utf-8")


# Stripe's card-element sample, as students copy it: a wallet button (Payment Request) beside the card
# field, Pay enabled only once the card is complete, the decline shown in #card-errors, the success in a
# message block of its own. The wording is the student's, not Stripe's.
SAMPLE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Checkout</title>
<script src="https://js.stripe.com/v3/"></script></head>
<body>
  <h1>Safety Hard Hat — $18.00</h1>
  <div id="payment-request-button"></div>
  <form id="payment-form">
    <div id="card-element"></div>
    <div id="card-errors" role="alert"></div>
    <button id="submit-btn" disabled>Pay now</button>
  </form>
  <div id="result"></div>
  <div class="sr-result hidden"><p id="done-message"></p></div>
  <script>
    var stripe = Stripe("{{ publishable_key }}");
    var elements = stripe.elements();
    var paymentRequest = stripe.paymentRequest({
      country: "US", currency: "usd", total: {label: "Safety Hard Hat", amount: 1800},
      requestPayerName: true, requestPayerEmail: true
    });
    var prButton = elements.create("paymentRequestButton", {paymentRequest: paymentRequest});
    paymentRequest.canMakePayment().then(function (result) {
      if (result) { prButton.mount("#payment-request-button"); }
      else { document.getElementById("payment-request-button").style.display = "none"; }
    });
    var card = elements.create("card", {style: {base: {fontSize: "16px"}}});
    card.mount("#card-element");
    card.on("change", function (event) {
      document.getElementById("submit-btn").disabled = !event.complete;
      document.getElementById("card-errors").textContent = event.error ? event.error.message : "";
    });
    card.on("focus", function () { card.update({style: {base: {color: "#32325d"}}}); });
    var form = document.getElementById("payment-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      document.getElementById("submit-btn").disabled = true;
      fetch("/create-payment-intent", {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({product_id: "prod_001"})})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          return stripe.confirmCardPayment(data.clientSecret, {payment_method: {card: card}});
        })
        .then(function (result) {
          if (result.error) {
            document.getElementById("card-errors").textContent = result.error.message;
            document.getElementById("submit-btn").disabled = false;
          } else {
            document.querySelector(".sr-result").classList.remove("hidden");
            document.getElementById("done-message").textContent =
              "Thanks! Your payment went through. Please do not pay again or refresh this page.";
            form.style.display = "none";
          }
        });
    });
  </script>
  <style>.hidden { display: none; }</style>
</body></html>
"""


def stripe_sample_page(dest: Path, base: str = "handout_style") -> None:
    """The handout's server with its page replaced by one adapted from Stripe's card sample."""
    BASES[base](dest)
    if base == "handout_style":
        page = SAMPLE_PAGE.replace("{{ publishable_key }}", "{{ pk }}")
        (dest / "templates" / "page.html").write_text(page, encoding="utf-8")
        return
    path = dest / "checkout_server.py"
    text = path.read_text(encoding="utf-8")
    start, end = text.index('CHECKOUT_HTML = """'), text.index('"""\n', text.index('CHECKOUT_HTML = """') + 20)
    path.write_text(text[:start] + 'CHECKOUT_HTML = """' + SAMPLE_PAGE + text[end:], encoding="utf-8")


def _page(base: str) -> tuple[str, str]:
    """Where the base's page is, and the line that shows a success."""
    if base == "handout_style":
        return "templates/page.html", 'show("Payment succeeded: " + paymentIntent.id, "success");'
    return "checkout_server.py", 'showResult("✓ Payment succeeded! ID: " + paymentIntent.id, "success");'


RECEIPT_ROUTE = '''
@app.route("/success")
def receipt():
    intent = stripe.PaymentIntent.retrieve(request.args.get("payment_intent", ""))
    return (f"<!DOCTYPE html><html><body><h1>Order confirmed</h1><p>We received your payment of "
            f"${intent.amount / 100:.2f} ({intent.id}). You will get an email shortly; do not pay again.</p>"
            "</body></html>")

'''


def receipt_page(dest: Path, base: str = "handout_style") -> None:
    """The handout's page, but a successful payment goes to a receipt page (/success) rendered by the server."""
    BASES[base](dest)
    page, success = _page(base)
    _edit(dest, page, success, 'window.location.href = "/success?payment_intent=" + paymentIntent.id;')
    _edit(dest, "checkout_server.py", '@app.route("/payment-success")', RECEIPT_ROUTE.strip() + '\n\n@app.route("/payment-success")')


def success_says_not(dest: Path, base: str = "handout_style") -> None:
    """The handout's page writing its own words, with no class: the success message says "do not"."""
    BASES[base](dest)
    page, success = _page(base)
    show = success.split("(")[0]
    _edit(dest, page, success,
          f'{show}("Thank you, your order is placed. Please do not press Pay again. (" + paymentIntent.id + ")", "");')
    _edit(dest, page, f'{show}(error.message, "error");', f'{show}("Sorry, that did not work: " + error.message, "");')


def alert_outcome(dest: Path, base: str = "handout_style") -> None:
    """The handout's page telling the customer in an ``alert()`` box instead of on the page."""
    BASES[base](dest)
    if base == "handout_style":
        _edit(dest, "templates/page.html", "box.textContent = text;\n      box.className = kind;", "alert(text);")
        return
    _edit(dest, "checkout_server.py", "            el.textContent = msg;\n", "            alert(msg);\n")


def js_syntax_error(dest: Path) -> None:
    """The solution with one ``}`` missing in static/checkout.js (the card field never appears)."""
    solution(dest)
    _edit(dest, "static/checkout.js", "  function money(cents) {\n    return \"$\" + (cents / 100).toFixed(2);\n  }\n",
          "  function money(cents) {\n    return \"$\" + (cents / 100).toFixed(2);\n\n")


def missing_template(dest: Path) -> None:
    """The solution without templates/checkout.html (not handed in)."""
    solution(dest)
    (dest / "templates" / "checkout.html").unlink()


B_OK = {c: "evidenced" for c in ("checkout:server_price", "scenario:success", "scenario:insufficient_funds",
                                 "scenario:3ds_complete", "scenario:3ds_fail", "scenario:generic_decline")}
EXPECTED = {
    "windows_files": (windows_files, {**B_OK, "pci:answered": "evidenced", "pci:gaps": "evidenced",
                                      "altpay:words": "evidenced", "altpay:figures": "evidenced"}),
    "broken_answers": (broken_answers, {**B_OK, "pci:answered": "missing", "pci:gaps": "missing",
                                        "altpay:words": "missing", "altpay:two_methods": "missing"}),
    "module_level_run": (module_level_run, B_OK),
    "stripe_sample_page": (stripe_sample_page, B_OK),
    "receipt_page": (receipt_page, B_OK),
    "success_says_not": (success_says_not, B_OK),
    "alert_outcome": (alert_outcome, B_OK),
    "js_syntax_error": (js_syntax_error, {c: "missing" for c in B_OK if c.startswith("scenario")}),
    "missing_template": (missing_template, {c: "missing" for c in B_OK if c.startswith("scenario")}),
}
