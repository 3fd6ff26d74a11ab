"""grades.html on a laptop screen (real Chromium): the table fits, the student column stays in view, each
cell leads to its evidence with the hint beside it, and what students wrote is shown, never run."""
from __future__ import annotations

import pytest

from labkit.checks.items import rubric
from labkit.grading import table
from labkit.grading.similarity import Pair

pytestmark = pytest.mark.browser
EVIL = '<img src=x onerror="document.title=\'pwned\'">'


def made_up_results(students: int = 12) -> list[dict]:
    checks = [(p["part"], e["check"]) for p in rubric()["parts"] for e in p["items"] if e.get("check")]
    results = []
    for n in range(students):
        name = f"student_with_a_rather_long_folder_name_{n:03d}" if n else EVIL
        items = [{"part": part, "check": check, "status": ("evidenced", "partial", "missing")[(n + k) % 3],
                  "evidence": f"{check}: what the kit tried and saw for student {n}. " * 3, "points": 1.0,
                  "max_points": 2, "hint": f"hint for {check} of student {n}"} for k, (part, check) in enumerate(checks)]
        results.append({"student": name, "items": items})
    return results


@pytest.fixture(scope="module")
def page(tmp_path_factory, chromium):
    from playwright.sync_api import sync_playwright

    path = tmp_path_factory.mktemp("report") / "grades.html"
    pairs = [Pair(EVIL, "student_with_a_rather_long_folder_name_001", "checkout_server.py", 0.93, (0.93, 0.9),
                  ["def create_payment_intent():\n    return '<script>alert(1)</script>'"])]
    table.write_html(table.long_table(made_up_results()), path, pairs=pairs)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        tab = browser.new_page(viewport={"width": 1366, "height": 768})  # a common laptop screen
        tab.goto(path.as_uri())
        yield tab
        browser.close()


def test_the_table_fits_a_laptop_screen(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    fits = page.evaluate("(() => { const s = document.querySelector('.scroll');"
                         " return s.scrollWidth <= s.clientWidth && s.clientHeight <= window.innerHeight; })()")
    assert fits, "the student x check table needs a horizontal scroll at 1366 px"
    widths = page.evaluate("[...document.querySelectorAll('.matrix thead tr.names th')].map(th => th.offsetWidth)")
    checks = [e["check"] for p in rubric()["parts"] for e in p["items"] if e.get("check")]
    assert len(widths) == len(checks) and max(widths) < 40  # names run upwards: a column is as narrow as a mark
    lines = page.evaluate("""[...document.querySelectorAll('.matrix thead tr.names th')].map(th =>
        [...th.childNodes].filter(n => n.nodeType === 3).map(n => { const r = document.createRange();
          r.selectNodeContents(n); return r.getClientRects().length; }))""")
    assert all(rects == 1 for header in lines for rects in header), "a check name was broken mid-word"


def test_the_student_column_and_header_stay_in_view(page):
    page.set_viewport_size({"width": 700, "height": 500})  # a narrow window: the table must scroll
    try:
        page.evaluate("(() => { const s = document.querySelector('.scroll'); s.scrollLeft = 10000;"
                      " s.scrollTop = 10000; })()")
        box = page.evaluate("(() => { const s = document.querySelector('.scroll').getBoundingClientRect();"
                            " const c = document.querySelectorAll('.matrix tbody th.student')[11].getBoundingClientRect();"
                            " const h = document.querySelector('.matrix thead th:nth-child(5)').getBoundingClientRect();"
                            " return [s.left, c.left, s.top, h.top]; })()")
        assert abs(box[0] + 1 - box[1]) <= 2 and abs(box[2] + 1 - box[3]) <= 2, box
    finally:
        page.set_viewport_size({"width": 1366, "height": 768})


def test_each_cell_leads_to_its_evidence_with_the_hint_beside_it(page):
    cell = page.locator(".matrix tbody tr").nth(4).locator("td a").nth(3)
    cell.click()
    target = page.evaluate("location.hash")
    row = page.locator(f"tr{target}")
    cells = row.locator("td").all_inner_texts()
    check = cells[0]
    assert "student 4" in cells[3] and check in cells[3]
    if cells[1] != "evidenced":
        assert cells[4] == f"hint for {check} of student 4"
    assert row.evaluate("r => { const b = r.getBoundingClientRect(); return b.top > -2 && b.bottom <= innerHeight; }")


def test_student_text_is_shown_never_run(page):
    assert page.title() == "Lab 09: class grading"
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    similar = page.locator("#similar + p + table").inner_text()
    assert "<script>alert(1)</script>" in similar and "93%" in similar
