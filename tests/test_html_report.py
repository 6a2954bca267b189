"""The HTML report: one self-contained page (nothing fetched), the sections DESIGN lists, escaped text, the CLI.

The page is also opened in a real browser by tests/test_browser.py.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser

import pytest

import hipkb
from conftest import ARTICLE, REPO
from hipkb.render.html import html_fragment, html_report

DEMO = REPO / "examples" / "demo-01.yaml"
DISAGREEMENT = {"subject": "disagreement", "findings": {"supine_hip_ir": {"left": 35}, "straight_leg_raise": {"left": 40}}}
BORDERLINE = {"subject": "borderline", "findings": {"supine_hip_ir": {"left": 23, "right": 40}}}


class Page(HTMLParser):
    """Every element with its attributes, and the text of each section by its id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "section":
            self._open.append(attrs.get("id") or "")
            self.sections.setdefault(self._open[-1], [])

    def handle_endtag(self, tag):
        if tag == "section" and self._open:
            self._open.pop()

    def handle_data(self, data):
        for name in self._open:
            self.sections[name].append(data)

    def text(self, section: str) -> str:
        return " ".join(" ".join(self.sections[section]).split())


@pytest.fixture(scope="module")
def demo(kb):
    return kb.assess(DEMO)


@pytest.fixture(scope="module")
def page(demo):
    return html_report(demo)


@pytest.fixture(scope="module")
def parsed(page):
    return Page(page)


# -- self-contained ------------------------------------------------------------------------------


def test_nothing_is_fetched(page, parsed):
    # no external URL in any src, href or url(); no stylesheet link, no script file, no @import
    for tag, attrs in parsed.elements:
        for name in ("src", "href", "xlink:href", "srcset", "action", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), (tag, name, value)
        assert tag not in ("link", "iframe", "img", "object", "embed", "base"), tag
        if tag == "script":
            assert "src" not in attrs
    assert not re.search(r"url\(", page)
    assert "@import" not in page
    assert not re.search(r"(?i)\b(?:https?|ftp)://", page)  # not even a namespace URL is left in the SVG
    assert not re.search(r"(?i)//[a-z0-9.-]+\.[a-z]{2,}/", page)


def test_one_page_with_inline_css_and_inline_svg(page, parsed):
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    tags = [tag for tag, _ in parsed.elements]
    assert tags.count("style") == 1 and "svg" in tags
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert '<meta charset="utf-8">' in page


def test_same_result_same_bytes(demo, page, kb):
    assert html_report(demo) == page
    assert html_report(kb.assess(DEMO)) == page


# -- content -----------------------------------------------------------------------------------------


def test_bottom_line_first(demo, parsed, page):
    order = [m.group(1) for m in re.finditer(r'<section id="([a-z-]+)">', page)]
    assert order[0] == "bottom-line"
    assert order.index("differential") < order.index("conclusions") < order.index("recommendations")
    bottom = parsed.text("bottom-line")
    assert "Left hip" in bottom and "Right hip" in bottom
    assert "12°" in bottom and "25°" in bottom and "40°" in bottom
    assert bottom.index("Arm bar") < bottom.index("Front foot elevated split squat") < bottom.index("Cable crossover step-up")


def test_differential_table_has_every_contributor_with_its_standing(parsed, page):
    section = page[page.index('<section id="differential">'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r"<tr><td>(.*?)</td>\s*<td><span class=\"standing[^\"]*\">(.*?)</span>", section)
    standings = {html.unescape(re.sub("<[^>]+>", "", label)): standing for label, standing in rows}
    # demo-01, left: capsule read from the IR drop; SLR 45° < 50° (the chain); no stiff rotators stated;
    # pelvic position not recorded; the rib cage side-bend observed (unsided)
    assert list(standings.values()) == ["supported", "supported", "not assessed", "not recorded", "present"]
    assert list(standings)[0] == "Posterior hip capsule closed"
    assert "Right hip" not in parsed.text("differential")  # IR is within range on the right
    text = parsed.text("differential")
    assert "read from this drop" in text
    assert "Record the pelvic position during the supine IR test" in text  # the next assessment, in words


def test_conclusions_have_collapsible_justification_trees(parsed, page):
    section = page[page.index('<section id="conclusions">'):page.index('<section id="recommendations">')]
    assert section.count("<details>") >= 15
    text = parsed.text("conclusions")
    assert "Posterior hip capsule closed — 12°, below the 25° threshold" in text
    assert "there is no evidence that pelvis forward on the tested side during the supine IR test (left)" in text
    assert "because supine hip internal rotation at 90° hip flexion (left) = 12°" in text
    assert "Shows as: Hip hike (left), Rib cage side-bend" in text


def test_a_step_already_shown_in_a_tree_is_not_repeated(kb):
    # the capsule follows twice (IR drop; IR and flexion drop), both times from limited IR
    page = html_report(kb.assess({"findings": {"supine_hip_ir": {"left": 12}, "supine_hip_flexion": {"left": 90}}}),
                       diagram=False)
    entry = page[page.index('<li id="c-posterior_capsule_closed-left">'):]
    entry = entry[:entry.index('<li id="c-', 10)]
    assert entry.count("Hip internal rotation limited (left)</span>") == 1
    assert "Hip internal rotation limited (left) <span class=\"connective\">(shown above)</span>" in entry


def test_recommendations_numbered_in_order_with_why_and_what_they_act_on(parsed):
    text = parsed.text("recommendations")
    assert text.index("Principle: Start on the ground") < text.index("Exercise 1: Arm bar") \
        < text.index("Exercise 2: Front foot elevated split squat") < text.index("Exercise 3: Cable crossover step-up")
    assert "What it acts on here" in text
    assert "shapes the pelvis (lateral compression)" in text


def test_quotes_on_hover_and_in_full_on_paper(parsed, page):
    article = " ".join(ARTICLE.read_text(encoding="utf-8").split())
    titles = [attrs["title"] for tag, attrs in parsed.elements if attrs.get("class") == "cite" and attrs.get("title")]
    assert titles
    quoted = [t for t in titles if " ".join(t.split()) in article]
    assert len(quoted) >= 10  # the article's exact words, not paraphrases
    assert "By bringing the leg to 90 degrees to begin the assessment" in " ".join(titles)
    printed = re.search(r"@media print \{(.*?)\n\}", page, re.DOTALL).group(1)
    assert ".quote { display: block" in printed
    assert re.search(r"\.hipkb-report \.quote \{ display: none; \}", page)  # hidden on screen
    assert "details::details-content" in printed and "beforeprint" in page  # collapsed trees open on paper


def test_assumptions_and_borderline_readings(parsed, kb):
    text = parsed.text("assumptions")
    assert "there is no evidence that pelvis forward on the tested side during the supine IR test (left) (not recorded)" in text
    assert "pelvis turned away from the tested side during the supine IR test (left)" in text
    assert "Rests on it: Posterior hip capsule closed (left)" in text
    # demo-01: SLR 45° is within the 6° error of the 50° threshold
    assert "Straight leg raise angle (left): 45° is within the 6° measurement error of the 50° threshold: retest" \
        in parsed.text("borderline")
    other = Page(html_report(kb.assess(BORDERLINE), diagram=False))
    assert ("Supine hip internal rotation at 90° hip flexion (left): 23° is within the 6.1° measurement error of "
            "the 25° threshold: retest. May change: hip internal rotation limited") in other.text("borderline")


def test_disagreements_in_words(kb):
    parsed = Page(html_report(kb.assess(DISAGREEMENT), diagram=False))
    text = parsed.text("disagreements")
    assert ("On the left, hip internal rotation within range (measured) outweighs hip internal rotation limited "
            "(predicted, not measured): measured outweighs predicted.") in text
    assert "Withdrawn with it:" in text and "Arm bar (left)" in text


def test_no_differential_where_ir_is_not_limited(kb):
    parsed = Page(html_report(kb.assess({"findings": {"supine_hip_ir": {"left": 40, "right": 40}}}), diagram=False))
    assert "not limited, or not suspected to be, on either side" in parsed.text("differential")


def test_the_case_diagram_is_inline(parsed, page):
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert "Left hip" in svg and "Right hip" in svg and "Exercises, in this order" in svg
    assert "xmlns" not in svg[:300]


def test_full_detail_adds_ids(demo):
    brief, full = html_report(demo, diagram=False), html_report(demo, detail="full", diagram=False)
    assert 'class="ids"' not in brief and 'class="ids"' in full
    assert "capsule_closed_from_ir_drop" in full


# -- escaping -------------------------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=y> \u2028 \u202e end\nline'


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory):
    target = tmp_path_factory.mktemp("hostile-html") / "kb"
    shutil.copytree(REPO / "kb", target)
    path = target / "states.yaml"
    text = path.read_text(encoding="utf-8")
    old = "label: Hip internal rotation limited\n"
    assert text.count(old) == 1
    path.write_text(text.replace(old, f"label: {json.dumps(HOSTILE)}\n"), encoding="utf-8")
    return hipkb.load_kb(target).assess({"subject": "a <b> & \"c\"", "findings": {"supine_hip_ir": {"left": 12}}})


def test_all_text_is_cleaned_then_escaped(hostile_result):
    page = html_report(hostile_result)
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;" in page
    assert "\u2028" not in page and "\u202e" not in page
    assert "\\u2028" in page and "\\u202e" in page and "end\\nline" in page
    assert "a &lt;b&gt; &amp; &quot;c&quot;" in page
    parsed = Page(page)
    assert [t for t, _ in parsed.elements].count("script") == 1  # only the page's own print script
    assert not any(name.startswith("on") for _, attrs in parsed.elements for name in attrs)


# -- Jupyter -----------------------------------------------------------------------------------------------


def test_repr_html_is_the_same_content_in_one_scoped_div(demo, page):
    fragment = demo._repr_html_()
    assert fragment == html_fragment(demo)
    assert fragment.startswith('<div class="hipkb-report"><style>') and fragment.endswith("</div>")
    assert "<html" not in fragment and "<body" not in fragment and "<script" not in fragment
    body = page[page.index('<main class="hipkb-report">') + len('<main class="hipkb-report">'):page.index("</main>")]
    assert body.strip() in fragment
    css = fragment[fragment.index("<style>") + 7:fragment.index("</style>")]
    selectors = re.findall(r"([^{}]+)\{[^{}]*\}", css)  # innermost rules: their selectors
    assert len(selectors) > 20
    for selector in selectors:
        for part in selector.split(","):
            assert part.strip().startswith(".hipkb-report"), part  # nothing leaks into the notebook


# -- CLI -------------------------------------------------------------------------------------------------------


def run_cli(capsys, *args):
    from hipkb.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_report_writes_one_file(tmp_path, capsys, page):
    out = tmp_path / "report.html"
    assert run_cli(capsys, "report", DEMO, "-o", out) == (0, "", "")
    assert out.read_text(encoding="utf-8") == page
    code, text, _ = run_cli(capsys, "report", DEMO)
    assert code == 0 and text == page


@pytest.mark.parametrize("name,message", [
    ("report.txt", "the report is HTML: name a .html file, not 'report.txt'"),
    (None, "refusing to overwrite an input file"),
])
def test_cli_report_refuses_bad_outputs(tmp_path, capsys, name, message):
    case = tmp_path / "case.html.yaml"
    case.write_bytes(DEMO.read_bytes())
    target = tmp_path / name if name else tmp_path / "case.html"
    if name is None:
        case = target  # the case itself is the output named: never written over
        case.write_bytes(DEMO.read_bytes())
    before = case.read_bytes()
    code, out, err = run_cli(capsys, "report", case, "-o", target)
    assert code == 2 and message in err and err.count("\n") == 1
    assert case.read_bytes() == before


def test_report_without_graphviz_says_so(monkeypatch, tmp_path, demo):
    monkeypatch.setenv("PATH", str(tmp_path))
    page = html_report(demo)
    assert "Not drawn: Graphviz&#x27;s dot program was not found" in page or \
        "Not drawn: Graphviz's dot program was not found" in page
    assert "<svg" not in page


def test_a_long_chain_is_cut_short_with_a_link(tmp_path):
    """A KB whose chain runs through 300 more states: every tree stays shallow and links on; nothing recurses deep."""
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    count = 300
    states = "".join(f"\n  - id: extra_{i}\n    label: Extra step {i}\n    sided: true\n" for i in range(count))
    links, cause = [], "pelvis_not_internally_rotating"
    for i in range(count):
        links.append(
            f"\n  - id: extra_link_{i}\n    label: Extra link {i}\n    cause: {cause}\n    effect: extra_{i}\n"
            "    use: conclude\n    evidence: interpretation\n    source:\n      ref: article\n"
            '      quote: "This closing of the inlet allows the bottom part of the pelvis (outlet) to open."\n'
            '      interpretation: "a test of depth"\n'
        )
        cause = f"extra_{i}"
    for name, extra in (("states.yaml", states), ("causal.yaml", "".join(links))):
        path = target / name
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra, encoding="utf-8")
    result = hipkb.load_kb(target).assess({"findings": {"straight_leg_raise": {"left": 40}}})
    page = html_report(result, diagram=False)
    last = page[page.index(f'<li id="c-extra_{count - 1}-left">'):]
    last = last[:last.index("</details></li>")]
    assert last.count("<details>") <= 13
    assert "(continued in its own entry)" in last
    target_id = re.search(r'<a href="#(c-extra_\d+-left)">', last).group(1)
    assert f'<li id="{target_id}">' in page  # the link leads to that step's own entry
