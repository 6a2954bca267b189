"""``hipkb new-case``: a case template with every finding blank, ready to fill in.

The template is YAML that ``hipkb assess`` accepts as it is (a blank
finding means "not assessed"); each finding has a comment saying what it
is, its unit and range, and whether it takes sides.

>>> from hipkb.kb import load_model
>>> import yaml
>>> text = case_template(load_model())
>>> data = yaml.safe_load(text)
>>> data["findings"]["supine_hip_ir"] is None and data["subject"] is None
True
"""

from __future__ import annotations

from pathlib import Path

import click

from ..model import Finding, KBModel
from ..sanitize import clean
from .common import cli, kb_option, load

__all__ = ["case_template"]

_GROUPS = {
    "measurement": "measurements (degrees)",
    "confounder": "the pelvis during the supine IR test (confounders of that test)",
    "compensation": "compensations (ways limited IR shows up)",
    "symptom": "symptoms",
}


def _describe(kb: KBModel, finding: Finding) -> str:
    """``Straight leg raise angle: degrees 0–150, per side; threshold 50°``."""
    label = clean(finding.label)
    where = "per side" if finding.sided else "no side"
    if finding.type != "degrees":
        return f"{label}: yes/no, {where}"
    what = clean(finding.unit or "degrees")
    if finding.range is not None:
        what += f" {finding.range[0]:g}–{finding.range[1]:g}"
    threshold = kb.thresholds.get(finding.id)
    limit = f"; threshold {threshold.value:g}°" if threshold is not None else ""
    return f"{label}: {what}, {where}{limit}"


def case_template(kb: KBModel) -> str:
    """The text of a blank case for ``kb``: every finding listed, each blank, with a comment."""
    lines = [
        f"# A new case for hipkb (knowledge base {clean(kb.name)} {clean(kb.version)}): fill in what was assessed.",
        "# Blank: not assessed. false: assessed and not observed. Then run: hipkb assess THIS_FILE",
        "# Degrees per side: {left: 12, right: 40}. Yes/no per side: true (both sides), left, right,",
        "#   [left, right], [] (neither) or {left: true, right: false}. Yes/no with no side: true or false.",
        "subject:",
        "findings:",
    ]
    group = None
    for finding in kb.findings.values():
        if finding.group != group:
            group = finding.group
            lines.append(f"  # --- {_GROUPS.get(group, clean(group))}")
        lines.append(f"  # {_describe(kb, finding)}")
        lines.append(f"  {finding.id}:")
    lines += [
        "  # An assessor may also state a state directly, e.g. posterior_capsule_closed: left",
        "  # (the states: hipkb kb list states).",
        "# Optional: override the KB's thresholds or measurement errors (degrees), e.g.",
        "# thresholds:",
    ]
    for threshold in list(kb.thresholds.values())[:1]:
        lines.append(f"#   {threshold.id}: {threshold.value:g}")
    lines.append("# mdc:")
    for threshold in [t for t in kb.thresholds.values() if t.mdc is not None][:1]:
        lines.append(f"#   {threshold.id}: {threshold.mdc:g}")
    return "\n".join(lines) + "\n"


@cli.command("new-case")
@kb_option
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, readable=False), default=None, metavar="FILE",
    help="Write the template to FILE (default: print it).",
)
def new_case(kb_dir: Path | None, output: Path | None) -> int:
    """Print a case template: every finding blank, each with what it is, its unit and range, and its sides.

    hipkb assess accepts the template as it is; fill in what was assessed.
    """
    text = case_template(load(kb_dir))
    if output is None:
        click.echo(text, nl=False)
        return 0
    from ..output import write_atomic

    write_atomic(output, text.encode("utf-8"))
    click.echo(f"wrote {clean(str(output))}")
    return 0
