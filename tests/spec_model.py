"""An independent, hand-written model of hipkb's version-2 reasoning: a test oracle.

Written from the specification texts only -- ``/work/shared/DESIGN.md``
("Case files", "What the engine must conclude (per side) -- version 2",
"Stable vocabulary") and ``docs/reasoning.md`` (the rule table the KB
implements).  It imports nothing from ``hipkb`` and reads no ``kb/*.yaml``:
every rule, status, evidence level, opposite pair and default is a literal
here, so that a loader, engine or resolver bug shows up as a disagreement
with this file.

Section references: "D" = DESIGN.md, "R" = docs/reasoning.md.  "D rule 2"
is item 2 of DESIGN's "Rules" list; "R 2-3" is the table "2-3. Reading the
supine test" in reasoning.md.

How it works (R "Support, cycles and opposites"):

1. The rule groups below (one function each) are run to a fixpoint.  Each
   call of ``conclude`` records one *justification* (a firing): the rule,
   the conclusion, its state premises, the assumptions and borderline
   readings of the rule's own conditions.  Recommendations are recorded the
   same way; they are never premises.
2. Justifications that are not well-founded are discarded (stages + strongly
   connected components, as R words it).
3. Every item takes its strongest justification (status, then evidence,
   then fewer assumptions, then declaration order); evidence is the weakest
   link, assumptions and borderline readings are transitive.
4. Opposite states on one side are resolved, upstream conflicts first;
   everything that rested only on a dropped state is withdrawn, support is
   computed again without the dropped states, and any conflict still
   standing is resolved in turn.

Readings where the texts leave a choice (each is checked by an example test):
- a side name or list for a sided boolean (`hip_hike: left`) records the
  other side false, as `[]` records both false (D "Case files");
- borderline readings, like assumptions, follow the strongest justification
  transitively; ir_asymmetry's borderline reading is (supine_hip_ir, lower side);
- "rule steps" of a justification = 1 + the most steps among its premises;
- a conflict between opposites waits while one of its states rests on a state
  of another standing conflict; support is recomputed after each drop, so a
  state that also rested on something else stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable


def _dec(x) -> Decimal:
    """A reading as the decimal a person typed (float artefacts of arithmetic never decide a comparison)."""
    return x if isinstance(x, Decimal) else Decimal(str(x))

# ---------------------------------------------------------------------------
# Vocabulary and defaults (D "Stable vocabulary", R "The rules")
# ---------------------------------------------------------------------------

DEFAULT_THRESHOLDS = {"supine_hip_ir": 25.0, "straight_leg_raise": 50.0, "supine_hip_flexion": 100.0, "ir_asymmetry": 10.0}
DEFAULT_MDC = {"supine_hip_ir": 6.1, "straight_leg_raise": 6.0, "supine_hip_flexion": 6.0}

SIDES = ("left", "right")
OTHER = {"left": "right", "right": "left"}

DEGREE_FINDINGS = ("supine_hip_ir", "supine_hip_flexion", "straight_leg_raise")
SIDED_COMPENSATIONS = ("hip_hike", "hip_shift_in_squat", "knee_hyperextension", "knee_valgus", "knee_varus", "foot_pronation")
UNSIDED_FINDINGS = ("rib_cage_side_bend", "lumbar_arch")
SIDED_BOOLEAN_FINDINGS = ("pelvis_forward", "pelvis_turned_away") + SIDED_COMPENSATIONS + ("pinch_in_flexion_ir", "pinch_in_extension_abduction")
SIDED_FINDINGS = DEGREE_FINDINGS + SIDED_BOOLEAN_FINDINGS
ALL_FINDINGS = SIDED_FINDINGS + UNSIDED_FINDINGS

# States that can be concluded or given (D "Stable vocabulary", plus the two
# version-2 states).
STATES = (
    "ir_limited", "ir_limitation_suspected", "ir_asymmetry", "posterior_capsule_closed",
    "deep_external_rotators_stiff", "ir_test_confounded_by_pelvis", "pelvis_not_internally_rotating",
    "sacrum_not_nutating", "inlet_not_closing", "outlet_not_opening", "acetabulum_not_anteverted",
    "femur_glide_space_lacking", "posterior_hip_space_lacking", "pelvic_floor_not_ascending",
    "fai_flexion_ir", "fai_extension_abduction", "pelvis_internally_rotating", "sacrum_nutating",
    "posterior_hip_allows_ir", "ir_within_range", "hip_flexion_limited",
)

# The finding -> assessment map of R "Recommendations" (findings.yaml's
# `assessment:` field).  Posture compensations (hip hike, knee
# hyperextension, rib cage, lumbar arch), the pelvic position, flexion and
# the pinch in extension + abduction name none.
ASSESSMENT_OF_FINDING = {
    "supine_hip_ir": "assess_supine_hip_ir",
    "straight_leg_raise": "assess_straight_leg_raise",
    "hip_shift_in_squat": "assess_squat",
    "knee_valgus": "assess_squat",
    "knee_varus": "assess_squat",
    "foot_pronation": "assess_foot_presentation",
    "pinch_in_flexion_ir": "check_pinch_in_flexion_ir",
}

# Recommendation kinds (D "Stable vocabulary"; record_pelvic_position and
# retest_after_programme, hold_loaded_ir_with_pinch from R / D version 2).
KIND = {
    "influence_pelvic_position": "strategy",
    "integrate_foot_and_ribcage": "strategy",
    "open_posterior_pelvis_and_hip": "strategy",
    "shift_centre_of_gravity": "strategy",
    "start_on_ground": "principle",
    "arm_bar": "exercise",
    "front_foot_elevated_split_squat": "exercise",
    "cable_crossover_step_up": "exercise",
    "avoid_stretching_in_isolation": "caution",
    "hold_loaded_ir_with_pinch": "caution",
    "refer_for_fai_evaluation": "caution",
    "retest_supine_ir_pelvis_neutral": "assessment",
    "record_pelvic_position": "assessment",
    "check_pinch_in_flexion_ir": "assessment",
    "assess_supine_hip_ir": "assessment",
    "assess_straight_leg_raise": "assessment",
    "assess_squat": "assessment",
    "assess_toe_touch": "assessment",
    "assess_foot_presentation": "assessment",
    "retest_after_programme": "assessment",
}

# Exercise progression (D "Stable vocabulary": ground -> split stance -> loaded).
EXERCISE_PROGRESSION = ("arm_bar", "front_foot_elevated_split_squat", "cable_crossover_step_up")

# R "What each exercise addresses": (id, "state" | "finding").
ADDRESSES = {
    "arm_bar": (
        ("ir_limited", "state"), ("pelvis_not_internally_rotating", "state"), ("inlet_not_closing", "state"),
        ("deep_external_rotators_stiff", "state"), ("posterior_hip_space_lacking", "state"),
    ),
    "front_foot_elevated_split_squat": (
        ("deep_external_rotators_stiff", "state"), ("posterior_hip_space_lacking", "state"),
        ("posterior_capsule_closed", "state"), ("pelvis_forward", "finding"),
        ("pelvis_turned_away", "finding"), ("ir_limited", "state"),
    ),
    "cable_crossover_step_up": (("ir_limited", "state"),),
}

# R "Support, cycles and opposites" / D rule 5.
OPPOSITES = (
    ("pelvis_internally_rotating", "pelvis_not_internally_rotating"),
    ("sacrum_nutating", "sacrum_not_nutating"),
    ("posterior_hip_allows_ir", "deep_external_rotators_stiff"),
    ("ir_within_range", "ir_limited"),
)

# R "Statuses" / "Evidence": strongest first.
STATUS_RANK = {"measured": 4, "given": 3, "indicated": 2, "inferred": 1, "predicted": 0}
EVIDENCE_RANK = {"clinical-norm": 2, "assessor": 2, "coaching-model": 1, "interpretation": 0}
NORM, COACH, INT, ASSESSOR = "clinical-norm", "coaching-model", "interpretation", "assessor"

# The KB's declaration order, used only as the last tie-break (R "Statuses").
# Rules and calls in the order reasoning.md lists them.
DECLARATION_ORDER = (
    # rules.yaml, then the concluding causal links, then the calls in
    # recommendations.yaml, each in file order (R "Statuses": the last tie-break)
    "ir_measured_limited", "ir_measured_within_range", "ir_asymmetry_measured", "hip_flexion_measured_limited",
    "capsule_closed_from_ir_drop", "capsule_closed_from_ir_and_flexion_drop", "ir_test_confounded_by_pelvic_position",
    "slr_space_present", "slr_posterior_hip_allows_ir", "slr_space_lacking",
    "compensation_suggests_ir_limitation", "unsided_compensation_suggests_ir_limitation_on_unmeasured_side",
    "unsided_compensation_suggests_ir_limitation",
    "fai_flexion_ir_presentation", "fai_extension_abduction_presentation",
    "pelvis_ir_closes_inlet", "inlet_closing_opens_outlet", "outlet_opening_anteverts_acetabulum",
    "anteversion_gives_femur_glide_space", "femur_glide_space_enables_ir", "outlet_opening_lets_pelvic_floor_ascend",
    "closed_capsule_takes_posterior_space", "stiff_rotators_take_posterior_space", "posterior_space_enables_ir",
    "influence_pelvic_position_for_pelvic_chain", "influence_pelvic_position_for_pelvic_position",
    "influence_pelvic_position_for_fai", "integrate_foot_and_ribcage_for_compensations",
    "open_posterior_pelvis_and_hip_for_back_of_hip", "open_posterior_pelvis_and_hip_for_sacrum",
    "shift_centre_of_gravity_for_programme", "start_on_ground_for_programme", "arm_bar_for_programme",
    "front_foot_elevated_split_squat_for_programme", "cable_crossover_step_up_for_programme",
    "avoid_stretching_in_isolation_for_back_of_hip", "avoid_stretching_in_isolation_for_sacrum",
    "hold_loaded_ir_with_pinch_for_programme", "refer_for_fai_evaluation_for_pinch",
    "retest_supine_ir_for_confounded_test", "record_pelvic_position_for_capsule_reading",
    "check_pinch_in_flexion_ir_for_programme",
    "assess_supine_hip_ir_for_suspected_limitation", "assess_supine_hip_ir_for_predicted_limitation",
    "assess_straight_leg_raise_for_suspected_limitation", "assess_straight_leg_raise_for_limitation",
    "assess_squat_for_ir_limitation", "assess_toe_touch_for_ir_limitation",
    "assess_foot_presentation_for_ir_limitation", "retest_after_programme_for_programme",
)
_DECL = {rule: i for i, rule in enumerate(DECLARATION_ORDER)}


# ---------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SpecItem:
    """One conclusion or recommendation, as the oracle expects it."""

    id: str
    side: str | None
    status: str
    evidence: str
    assumptions: frozenset = frozenset()  # {(finding_id, side)}
    borderline: frozenset = frozenset()  # {(finding_id, side)}
    rule: str = ""  # the rule/call of the strongest justification ("given" for a given state)
    steps: int = 0  # rule steps from the entries along the strongest justification
    order: int | None = None  # recommendations: position among this side's exercises
    addresses: frozenset = frozenset()  # recommendations: {(id, side)} of addressed items that hold


@dataclass(frozen=True)
class SpecResult:
    conclusions: dict  # {(id, side): SpecItem}
    recommendations: dict  # {(id, side): SpecItem}
    disagreements: list  # [(side, kept_id | None, frozenset(dropped_ids))]
    withdrawn: dict = field(default_factory=dict)  # {(side, kept, dropped): frozenset((id, side))}, informative
    support: dict = field(default_factory=dict)  # {(id, side): tuple of rule ids of the well-founded justifications}

    def holds(self, state: str, side: str | None) -> bool:
        return (state, side) in self.conclusions

    def recommended(self, rec: str, side: str | None) -> bool:
        return (rec, side) in self.recommendations


# ---------------------------------------------------------------------------
# Reading the case (R "Facts, sides and contexts")
# ---------------------------------------------------------------------------

class _Case:
    """Findings in normalized form, with the condition readings of R's table."""

    def __init__(self, findings: dict, thresholds: dict, mdc: dict):
        self.t = thresholds
        self.mdc = mdc
        self._sided: dict = {}
        self._unsided: dict = {}
        for fid, value in findings.items():
            if fid in UNSIDED_FINDINGS:
                if value is not None and not isinstance(value, bool):
                    raise ValueError(f"{fid}: an unsided finding takes True/False/None, got {value!r}")
                self._unsided[fid] = value
            elif fid in SIDED_FINDINGS:
                if not isinstance(value, dict) or set(value) - set(SIDES):
                    raise ValueError(f"{fid}: a sided finding takes {{'left': v, 'right': v}}, got {value!r}")
                for side, v in value.items():
                    if v is None:
                        continue
                    if fid in DEGREE_FINDINGS:
                        if isinstance(v, bool) or not isinstance(v, (int, float)):
                            raise ValueError(f"{fid}.{side}: degrees expected, got {v!r}")
                        v = float(v)
                    elif not isinstance(v, bool):
                        raise ValueError(f"{fid}.{side}: True/False expected, got {v!r}")
                    self._sided[(fid, side)] = v
            else:
                raise ValueError(f"unknown finding {fid!r}")

    # -- raw access -------------------------------------------------------
    def value(self, fid: str, side: str | None):
        """The recorded value on that side (unsided findings: the one value), else None."""
        if fid in UNSIDED_FINDINGS:
            return self._unsided.get(fid)
        if side is None:
            return None
        return self._sided.get((fid, side))

    # -- conditions ---------------------------------------------------------
    def observed(self, fid: str, side: str | None) -> bool:
        """{finding: F} (boolean): observed on that side; an unsided F is read in every context."""
        return self.value(fid, side) is True

    def recorded(self, fid: str, side: str | None) -> bool:
        """{recorded: F}: F has a value on that side (false for a sided F in the no-side context)."""
        return self.value(fid, side) is not None

    def absent(self, fid: str, side: str | None) -> bool:
        """{absent: F}: no value on that side; in the no-side context, no value on either side."""
        if side is None and fid not in UNSIDED_FINDINGS:
            return all(self.value(fid, s) is None for s in SIDES)
        return self.value(fid, side) is None

    def not_observed(self, fid: str, side: str):
        """{not: F} in a sided context: (holds, assumptions).

        Recorded false is a fact; not recorded is the assumption (F, side)
        (R "Assumptions").  Only sided contexts use it in the shipped rules."""
        v = self.value(fid, side)
        if v is True:
            return False, frozenset()
        if v is None:
            return True, frozenset({(fid, side)})
        return True, frozenset()

    def below(self, fid: str, side: str | None, threshold_id: str | None = None):
        """{finding: F, below: T}: strictly below (R: a value equal to its threshold is not below it).

        Returns (holds, borderline) where borderline is {(F, side)} when
        |value - threshold| < mdc, strictly (D "Measurement uncertainty")."""
        v = self.value(fid, side)
        if v is None or side is None:
            return False, frozenset()
        t = self.t[threshold_id or fid]
        return v < t, self._borderline(fid, side, _dec(v) - _dec(t), fid)

    def at_least(self, fid: str, side: str | None, threshold_id: str | None = None):
        v = self.value(fid, side)
        if v is None or side is None:
            return False, frozenset()
        t = self.t[threshold_id or fid]
        return v >= t, self._borderline(fid, side, _dec(v) - _dec(t), fid)

    def lower_side(self, fid: str, side: str | None, threshold_id: str):
        """{lower_side: F, by_more_than: T}: F here is lower than on the other side by more than T.

        The measurement's value is the side-to-side difference and its mdc
        the supine IR one (D "Measurement uncertainty")."""
        if side is None:
            return False, frozenset()
        here, there = self.value(fid, side), self.value(fid, OTHER[side])
        if here is None or there is None:
            return False, frozenset()
        # readings are decimals a person typed: compare them as decimals (16.1 - 6.1 is exactly 10)
        difference = _dec(there) - _dec(here)
        t = _dec(self.t[threshold_id])
        return difference > t, self._borderline(fid, side, difference - t, "supine_hip_ir")

    def _borderline(self, fid, side, margin, mdc_id):
        mdc = self.mdc.get(mdc_id)
        if mdc is not None and abs(_dec(margin)) < _dec(mdc):
            return frozenset({(fid, side)})
        return frozenset()

    def unassessed(self, rec: str, side: str | None) -> bool:
        """The implicit {unassessed: R} of every assessment (R "Facts, sides and contexts").

        No finding whose assessment is R is recorded on that side; unsided
        findings count on every side; in the no-side context, none is recorded
        on any side.  Retests are named by no finding, so they always pass."""
        for fid, assessment in ASSESSMENT_OF_FINDING.items():
            if assessment != rec:
                continue
            if fid in UNSIDED_FINDINGS:
                if self._unsided.get(fid) is not None:
                    return False
            elif side is None:
                if any(self.value(fid, s) is not None for s in SIDES):
                    return False
            elif self.value(fid, side) is not None:
                return False
        return True


# ---------------------------------------------------------------------------
# Justifications and the fixpoint
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Just:
    kind: str  # "state" | "rec"
    id: str
    side: str | None
    rule: str
    option: int  # index of the `any:` option this justification took
    status: str | None  # state rules: the rule's status; recommendations: computed from premises
    evidence: str  # the rule's own level
    premises: tuple  # state premises: ((state_id, side), ...)
    assumptions: frozenset  # from this rule's own `not:` conditions
    borderline: frozenset  # from this rule's own comparisons
    compares: bool = False  # recommendations: does the call compare a reading?

    @property
    def target(self):
        return (self.kind, self.id, self.side)

    @property
    def decl(self):
        return (_DECL[self.rule], self.option)


class _Derivation:
    def __init__(self, case: _Case, given: dict):
        self.case = case
        self.given = set()  # {(state, side)}
        for state, sides in (given or {}).items():
            if state not in STATES:
                raise ValueError(f"unknown state {state!r}")
            for side in sides:
                if side not in SIDES and side is not None:
                    raise ValueError(f"{state}: bad side {side!r}")
                self.given.add((state, side))
        self.justs: dict = {}  # key -> _Just (insertion-ordered)
        self.state_facts = set(self.given)

    def holds(self, state: str, side: str | None) -> bool:
        return (state, side) in self.state_facts

    def conclude(self, state, side, *, rule, status, evidence, premises=(), assumptions=frozenset(),
                 borderline=frozenset(), option=0):
        j = _Just("state", state, side, rule, option, status, evidence, tuple(premises),
                  frozenset(assumptions), frozenset(borderline))
        self._add(j)
        self.state_facts.add((state, side))

    def call(self, rec, side, *, rule, evidence, premises=(), assumptions=frozenset(), borderline=frozenset(),
             compares=False, option=0):
        if KIND[rec] == "assessment" and not self.case.unassessed(rec, side):
            return  # the implicit {unassessed: R} condition (R "Facts, sides and contexts")
        j = _Just("rec", rec, side, rule, option, None, evidence, tuple(premises),
                  frozenset(assumptions), frozenset(borderline), compares)
        self._add(j)

    def _add(self, j):
        key = (j.kind, j.id, j.side, j.rule, j.option, j.premises)
        self.justs.setdefault(key, j)


# ---------------------------------------------------------------------------
# The rules, one function per rule group
# ---------------------------------------------------------------------------

def rule_1_measurements(d: _Derivation, c: _Case):
    """R 1 / D rule 1: measurements against thresholds (status measured)."""
    for side in SIDES:
        # ir_measured_limited [norm]: supine_hip_ir below supine_hip_ir
        holds, bl = c.below("supine_hip_ir", side)
        if holds:
            d.conclude("ir_limited", side, rule="ir_measured_limited", status="measured", evidence=NORM, borderline=bl)
        # ir_measured_within_range [norm]: supine_hip_ir at least supine_hip_ir
        holds, bl = c.at_least("supine_hip_ir", side)
        if holds:
            d.conclude("ir_within_range", side, rule="ir_measured_within_range", status="measured", evidence=NORM,
                       borderline=bl)
        # ir_asymmetry_measured [int.]: lower than the other side by more than ir_asymmetry
        holds, bl = c.lower_side("supine_hip_ir", side, "ir_asymmetry")
        if holds:
            d.conclude("ir_asymmetry", side, rule="ir_asymmetry_measured", status="measured", evidence=INT,
                       borderline=bl)
        # hip_flexion_measured_limited [int.]: supine_hip_flexion below supine_hip_flexion
        holds, bl = c.below("supine_hip_flexion", side)
        if holds:
            d.conclude("hip_flexion_limited", side, rule="hip_flexion_measured_limited", status="measured",
                       evidence=INT, borderline=bl)


def rule_2_3_supine_test(d: _Derivation, c: _Case):
    """R 2-3 / D rules 2-3: capsule or pelvis?  The reading itself is a
    condition, so a predicted ir_limited never concludes the capsule."""
    for side in SIDES:
        low, bl = c.below("supine_hip_ir", side)
        if not (d.holds("ir_limited", side) and low):
            continue
        not_forward, a1 = c.not_observed("pelvis_forward", side)
        not_turned, a2 = c.not_observed("pelvis_turned_away", side)
        if not_forward and not_turned:
            # capsule_closed_from_ir_drop [indicated, coach.]
            d.conclude("posterior_capsule_closed", side, rule="capsule_closed_from_ir_drop", status="indicated",
                       evidence=COACH, premises=[("ir_limited", side)], assumptions=a1 | a2, borderline=bl)
            # capsule_closed_from_ir_and_flexion_drop [indicated, coach.]: the same and hip_flexion_limited
            if d.holds("hip_flexion_limited", side):
                d.conclude("posterior_capsule_closed", side, rule="capsule_closed_from_ir_and_flexion_drop",
                           status="indicated", evidence=COACH,
                           premises=[("ir_limited", side), ("hip_flexion_limited", side)],
                           assumptions=a1 | a2, borderline=bl)
        # ir_test_confounded_by_pelvic_position [inferred, int.]: any of pelvis_forward, pelvis_turned_away
        for option, fid in enumerate(("pelvis_forward", "pelvis_turned_away")):
            if c.observed(fid, side):
                d.conclude("ir_test_confounded_by_pelvis", side, rule="ir_test_confounded_by_pelvic_position",
                           status="inferred", evidence=INT, premises=[("ir_limited", side)], borderline=bl,
                           option=option)


def rule_4_straight_leg_raise(d: _Derivation, c: _Case):
    """R 4 / D rule 4: the straight leg raise (indicated, interpretation)."""
    for side in SIDES:
        space, bl = c.at_least("straight_leg_raise", side)
        if space:
            # slr_space_present
            for state in ("pelvis_internally_rotating", "sacrum_nutating"):
                d.conclude(state, side, rule="slr_space_present", status="indicated", evidence=INT, borderline=bl)
            # slr_posterior_hip_allows_ir
            d.conclude("posterior_hip_allows_ir", side, rule="slr_posterior_hip_allows_ir", status="indicated",
                       evidence=INT, borderline=bl)
        lacking, bl = c.below("straight_leg_raise", side)
        if lacking:
            # slr_space_lacking
            for state in ("pelvis_not_internally_rotating", "sacrum_not_nutating"):
                d.conclude(state, side, rule="slr_space_lacking", status="indicated", evidence=INT, borderline=bl)


# R 5 / D rule 5: the causal links with `use: conclude`: (link, cause, effect, evidence).
CAUSAL_LINKS = (
    ("pelvis_ir_closes_inlet", "pelvis_not_internally_rotating", "inlet_not_closing", INT),
    ("inlet_closing_opens_outlet", "inlet_not_closing", "outlet_not_opening", INT),
    ("outlet_opening_anteverts_acetabulum", "outlet_not_opening", "acetabulum_not_anteverted", INT),
    ("anteversion_gives_femur_glide_space", "acetabulum_not_anteverted", "femur_glide_space_lacking", INT),
    ("femur_glide_space_enables_ir", "femur_glide_space_lacking", "ir_limited", INT),
    ("outlet_opening_lets_pelvic_floor_ascend", "outlet_not_opening", "pelvic_floor_not_ascending", INT),
    ("closed_capsule_takes_posterior_space", "posterior_capsule_closed", "posterior_hip_space_lacking", INT),
    ("stiff_rotators_take_posterior_space", "deep_external_rotators_stiff", "posterior_hip_space_lacking", COACH),
    ("posterior_space_enables_ir", "posterior_hip_space_lacking", "ir_limited", COACH),
)


def rule_5_causal_model(d: _Derivation, c: _Case):
    """R 5 / D rule 5: cause -> effect.  ir_limited has a test of its own, so
    a link concludes it as `predicted`; every other effect is `inferred`."""
    for side in SIDES:
        for link, cause, effect, evidence in CAUSAL_LINKS:
            if d.holds(cause, side):
                status = "predicted" if effect == "ir_limited" else "inferred"
                d.conclude(effect, side, rule=link, status=status, evidence=evidence, premises=[(cause, side)])


def rule_7_compensations(d: _Derivation, c: _Case):
    """R 7 / D rule 7: compensations and suspicion (inferred, interpretation)."""
    for side in SIDES:
        # compensation_suggests_ir_limitation: any sided compensation; supine_hip_ir absent
        if c.absent("supine_hip_ir", side):
            for option, fid in enumerate(SIDED_COMPENSATIONS):
                if c.observed(fid, side):
                    d.conclude("ir_limitation_suspected", side, rule="compensation_suggests_ir_limitation",
                               status="inferred", evidence=INT, option=option)
        # unsided_compensation_suggests_ir_limitation_on_unmeasured_side:
        # any unsided compensation; supine_hip_ir absent here; recorded on the other side
        if c.absent("supine_hip_ir", side) and c.recorded("supine_hip_ir", OTHER[side]):
            for option, fid in enumerate(UNSIDED_FINDINGS):
                if c.observed(fid, side):
                    d.conclude("ir_limitation_suspected", side,
                               rule="unsided_compensation_suggests_ir_limitation_on_unmeasured_side",
                               status="inferred", evidence=INT, option=option)
    # unsided_compensation_suggests_ir_limitation: no condition depends on the
    # context (`absent on: both`), so it runs in the no-side context only.
    if all(c.absent("supine_hip_ir", s) for s in SIDES):
        for option, fid in enumerate(UNSIDED_FINDINGS):
            if c.observed(fid, None):
                d.conclude("ir_limitation_suspected", None, rule="unsided_compensation_suggests_ir_limitation",
                           status="inferred", evidence=INT, option=option)


def rule_8_pinch(d: _Derivation, c: _Case):
    """R 8 / D rule 8: a pinch is a possible impingement-type presentation."""
    for side in SIDES:
        if c.observed("pinch_in_flexion_ir", side):
            d.conclude("fai_flexion_ir", side, rule="fai_flexion_ir_presentation", status="inferred", evidence=INT)
        if c.observed("pinch_in_extension_abduction", side):
            d.conclude("fai_extension_abduction", side, rule="fai_extension_abduction_presentation",
                       status="inferred", evidence=INT)


PELVIC_CHAIN = ("pelvis_not_internally_rotating", "inlet_not_closing", "outlet_not_opening",
                "acetabulum_not_anteverted", "femur_glide_space_lacking")
BACK_OF_HIP = ("posterior_capsule_closed", "deep_external_rotators_stiff", "posterior_hip_space_lacking")
RIBCAGE_KNEE_FOOT = ("rib_cage_side_bend", "knee_valgus", "knee_varus", "knee_hyperextension", "foot_pronation")
FAI = ("fai_flexion_ir", "fai_extension_abduction")


def rule_6_programme(d: _Derivation, c: _Case):
    """R "Recommendations" / D rule 6: the programme.  Every call has
    ir_limited among its conditions; strategies are called by their
    contributors; exercises by the programme alone."""
    for side in SIDES:
        if not d.holds("ir_limited", side):
            continue
        lim = ("ir_limited", side)
        # influence_pelvic_position_for_pelvic_chain [int.]
        for option, state in enumerate(PELVIC_CHAIN):
            if d.holds(state, side):
                d.call("influence_pelvic_position", side, rule="influence_pelvic_position_for_pelvic_chain",
                       evidence=INT, premises=[(state, side), lim], option=option)
        # influence_pelvic_position_for_pelvic_position [coach.]: pelvic position observed, IR measured low
        low, bl = c.below("supine_hip_ir", side)
        if low:
            for option, fid in enumerate(("pelvis_forward", "pelvis_turned_away")):
                if c.observed(fid, side):
                    d.call("influence_pelvic_position", side, rule="influence_pelvic_position_for_pelvic_position",
                           evidence=COACH, premises=[lim], borderline=bl, compares=True, option=option)
        # integrate_foot_and_ribcage_for_compensations [int.]
        for option, fid in enumerate(RIBCAGE_KNEE_FOOT):
            if c.observed(fid, side):
                d.call("integrate_foot_and_ribcage", side, rule="integrate_foot_and_ribcage_for_compensations",
                       evidence=INT, premises=[lim], option=option)
        # open_posterior_pelvis_and_hip / avoid_stretching_in_isolation: back of hip [coach.], sacrum [int.]
        for rec in ("open_posterior_pelvis_and_hip", "avoid_stretching_in_isolation"):
            for option, state in enumerate(BACK_OF_HIP):
                if d.holds(state, side):
                    d.call(rec, side, rule=f"{rec}_for_back_of_hip", evidence=COACH, premises=[(state, side), lim],
                           option=option)
            if d.holds("sacrum_not_nutating", side):
                d.call(rec, side, rule=f"{rec}_for_sacrum", evidence=INT,
                       premises=[("sacrum_not_nutating", side), lim])
        # shift_centre_of_gravity [coach.], start_on_ground [coach.]: any programme
        d.call("shift_centre_of_gravity", side, rule="shift_centre_of_gravity_for_programme", evidence=COACH,
               premises=[lim])
        d.call("start_on_ground", side, rule="start_on_ground_for_programme", evidence=COACH, premises=[lim])
        # the three exercises [int.]; the step-up withheld with a pinch in flexion + IR (D rule 8)
        d.call("arm_bar", side, rule="arm_bar_for_programme", evidence=INT, premises=[lim])
        d.call("front_foot_elevated_split_squat", side, rule="front_foot_elevated_split_squat_for_programme",
               evidence=INT, premises=[lim])
        no_pinch, a = c.not_observed("pinch_in_flexion_ir", side)
        if no_pinch:
            d.call("cable_crossover_step_up", side, rule="cable_crossover_step_up_for_programme", evidence=INT,
                   premises=[lim], assumptions=a)
        # hold_loaded_ir_with_pinch [int.]: pinch_in_flexion_ir; ir_limited
        if c.observed("pinch_in_flexion_ir", side):
            d.call("hold_loaded_ir_with_pinch", side, rule="hold_loaded_ir_with_pinch_for_programme", evidence=INT,
                   premises=[lim])
        # retest_after_programme [int.] (a retest: never skipped)
        d.call("retest_after_programme", side, rule="retest_after_programme_for_programme", evidence=INT,
               premises=[lim])


def rule_8_pinch_calls(d: _Derivation, c: _Case):
    """D rule 8: either pinch -> refer_for_fai_evaluation [norm] and
    influence_pelvic_position [coach.], whatever IR shows (not the programme)."""
    for side in SIDES:
        for option, state in enumerate(FAI):
            if d.holds(state, side):
                d.call("refer_for_fai_evaluation", side, rule="refer_for_fai_evaluation_for_pinch", evidence=NORM,
                       premises=[(state, side)], option=option)
                d.call("influence_pelvic_position", side, rule="influence_pelvic_position_for_fai", evidence=COACH,
                       premises=[(state, side)], option=option)


def rule_7_assessments(d: _Derivation, c: _Case):
    """D rules 3 and 7, R "Recommendations": the assessments.  Each carries
    its implicit {unassessed: R} (applied in `call`).  Runs in the no-side
    context too: ir_limitation_suspected can hold with no side."""
    for side in (*SIDES, None):
        limited = d.holds("ir_limited", side)  # never with no side
        suspected = d.holds("ir_limitation_suspected", side)
        # retest_supine_ir_for_confounded_test [int.]
        if d.holds("ir_test_confounded_by_pelvis", side):
            d.call("retest_supine_ir_pelvis_neutral", side, rule="retest_supine_ir_for_confounded_test", evidence=INT,
                   premises=[("ir_test_confounded_by_pelvis", side)])
        # record_pelvic_position_for_capsule_reading [int.]: posterior_capsule_closed; supine_hip_ir below
        # threshold; any of pelvis_forward absent, pelvis_turned_away absent
        low, bl = c.below("supine_hip_ir", side)
        if d.holds("posterior_capsule_closed", side) and low:
            for option, fid in enumerate(("pelvis_forward", "pelvis_turned_away")):
                if c.absent(fid, side):
                    d.call("record_pelvic_position", side, rule="record_pelvic_position_for_capsule_reading",
                           evidence=INT, premises=[("posterior_capsule_closed", side)], borderline=bl,
                           compares=True, option=option)
        # check_pinch_in_flexion_ir_for_programme [int.]: ir_limited
        if limited:
            d.call("check_pinch_in_flexion_ir", side, rule="check_pinch_in_flexion_ir_for_programme", evidence=INT,
                   premises=[("ir_limited", side)])
        if suspected:
            # assess_supine_hip_ir / assess_straight_leg_raise for the suspicion [coach.]
            d.call("assess_supine_hip_ir", side, rule="assess_supine_hip_ir_for_suspected_limitation", evidence=COACH,
                   premises=[("ir_limitation_suspected", side)])
            d.call("assess_straight_leg_raise", side, rule="assess_straight_leg_raise_for_suspected_limitation",
                   evidence=COACH, premises=[("ir_limitation_suspected", side)])
        if limited:
            # assess_supine_hip_ir_for_predicted_limitation [int.]; assess_straight_leg_raise_for_limitation [coach.]
            d.call("assess_supine_hip_ir", side, rule="assess_supine_hip_ir_for_predicted_limitation", evidence=INT,
                   premises=[("ir_limited", side)])
            d.call("assess_straight_leg_raise", side, rule="assess_straight_leg_raise_for_limitation",
                   evidence=COACH, premises=[("ir_limited", side)])
        # assess_squat / assess_toe_touch / assess_foot_presentation [coach.]: any of ir_limited, ir_limitation_suspected
        for rec in ("assess_squat", "assess_toe_touch", "assess_foot_presentation"):
            for option, (state, present) in enumerate((("ir_limited", limited), ("ir_limitation_suspected", suspected))):
                if present:
                    d.call(rec, side, rule=f"{rec}_for_ir_limitation", evidence=COACH, premises=[(state, side)],
                           option=option)


STATE_RULE_GROUPS = (rule_1_measurements, rule_2_3_supine_test, rule_4_straight_leg_raise, rule_5_causal_model,
                     rule_7_compensations, rule_8_pinch)
RECOMMENDATION_GROUPS = (rule_6_programme, rule_8_pinch_calls, rule_7_assessments)


# ---------------------------------------------------------------------------
# Resolution: support, strongest justification, opposites
# ---------------------------------------------------------------------------

def _weakest_link(rule_evidence: str, premise_evidence: Iterable[str]) -> str:
    """R "Evidence": the weakest of the rule's level and its premises'; on a
    tie the rule's own label is kept."""
    result = rule_evidence
    for ev in premise_evidence:
        if EVIDENCE_RANK[ev] < EVIDENCE_RANK[result]:
            result = ev
    return result


def _stages(d: _Derivation, excluded: frozenset) -> dict:
    """R "Support": stage 0 for given states (and entered findings); a firing's
    conclusion one stage after the last of its state premises; the least such.
    Dropped (excluded) states establish nothing."""
    stage = {fact: 0 for fact in d.given if fact not in excluded}
    changed = True
    while changed:
        changed = False
        for j in d.justs.values():
            if j.kind != "state" or (j.id, j.side) in excluded:
                continue
            if any(p not in stage for p in j.premises):
                continue
            s = 1 + max((stage[p] for p in j.premises), default=0)
            if s < stage.get((j.id, j.side), 1 << 30):
                stage[(j.id, j.side)] = s
                changed = True
    return stage


def _derivable(d: _Derivation, excluded: frozenset, banned=None) -> set:
    """Every state that can be established from the entries and given states
    (minus `excluded`) through the fired rules, never using `banned`."""
    facts = {fact for fact in d.given if fact not in excluded and fact != banned}
    changed = True
    while changed:
        changed = False
        for j in d.justs.values():
            concl = (j.id, j.side)
            if j.kind != "state" or concl in excluded or concl == banned or concl in facts:
                continue
            if all(p in facts for p in j.premises):
                facts.add(concl)
                changed = True
    return facts


def _well_founded(d: _Derivation, excluded: frozenset = frozenset()) -> list:
    """R "Support": keep a justification when each of its premises can be
    established without the conclusion it justifies (a naive fixpoint per
    conclusion: slow, and obviously what the words say)."""
    established = _derivable(d, excluded)
    without: dict = {}
    kept = []
    for j in d.justs.values():
        if any(p not in established for p in j.premises):
            continue  # rests on something dropped or withdrawn
        if j.kind == "rec":
            kept.append(j)  # recommendations are never premises: never in a cycle
            continue
        concl = (j.id, j.side)
        if concl not in established:
            continue
        if concl not in without:
            without[concl] = _derivable(d, excluded, banned=concl)
        if all(p in without[concl] for p in j.premises):
            kept.append(j)
    return kept


def _settling_order(d: _Derivation, kept: list, excluded: frozenset) -> list:
    """R "Support": the order in which items are settled.  An item comes
    after every item outside its cycle that it rests on; inside a cycle
    (a strongly connected group of the kept support), in stage order, then
    by id and side."""
    stage = _stages(d, excluded)
    premises: dict = {}
    for j in kept:
        premises.setdefault(j.target, set()).update(("state",) + p for p in j.premises)
    items = set(premises) | {("state",) + g for g in d.given if g not in excluded}

    def ancestors(item):
        seen, todo = set(), [item]
        while todo:
            for p in premises.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    up = {item: ancestors(item) for item in items}
    side_rank = {"left": 0, "right": 1, None: 2}

    def key(item):
        kind, item_id, side = item
        return (stage.get((item_id, side), 1 << 30) if kind == "state" else 1 << 30, item_id, side_rank[side])

    order, done = [], set()
    while len(done) < len(items):
        # an item is ready when everything it rests on outside its own cycle is settled
        ready = [i for i in items - done if all(a in done or i in up.get(a, ()) for a in up[i])]
        nxt = min(ready, key=key)
        order.append(nxt)
        done.add(nxt)
    return order


@dataclass(frozen=True)
class _Value:
    status: str
    evidence: str
    assumptions: frozenset
    borderline: frozenset
    steps: int
    rule: str
    decl: tuple


def _choose(candidates):
    """Strongest justification: status, then evidence, then fewer assumptions,
    then declaration order (R "Statuses")."""
    return min(candidates, key=lambda v: (-STATUS_RANK[v.status], -EVIDENCE_RANK[v.evidence],
                                          len(v.assumptions), v.decl))


class _Evaluation:
    """Values of every item given the kept justifications and a set of
    excluded (dropped) states, settled in R's order: each item's strongest
    justification is chosen among those whose premises were settled first."""

    def __init__(self, d: _Derivation, kept: list, excluded: frozenset = frozenset()):
        self.given = d.given
        self.by_target: dict = {}
        for j in kept:
            self.by_target.setdefault(j.target, []).append(j)
        self.excluded = excluded
        self.values: dict = {}
        self.stage = _stages(d, excluded)
        for target in _settling_order(d, kept, excluded):
            value = self._compute(target)
            if value is not None:
                self.values[target] = value

    def value(self, target):
        """The item's value, or None when nothing supports it."""
        return self.values.get(target)

    def state(self, sid, side):
        return self.value(("state", sid, side))

    def _compute(self, target):
        kind, item_id, side = target
        if kind == "state" and (item_id, side) in self.excluded:
            return None
        candidates = []
        if kind == "state" and (item_id, side) in self.given:
            # A given state: status given, evidence assessor, stage 0 (R "Statuses", "Evidence").
            candidates.append(_Value("given", ASSESSOR, frozenset(), frozenset(), 0, "given", (-1, 0)))
        for j in self.by_target.get(target, ()):
            premises = [self.state(*p) for p in j.premises]
            if any(p is None for p in premises):
                continue  # a premise not settled yet (inside a cycle): not a candidate
            if kind == "state":
                status = j.status
            elif premises:
                # R "Statuses": a recommendation's justification takes the weakest status among its state premises
                status = min((p.status for p in premises), key=STATUS_RANK.__getitem__)
            else:
                status = "measured" if j.compares else "given"
            evidence = _weakest_link(j.evidence, [p.evidence for p in premises])
            assumptions = j.assumptions.union(*(p.assumptions for p in premises))
            borderline = j.borderline.union(*(p.borderline for p in premises))
            steps = 1 + max((p.steps for p in premises), default=0)
            candidates.append(_Value(status, evidence, assumptions, borderline, steps, j.rule, j.decl))
        return _choose(candidates) if candidates else None

    def standing(self):
        """{target: value} of every item that stands."""
        return dict(self.values)


def _resolve(va: _Value, vb: _Value, a: str, b: str):
    """R "Support, cycles and opposites": the stronger status stays; on equal
    status the one nearer a measurement (fewer rule steps from the entries
    along its strongest justification); when that ties too, both go."""
    ka, kb = STATUS_RANK[va.status], STATUS_RANK[vb.status]
    if ka == kb:
        ka, kb = -va.steps, -vb.steps
    if ka > kb:
        return a, frozenset({b})
    if kb > ka:
        return b, frozenset({a})
    return None, frozenset({a, b})


def spec_assess(findings: dict, *, thresholds: dict | None = None, mdc: dict | None = None,
                given: dict | None = None) -> SpecResult:
    """Assess a case the way DESIGN.md and docs/reasoning.md say the engine must.

    `findings`: {finding_id: {"left": v, "right": v}} for sided findings
    (a missing side or None = not recorded), {finding_id: bool|None} for
    rib_cage_side_bend and lumbar_arch.  `given`: {state_id: [side, ...]}."""
    t = dict(DEFAULT_THRESHOLDS, **(thresholds or {}))
    m = dict(DEFAULT_MDC, **(mdc or {}))
    case = _Case(findings, t, m)
    d = _Derivation(case, given or {})

    # 1. Forward chaining to the fixpoint (the rules only read states positively).
    while True:
        before = len(d.justs)
        for group in STATE_RULE_GROUPS:
            group(d, case)
        if len(d.justs) == before:
            break
    for group in RECOMMENDATION_GROUPS:
        group(d, case)

    # 2.-4. Well-founded support, strongest justifications, then opposites:
    # resolve the conflicts that stand, upstream first, withdraw what rested
    # only on a dropped state, and look again.
    excluded = frozenset()
    kept = _well_founded(d)
    evaluation = _Evaluation(d, kept)
    first = evaluation.standing()
    disagreements, withdrawn = [], {}
    while True:
        # R "Support, cycles and opposites": one conflict at a time, the most
        # upstream first (its later state established earliest); then again.
        stage = evaluation.stage
        conflicts = [(max(stage[(a, side)], stage[(b, side)]), min(stage[(a, side)], stage[(b, side)]), side, a, b)
                     for side in (*SIDES, None) for a, b in OPPOSITES
                     if evaluation.state(a, side) is not None and evaluation.state(b, side) is not None]
        if not conflicts:
            break
        *_, side, a, b = min(conflicts, key=lambda c: (c[0], c[1], {"left": 0, "right": 1, None: 2}[c[2]], c[3]))
        kept_id, dropped = _resolve(evaluation.state(a, side), evaluation.state(b, side), a, b)
        disagreements.append((side, kept_id, dropped))
        excluded = excluded | {(x, side) for x in dropped}
        kept = _well_founded(d, excluded)
        evaluation = _Evaluation(d, kept, excluded)
    standing = evaluation.standing()
    gone = {(k[1], k[2]) for k in first if k not in standing}
    for side, kept_id, dropped in disagreements:
        withdrawn[(side, kept_id, dropped)] = frozenset(gone - {(x, side) for x in dropped})


    # 5. Build the result.
    conclusions, recommendations = {}, {}
    for (kind, item_id, side), v in standing.items():
        if kind == "state":
            conclusions[(item_id, side)] = SpecItem(item_id, side, v.status, v.evidence, v.assumptions, v.borderline,
                                                    v.rule, v.steps)

    def holds_state(sid, side):
        return ("state", sid, side) in standing

    for (kind, item_id, side), v in standing.items():
        if kind != "rec":
            continue
        order = None
        addresses = frozenset()
        if KIND[item_id] == "exercise":
            present = [e for e in EXERCISE_PROGRESSION if ("rec", e, side) in standing]
            order = present.index(item_id) + 1
            addressed = set()
            for target, target_kind in ADDRESSES.get(item_id, ()):
                if target_kind == "state" and holds_state(target, side):
                    addressed.add((target, side))
                elif target_kind == "finding" and case.observed(target, side):
                    addressed.add((target, side))
            addresses = frozenset(addressed)
        recommendations[(item_id, side)] = SpecItem(item_id, side, v.status, v.evidence, v.assumptions, v.borderline,
                                                    v.rule, v.steps, order, addresses)

    support = {}
    for j in kept:
        if j.kind == "state":
            support.setdefault((j.id, j.side), []).append(j.rule)
    support = {k: tuple(v) for k, v in support.items()}

    return SpecResult(conclusions, recommendations, disagreements, withdrawn, support)
