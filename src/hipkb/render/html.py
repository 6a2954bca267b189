"""The HTML report of a case: one self-contained page to read offline, print or hand in.

:func:`html_report` writes a whole page (inline CSS, inline SVG, a few
lines of inline script that open every collapsed section before printing;
nothing is fetched: no external URL in any ``src``, ``href`` or ``url()``).
:func:`html_fragment` is the same content as one ``<div>`` with its own
scoped style, for Jupyter (``Result._repr_html_``).

Sections: the bottom line; the differential (why is IR limited on this
side?); the conclusions and recommendations per side, each with its
justification tree in collapsible ``<details>`` (a step already shown is
written "shown above"); assumptions; disagreements; borderline readings;
the case diagram; the sources cited. A quote from the article shows on
hover (``title``) and in full on paper (print CSS). Every piece of KB or
case text passes :func:`hipkb.sanitize.clean`, then :func:`html.escape`.
The same result always gives the same bytes.

>>> import hipkb
>>> page = html_report(hipkb.assess("examples/demo-01.yaml"), diagram=False)
>>> page.startswith("<!DOCTYPE html>"), "<h2>Bottom line</h2>" in page
(True, True)
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import GraphvizNotFound, HipkbError
from ..model import SIDES, Citation, Key, Side
from ..answers.words import evidence_words, kind_title, status_words
from ..sanitize import clean

if TYPE_CHECKING:
    from ..result import Conclusion, Justification, RecommendationResult, Result

__all__ = ["html_report", "html_fragment", "esc", "CSS"]

_SCOPE = ".hipkb-report"
_KIND_ORDER = {"principle": 0, "exercise": 1, "strategy": 2, "caution": 3, "assessment": 4}
_REFERRAL = "refer_for_fai_evaluation"
#: Nested steps shown in one justification tree; deeper, a link to the item's own entry.
_MAX_DEPTH = 12
_LIMITED = ("ir_limited", "ir_limitation_suspected")
_NOTE = ("A coaching model, not a diagnosis: the rules come from one coaching article (Resilient Movement blog, "
         "2025), with clinical norms cited for the numbers.")

CSS = """
.hipkb-report { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a;
  line-height: 1.45; max-width: 70rem; margin: 0 auto; padding: 0 1rem 2rem; font-size: 15px; }
.hipkb-report h1 { font-size: 1.7rem; margin: 1rem 0 0.2rem; }
.hipkb-report h2 { font-size: 1.3rem; margin: 1.8rem 0 0.6rem; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem; }
.hipkb-report h3 { font-size: 1.08rem; margin: 1.1rem 0 0.4rem; }
.hipkb-report .meta { color: #555; margin: 0; }
.hipkb-report .note { color: #555; font-style: italic; }
.hipkb-report .bottom { display: flex; flex-wrap: wrap; gap: 1rem; }
.hipkb-report .bottom > div { flex: 1 1 20rem; background: #f3f7fb; border-left: 5px solid #2b6ca3;
  padding: 0.4rem 1rem; border-radius: 4px; }
.hipkb-report .bottom ul { padding-left: 1.1rem; margin: 0.3rem 0; }
.hipkb-report table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; font-size: 0.93rem; }
.hipkb-report th, .hipkb-report td { border: 1px solid #d0d7de; padding: 0.35rem 0.5rem; vertical-align: top;
  text-align: left; }
.hipkb-report th { background: #f0f2f4; }
.hipkb-report td ul { margin: 0; padding-left: 1rem; }
.hipkb-report .standing { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 0.7rem;
  font-size: 0.85rem; white-space: nowrap; background: #e8e8e8; }
.hipkb-report .standing.holds { background: #b8e186; }
.hipkb-report .standing.against { background: #fbd0cb; }
.hipkb-report .standing.confounded { background: #fdd0a2; }
.hipkb-report .items { list-style: none; padding-left: 0; }
.hipkb-report .items > li { margin: 0.35rem 0; }
.hipkb-report details { border: 1px solid #d0d7de; border-radius: 4px; padding: 0.25rem 0.6rem; background: #fff; }
.hipkb-report details details { border: none; border-left: 2px solid #d0d7de; border-radius: 0; padding: 0.1rem 0 0.1rem 0.6rem; }
.hipkb-report summary { cursor: pointer; }
.hipkb-report summary .label { font-weight: 600; }
.hipkb-report .status { color: #444; font-size: 0.9rem; }
.hipkb-report ul.tree { padding-left: 1.1rem; margin: 0.3rem 0; }
.hipkb-report ul.tree li { margin: 0.15rem 0; }
.hipkb-report .connective { font-style: italic; color: #555; }
.hipkb-report a { color: #2b6ca3; }
.hipkb-report .cite { border-bottom: 1px dotted #777; cursor: help; color: #2b6ca3; }
.hipkb-report .quote { display: none; }
.hipkb-report .badge { display: inline-block; font-size: 0.8rem; padding: 0 0.4rem; border-radius: 0.6rem;
  background: #eee; color: #333; margin-left: 0.3rem; }
.hipkb-report .badge.borderline { background: #fdd0a2; }
.hipkb-report .badge.assumes { background: #fff2ae; }
.hipkb-report .ids { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8rem; color: #666; }
.hipkb-report figure { margin: 0.5rem 0; overflow-x: auto; }
.hipkb-report figure svg { max-width: 100%; height: auto; }
.hipkb-report figcaption { color: #555; font-size: 0.9rem; }
@media print {
  .hipkb-report { max-width: none; font-size: 10.5pt; padding: 0; }
  .hipkb-report .quote { display: block; margin: 0.15rem 0 0.3rem 1rem; font-style: italic; color: #333; }
  .hipkb-report .cite { border: none; color: inherit; }
  .hipkb-report details { border: none; padding: 0; }
  .hipkb-report details::details-content { content-visibility: visible; display: contents; }
  .hipkb-report summary { list-style: none; }
  .hipkb-report h2 { break-after: avoid; }
  .hipkb-report tr, .hipkb-report .bottom > div, .hipkb-report figure { break-inside: avoid; }
  .hipkb-report .bottom > div { border: 1px solid #999; }
}
"""

_PRINT_SCRIPT = (
    "window.addEventListener('beforeprint',function(){"
    "document.querySelectorAll('.hipkb-report details').forEach(function(d){d.open=true;});});"
)


def esc(text: Any) -> str:
    """KB or case text for HTML: :func:`hipkb.sanitize.clean`, then :func:`html.escape` (quotes too).

    >>> esc('<b onclick="x">R&D</b>\\u2028')
    '&lt;b onclick=&quot;x&quot;&gt;R&amp;D&lt;/b&gt;\\\\u2028'
    """
    return html.escape(clean(str(text)), quote=True)


def _deg(value: float) -> str:
    return f"{float(value):g}°"


def _side_heading(side: str | None) -> str:
    return f"{side.capitalize()} hip" if side else "No particular side"


def _lower(text: str) -> str:
    head = text.split(" ", 1)[0]
    return text if len(head) > 1 and head.isupper() else text[:1].lower() + text[1:]


class _Writer:
    """Builds the report's HTML for one result; every text goes through :func:`esc`."""

    def __init__(self, result: Result, *, detail: str) -> None:
        self.result = result
        self.kb = result.kb
        self.full = detail == "full"
        self.items: dict[Key, Conclusion | RecommendationResult] = {c.key: c for c in result.conclusions}
        self.items.update({r.key: r for r in result.recommendations})

    # -- small pieces

    def ids(self, *parts: Any) -> str:
        if not self.full:
            return ""
        return ' <span class="ids">' + esc(" · ".join(str(p) for p in parts if p)) + "</span>"

    def label(self, item_id: str) -> str:
        return esc(self.kb.label(item_id))

    def key_text(self, key: Key, *, lower: bool = False) -> str:
        item, side = key
        text = clean(self.kb.label(item))
        return esc(_lower(text) if lower else text) + (f" ({esc(side)})" if side else "")

    def finding_text(self, key: Key) -> str:
        value = self.result.case.findings.get(key)
        name = self.key_text(key, lower=True)
        if value is None:
            return f"{name}: not recorded"
        if isinstance(value, bool):
            return f"{name}: {'observed' if value else 'not observed'}"
        return f"{name} = {esc(_deg(value))}"

    def cite(self, source: Citation | None) -> str:
        """'according to the article' with the quote on hover and, on paper, in full."""
        if source is None:
            return ""
        parts = []
        name = self.source_name(source.ref)
        if source.quote:
            parts.append(
                f' <span class="connective">according to</span> <span class="cite" title="{esc(source.quote)}">'
                f"{esc(name)}</span>"
                f'<span class="quote">“{esc(source.quote)}”</span>'
            )
        elif source.ref:
            where = self.kb.sources[source.ref].citation if source.ref in self.kb.sources else source.ref
            parts.append(
                f' <span class="connective">according to</span> <span class="cite" title="{esc(where)}">'
                f"{esc(name)}</span>"
            )
        if source.interpretation:
            parts.append(
                f' <span class="badge" title="{esc(source.interpretation)}">interpretation</span>'
                f'<span class="quote">Interpretation: {esc(source.interpretation)}</span>'
            )
        return "".join(parts)

    def source_name(self, ref: str | None) -> str:
        """``the article``, or an outside reference's authors and year (the Sources section has the rest)."""
        if ref is None:
            return "the source"
        source = self.kb.sources.get(ref)
        if source is None:
            return ref
        if source.kind == "article":
            return "the article"
        short = re.match(r"^(.*?\(\d{4}\))", source.citation)
        return short.group(1) if short else source.citation

    def status(self, item: Conclusion | RecommendationResult) -> str:
        words = [status_words(item.status), evidence_words(item.evidence)]
        return f'<span class="status">{esc(", ".join(words))}</span>'

    def badges(self, item: Conclusion | RecommendationResult) -> str:
        out = []
        if item.borderline:
            names = ", ".join(clean(self.kb.label(f)) + (f" ({s})" if s else "") for f, s in item.borderline)
            out.append(f'<span class="badge borderline" title="{esc(names)}">borderline reading</span>')
        if item.assumptions:
            names = "; ".join(clean(self.kb.label(f)) + (f" ({s})" if s else "") for f, s in item.assumptions)
            out.append(f'<span class="badge assumes" title="not recorded, taken as not observed: {esc(names)}">'
                       "rests on an assumption</span>")
        return "".join(out)

    def measurement(self, c: Conclusion) -> str:
        m = c.measurement
        if m is None:
            return ""
        if m.threshold_id and m.threshold_id != m.finding:
            text = f"{_deg(m.value)} lower than the other side (more than {_deg(m.threshold)})"
        else:
            compare = "below" if m.margin < 0 else "at or above"
            text = f"{_deg(m.value)}, {compare} the {_deg(m.threshold)} threshold"
        return f" — {esc(text)}"

    # -- justification trees

    def tree(self, key: Key, shown: set[Key], *, prefix: str = "", depth: int = 0) -> str:
        """An item and how it was reached, down to the entered findings; each item once per tree.

        Past :data:`_MAX_DEPTH` nested steps the tree links to the item's own entry instead.
        """
        item = self.items.get(key)
        if item is None:
            return f"<li>{prefix}{self.key_text(key)}</li>"
        if key in shown:
            return f'<li>{prefix}{self.key_text(key)} <span class="connective">(shown above)</span></li>'
        if depth >= _MAX_DEPTH:
            return f"<li>{prefix}{self.link(key)} <span class=\"connective\">(continued in its own entry)</span></li>"
        shown.add(key)
        head = f'{prefix}<span class="label">{self.key_text(key)}</span> {self.status(item)}{self.ids(key[0], key[1])}'
        steps = "".join(self.step(j, shown, depth=depth + 1) for j in item.justifications)
        return f'<li><details><summary>{head}</summary><ul class="tree">{steps}</ul></details></li>'

    def anchor(self, key: Key) -> str:
        return "c-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{key[0]}-{key[1] or 'none'}")

    def link(self, key: Key) -> str:
        """A premise named, with a link to its own entry (no tree repeated under every recommendation)."""
        item = self.items.get(key)
        if item is None:
            return self.key_text(key)
        return f'<a href="#{self.anchor(key)}">{self.key_text(key)}</a> {self.status(item)}'

    def step(self, just: Justification, shown: set[Key] | None, *, depth: int = 0) -> str:
        """One justification: its rule, evidence and source, and what it rests on (a tree, or links when ``shown`` is None)."""
        if just.rule is None:
            return '<li><span class="connective">stated in the case</span> (assessor\'s record)</li>'
        rule = self.kb.rule_index.get(just.rule)
        name = esc(rule.label) if rule is not None else esc(just.rule)
        evidence = esc(evidence_words(just.evidence))
        body = [f"<li>{name} <span class=\"status\">({evidence})</span>{self.ids(just.rule)}{self.cite(just.source)}"]
        premises = []
        for key in just.because:
            if key[0] in self.kb.findings:
                premises.append(f'<li><span class="connective">because</span> {self.finding_text(key)}</li>')
            elif shown is None:
                premises.append(f'<li><span class="connective">because</span> {self.link(key)}</li>')
            else:
                premises.append(self.tree(key, shown, prefix='<span class="connective">because</span> ', depth=depth))
        for key in just.recorded_false:
            premises.append(f'<li><span class="connective">it is not the case that</span> {self.key_text(key, lower=True)} '
                            "(recorded as not observed)</li>")
        for key in just.not_recorded:
            premises.append(f'<li><span class="connective">because nothing was recorded for</span> {self.key_text(key, lower=True)}</li>')
        for key in just.assumptions:
            premises.append(f'<li><span class="connective">there is no evidence that</span> {self.key_text(key, lower=True)} '
                            "(not recorded, taken as not observed)</li>")
        if premises:
            body.append('<ul class="tree">' + "".join(premises) + "</ul>")
        body.append("</li>")
        return "".join(body)

    # -- sections

    def bottom_line(self) -> str:
        try:
            from ..answers.report import bottom_line
        except ImportError:  # pragma: no cover - the answers package ships with hipkb
            return ""
        try:
            lines = bottom_line(self.result)
        except HipkbError:
            return ""
        cards = []
        for entry in lines:
            items = "".join(f"<li>{esc(line)}</li>" for line in entry.lines)
            cards.append(f"<div><h3>{esc(_side_heading(entry.side))}</h3><ul>{items}</ul></div>")
        return '<section id="bottom-line"><h2>Bottom line</h2><div class="bottom">' + "".join(cards) + "</div></section>"

    def differential(self) -> str:
        sides: list[Side] = [s for s in SIDES if any(self.result.conclusion(i, s) for i in _LIMITED if i in self.kb.states)
                 or any(c.id == "ir_limited" and c.side == s for d in self.result.disagreements for c in d.dropped)]
        if not sides:
            return ('<section id="differential"><h2>Why is IR limited?</h2>'
                    '<p class="note">Internal rotation is not limited, or not suspected to be, on either side.</p></section>')
        try:
            from ..answers.differential import differential
        except ImportError:  # pragma: no cover
            return ""
        parts = ['<section id="differential"><h2>Why is IR limited? The contributors</h2>',
                 '<p class="note">Every contributor the article names, with its standing on this side, the '
                 "arguments for and against, and the assessment that would change the standing.</p>"]
        for side in sides:
            try:
                rows = differential(self.result, side)
            except HipkbError:
                return ""
            parts.append(f"<h3>{esc(_side_heading(side))}</h3>")
            parts.append("<table><thead><tr><th>Contributor</th><th>Standing</th><th>For</th><th>Against</th>"
                         "<th>Next assessment</th></tr></thead><tbody>")
            for c in rows:
                cls = "holds" if c.holds else {"argued against": "against", "absent": "against",
                                               "confounded": "confounded"}.get(c.standing, "")
                nxt = self.label(c.next_assessment) if c.next_assessment else "—"
                parts.append(
                    f"<tr><td>{esc(c.label)}{self.ids(c.id)}</td>"
                    f'<td><span class="standing {cls}">{esc(c.standing)}</span></td>'
                    f"<td>{self.arguments(c.arguments_for)}</td><td>{self.arguments(c.arguments_against)}</td>"
                    f"<td>{nxt}</td></tr>"
                )
            parts.append("</tbody></table>")
        parts.append("</section>")
        return "".join(parts)

    def arguments(self, arguments: Sequence[Any]) -> str:
        if not arguments:
            return "—"
        return "<ul>" + "".join(
            f"<li>{esc(getattr(a, 'text', a))}{self.cite(getattr(a, 'source', None))}</li>" for a in arguments
        ) + "</ul>"

    def conclusions(self) -> str:
        parts = ['<section id="conclusions"><h2>Conclusions</h2>',
                 '<p class="note">Open an entry to see how it was reached, step by step, down to what was entered.</p>']
        for side in (*SIDES, None):
            mine = [c for c in self.result.conclusions if c.side == side]
            if not mine:
                continue
            parts.append(f'<h3>{esc(_side_heading(side))}</h3><ul class="items">')
            for c in mine:
                head = (f'<span class="label">{self.label(c.id)}</span>{self.measurement(c)} {self.status(c)}'
                        f"{self.badges(c)}{self.ids(c.id, c.side)}")
                shows = ""
                if c.shows_as:
                    shows = ('<p>Shows as: ' + ", ".join(self.key_text(k) for k in c.shows_as) + "</p>")
                shown: set[Key] = {c.key}  # one tree per entry: an item already shown is not repeated
                steps = "".join(self.step(j, shown) for j in c.justifications)
                parts.append(f'<li id="{self.anchor(c.key)}"><details><summary>{head}</summary>{shows}'
                             f'<ul class="tree">{steps}</ul></details></li>')
            parts.append("</ul>")
        parts.append("</section>")
        return "".join(parts)

    def recommendations(self) -> str:
        parts = ['<section id="recommendations"><h2>Recommendations</h2>']
        order = self.kb.position("recommendations")
        for side in (*SIDES, None):
            mine = sorted(
                (r for r in self.result.recommendations if r.side == side),
                key=lambda r: (r.id != _REFERRAL, _KIND_ORDER.get(r.kind, 9), r.order or 0, order.get(r.id, 0)),
            )
            if not mine:
                continue
            parts.append(f'<h3>{esc(_side_heading(side))}</h3><ul class="items">')
            for r in mine:
                title = kind_title(r.kind) + (f" {r.order}" if r.order else "")
                head = (f'<span class="label">{esc(title)}: {self.label(r.id)}</span> {self.status(r)}'
                        f"{self.badges(r)}{self.ids(r.id, r.side)}")
                body = [f"<p>{esc(r.summary)}</p>"] if r.summary else []
                body.append('<p><span class="connective">Called for</span></p><ul class="tree">'
                            + "".join(self.step(j, None) for j in r.justifications) + "</ul>")
                how = self.addresses(r)
                if how:
                    body.append('<p><span class="connective">What it acts on here</span></p><ul class="tree">' + how + "</ul>")
                parts.append(f"<li><details><summary>{head}</summary>{''.join(body)}</details></li>")
            parts.append("</ul>")
        parts.append("</section>")
        return "".join(parts)

    def addresses(self, r: RecommendationResult) -> str:
        rec = self.kb.recommendations.get(r.id)
        if rec is None:
            return ""
        out = []
        for target, side in r.addresses:
            for address in rec.addresses:
                if address.target == target:
                    out.append(f"<li>{self.key_text((target, side))}: {esc(address.label)}{self.cite(address.source)}</li>")
                    break
        return "".join(out)

    def assumptions(self) -> str:
        resting: dict[Key, list[Key]] = {}
        everything: list[Conclusion | RecommendationResult] = [*self.result.conclusions, *self.result.recommendations]
        for item in everything:
            for key in item.assumptions:
                resting.setdefault(key, []).append(item.key)
        if not resting:
            return ('<section id="assumptions"><h2>Assumptions</h2>'
                    "<p>None: every step rests on what was recorded.</p></section>")
        parts = ['<section id="assumptions"><h2>Assumptions</h2>',
                 "<p class=\"note\">What was not recorded and is taken as not observed. Recording it would "
                 "confirm or change what rests on it.</p><ul>"]
        for key in sorted(resting, key=lambda k: (self.kb.position("findings").get(k[0], 0), SIDES.index(k[1]) if k[1] in SIDES else 2)):
            items = ", ".join(self.key_text(k) for k in resting[key])
            parts.append(f'<li><span class="connective">there is no evidence that</span> {self.key_text(key, lower=True)} '
                         f"(not recorded). Rests on it: {items}.</li>")
        parts.append("</ul></section>")
        return "".join(parts)

    def disagreements(self) -> str:
        if not self.result.disagreements:
            return ""
        parts = ['<section id="disagreements"><h2>Disagreements</h2><ul>']
        for d in self.result.disagreements:
            where = f"On the {d.side}" if d.side else "With no side"
            dropped = ", ".join(f"{self.key_text((c.id, None), lower=True)} ({esc(status_words(c.status))})"
                                for c in d.dropped)
            if d.kept is not None:
                kept = (f"{self.key_text((d.kept.id, None), lower=True)} "
                        f"({esc(status_words(d.kept.status))})")
                text = f"{esc(where)}, {kept} outweighs {dropped}: {esc(d.reason)}."
            else:
                text = f"{esc(where)}, neither could be preferred, so both went: {dropped} ({esc(d.reason)})."
            if d.withdrawn:
                text += " Withdrawn with it: " + ", ".join(self.key_text(k) for k in d.withdrawn) + "."
            parts.append(f"<li>{text}</li>")
        parts.append("</ul></section>")
        return "".join(parts)

    def borderline(self) -> str:
        """One line per reading within its measurement error of a threshold, with what may change on a retest."""
        readings: dict[tuple[str, Side, float, float], tuple[Any, list[str]]] = {}
        for c in self.result.conclusions:
            m = c.measurement
            if m is not None and m.borderline:
                entry = readings.setdefault((m.finding, m.side, m.value, m.threshold), (m, []))
                entry[1].append(esc(_lower(clean(self.kb.label(c.id)))))
        if not readings:
            return ""
        lines = []
        for m, changes in readings.values():
            mdc = f"the {_deg(m.mdc)} measurement error" if m.mdc is not None else "the measurement error"
            where = f" ({esc(m.side)})" if m.side else ""
            lines.append(
                f"<li>{self.label(m.finding)}{where}: {esc(_deg(m.value))} is within {esc(mdc)} of the "
                f"{esc(_deg(m.threshold))} threshold: retest. May change: {', '.join(changes)}.</li>"
            )
        return '<section id="borderline"><h2>Borderline readings</h2><ul>' + "".join(lines) + "</ul></section>"

    def diagram(self) -> str:
        from . import render

        try:
            svg = render(self.result, format="svg").decode("utf-8")
        except GraphvizNotFound:
            return ('<section id="diagram"><h2>The reasoning as a diagram</h2><p class="note">'
                    "Not drawn: Graphviz's dot program was not found on this computer.</p></section>")
        return ('<section id="diagram"><h2>The reasoning as a diagram</h2><figure>' + inline_svg(svg)
                + "<figcaption>Findings → states → recommendations, left hip then right hip. Hover over a box "
                "for its status.</figcaption></figure></section>")

    def sources(self) -> str:
        cited = self.result.to_dict().get("sources") or {}
        if not cited:
            return ""
        items = "".join(f"<li>{esc(text)}</li>" for _, text in sorted(cited.items()))
        return f'<section id="sources"><h2>Sources</h2><ul>{items}</ul></section>'

    def body(self, *, diagram: bool) -> str:
        subject = self.result.case.subject
        title = f"Hip internal rotation: {subject}" if subject else "Hip internal rotation: one case"
        header = (f"<header><h1>{esc(title)}</h1><p class=\"meta\">{esc(self.kb.name)} knowledge base "
                  f"{esc(self.kb.version)}</p><p class=\"note\">{esc(_NOTE)}</p></header>")
        sections = [header, self.bottom_line(), self.disagreements(), self.differential(), self.conclusions(),
                    self.recommendations(), self.assumptions(), self.borderline()]
        if diagram:
            sections.append(self.diagram())
        sections.append(self.sources())
        return "\n".join(s for s in sections if s)


_SVG_START = re.compile(r"<svg\b")
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)


def inline_svg(svg: str) -> str:
    """An SVG from ``dot`` ready to sit inside HTML: no XML prolog, DOCTYPE, comments or namespace URLs."""
    start = _SVG_START.search(svg)
    body = svg[start.start():] if start else svg
    body = _COMMENTS.sub("", body)
    head, _, rest = body.partition(">")
    return _NAMESPACES.sub("", head) + ">" + rest


def html_fragment(result: Result, *, detail: str = "brief", diagram: bool = True) -> str:
    """The report as one ``<div class="hipkb-report">`` with its scoped style (Jupyter's ``_repr_html_``)."""
    writer = _Writer(result, detail=detail)
    return f'<div class="hipkb-report"><style>{CSS}</style>\n{writer.body(diagram=diagram)}\n</div>'


def html_report(result: Result, *, detail: str = "brief", diagram: bool = True) -> str:
    """The report as a whole, self-contained HTML page (inline CSS and SVG; nothing fetched)."""
    writer = _Writer(result, detail=detail)
    subject = result.case.subject
    title = f"hipkb report: {subject}" if subject else "hipkb report"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<main class="hipkb-report">\n{writer.body(diagram=diagram)}\n</main>\n'
        f"<script>{_PRINT_SCRIPT}</script>\n</body>\n</html>\n"
    )
