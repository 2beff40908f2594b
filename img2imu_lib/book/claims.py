"""The paper's claims, checked against the evaluation chapter's records: a few primary claims declared before
the numbers and corrected for multiple comparisons, and the rest as exploratory comparisons.

``PRIMARY`` states the primary claims (Sections V-A and VI-A) and how each is tested; ``PROTOCOL`` the
statistics. Every comparison is paired over the (dataset, seed) runs both sides have, tested by
``evaluation.claims`` (one-sided Wilcoxon signed-rank, a seeded 95 % bootstrap interval of the mean
difference, Cohen's d_z); a claim over several comparisons is their intersection-union test. The primary
family is Holm-corrected; the secondary claims (Table II's pairs, Table I, Fig. 7, the FFT length, the fully
supervised bounds: Sections V-A, V-B, VI-A and VI-C) are not, and say so in their verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..evaluation.claims import ALPHA, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, Paired, all_of, by_pair, holm, paired
from ..pretraining.methods import METHODS, SENSOR_METHODS
from .paper import ABLATIONS, PROTECTS, SENSOR_ROWS

# the sensor-pretrained rows, in Table II's order: the method table's sensor methods
SENSOR_BASELINES = tuple(row for row in SENSOR_ROWS if row in {METHODS[m].row for m in SENSOR_METHODS})

CONDITIONAL = " (conditional on one pre-training seed)"  # added to a primary verdict from one pre-training run
EXPLORATORY = " (exploratory)"  # added to a secondary verdict: no correction for multiple comparisons
VERDICTS = ("confirmed", "not confirmed", "not testable here", "not testable at this budget")  # before any suffix
MISSING = "—"

_PAIRS = ", ".join(f"{a} → {p}" for a, p in PROTECTS.items())
# the primary claims, declared before the numbers; {ours} and {default} are the rows the caller names
PRIMARY = (
    {"id": "C1", "claim": "Pre-training on images with the sensor-aware augmentations beats every sensor-pretrained "
                          "baseline on average (Section V-A, Table II)",
     "test": "intersection-union: a one-sided Wilcoxon test of {ours} minus each baseline, paired over (dataset, "
             "seed); the claim's p is the largest of the four",
     "rows": "{ours} vs each of " + ", ".join(SENSOR_BASELINES)},
    {"id": "C2", "claim": "The sensor-aware augmentations beat MoCo's default ones, from the same starting weights "
                          "(Section V-A, Table II)",
     "test": "a one-sided Wilcoxon test of {ours} minus {default}, paired over (dataset, seed)",
     "rows": "{ours} vs {default}"},
    {"id": "C5", "claim": "Each augmentation protects most against the perturbation it imitates: the model without it "
                          f"loses the largest share of its F1 on that perturbation ({_PAIRS}; Section VI-A, Table I)",
     "test": "for each of the four pairs, the relative drop (F1 original - F1 perturbed) / F1 original of the model "
             "without the augmentation minus that of each of the other three ablations, one-sided Wilcoxon paired "
             "over (dataset, seed); the four pairs are ONE claim, the intersection-union of the 12 comparisons "
             "(p = the largest), and count once in the Holm family",
     "rows": "Table I's rows " + ", ".join(f"without {a}" for a in ABLATIONS) + ", on every dataset Table I ran"},
)
PROTOCOL = (f"The primary family is {', '.join(c['id'] for c in PRIMARY)}, Holm-Bonferroni corrected at alpha "
            f"{ALPHA}; a primary claim that cannot be tested here counts as p = 1 in it, so leaving it out never makes "
            "another easier to confirm. A claim over several comparisons holds only if each holds "
            "(intersection-union): its p is the largest of theirs, and its row shows that binding comparison. "
            f"\"confirmed\": Holm p < {ALPHA} and every compared mean difference > 0. Intervals: 95 % bootstrap of the "
            f"mean paired difference (BCa, {BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}); effect size: "
            "Cohen's d_z = mean / sd of the paired differences. The secondary claims are exploratory: the same "
            "statistics, no correction.")
_CI_NOTES = {"percentile": "percentile interval: BCa needs 3 or more pairs",
             "point": "the interval is the point: every paired difference is equal"}

Scores = Mapping[tuple, float]  # {(dataset, seed): value}
Records = Mapping[str, Mapping[str, dict]]  # {Table II row: {dataset: record}}
Table1 = Mapping[str, Mapping[str, dict]]  # {dataset: {TABLE1_ROWS label: record}}
Outcome = dict[str, Paired] | str  # each comparison of a claim by label, or why none could be made here


def declared_claims(*, ours: str, default: str) -> list[dict[str, str]]:
    """``PRIMARY`` with the rows filled in: what the chapter prints before it computes anything."""
    return [{k: v.format(ours=ours, default=default) for k, v in c.items()} for c in PRIMARY]


def scores(results: Records, row: str | None, test: str = "original") -> dict[tuple, float]:
    """{(dataset, seed): test macro-F1 on ``test``} of one Table II row (empty when it was not run)."""
    return by_pair(list(results.get(row, {}).values()), test)


def relative_change(record: dict, dataset: str, perturbation: str) -> dict[tuple, float]:
    """{(dataset, seed): (F1 on ``perturbation`` - F1 on the original windows) / F1 on the original} of one record."""
    if any(perturbation not in r["test_f1"] for r in record["per_seed"]):
        raise ValueError(f"record {record.get('name')!r} was not tested on {perturbation!r}")
    return {(dataset, r["seed"]): (r["test_f1"][perturbation] - r["test_f1"]["original"]) / r["test_f1"]["original"]
            for r in record["per_seed"]}


def relative_drop(table1: Table1, label: str, perturbation: str) -> dict[tuple, float]:
    """{(dataset, seed): share of the F1 on the original windows lost on ``perturbation``} of Table I's row
    ``label`` on every dataset that has it (positive: the model loses F1)."""
    return {k: -v for name, rows in table1.items() if label in rows
            for k, v in relative_change(rows[label], name, perturbation).items()}


def validation_mean(records: Mapping[str, dict]) -> float:
    """Mean over datasets of the mean over seeds of the chosen probe's validation macro-F1, {dataset: record}."""
    for record in records.values():
        if any("validation_f1" not in s for s in record["per_seed"]):
            raise ValueError(f"record {record.get('name')!r} has no validation_f1 per seed to choose on")
    return float(np.mean([np.mean([s["validation_f1"] for s in r["per_seed"]]) for r in records.values()]))


def best_sensor_baseline(results: Records) -> str | None:
    """The sensor-pretrained row with the highest ``validation_mean`` (never the test scores); None if none ran."""
    ran = [r for r in SENSOR_BASELINES if results.get(r)]
    return max(ran, key=lambda r: validation_mean(results[r])) if ran else None


def curve_lead(curve: Records, a: str, b: str, index: int) -> dict[tuple, float]:
    """{(dataset, seed): F1 of ``a`` - F1 of ``b``} at the ``index``-th shot count of Fig. 7's records."""
    ours = by_pair([records[index] for records in curve[a].values()])
    theirs = by_pair([records[index] for records in curve[b].values()])
    return {key: ours[key] - theirs[key] for key in ours if key in theirs}


def compare(comparisons: Mapping[str, tuple[Scores, Scores]], missing: str = "") -> Outcome:
    """{label: ``paired(a, b)``} of each (a, b) of ``comparisons``; instead, why not, when a side has no runs
    (``missing``, or the label) or the two share no (dataset, seed) run."""
    for label, (a, b) in comparisons.items():
        if not a or not b:
            return missing or f"{label}: a side has no runs on this machine"
        if not set(a) & set(b):
            return f"{label}: the two sides share no (dataset, seed) run"
    return {label: paired(a, b) for label, (a, b) in comparisons.items()}


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _dz(d: float) -> str:
    return MISSING if np.isnan(d) else (f"{d:+.2f}" if np.isfinite(d) else ("+inf" if d > 0 else "-inf"))


def _numbers(outcome: Outcome, compared: str) -> dict[str, str]:
    """The row's comparison and numbers: those of the binding comparison of a claim over several."""
    if isinstance(outcome, str):
        return {"rows compared": compared, **dict.fromkeys(("pairs (wins)", "mean difference", "95% CI", "d_z", "p"),
                                                           MISSING)}
    test, labels = all_of(list(outcome.values())), list(outcome)
    c = test.components[test.binding]
    return {"rows compared": compared + (f"; binding: {labels[test.binding]}" if len(labels) > 1 else ""),
            "pairs (wins)": f"{c.n} ({c.wins})", "mean difference": f"{c.mean_difference:+.3f}",
            "95% CI": f"[{c.ci_low:+.3f}, {c.ci_high:+.3f}]", "d_z": _dz(c.effect_size), "p": _p(test.p_value)}


def _note(outcome: Outcome, *notes: str) -> str:
    if isinstance(outcome, str):
        return "; ".join(n for n in (outcome, *notes) if n)
    test = all_of(list(outcome.values()))
    agree = sum(c.mean_difference > 0 for c in test.components)
    extra = [f"{agree} of {len(test.components)} comparisons in the claimed direction"] if len(outcome) > 1 else []
    return "; ".join(n for n in (*extra, _CI_NOTES.get(test.components[test.binding].ci_method, ""), *notes) if n)


def _c1(results: Records, ours: str) -> Outcome:
    absent = [row for row in (ours, *SENSOR_BASELINES) if not scores(results, row)]
    if absent:
        return f"no runs of {', '.join(absent)} on this machine"
    return compare({f"{ours} vs {b}": (scores(results, ours), scores(results, b)) for b in SENSOR_BASELINES})


def _c5(table1: Table1) -> Outcome:
    labels = [f"without {a}" for a in ABLATIONS]
    absent = [label for label in labels if not any(label in rows for rows in table1.values())]
    if absent:
        return f"Table I has no runs of {', '.join(absent)} on this machine"
    return compare({f"without {a} vs without {b} on {p}": (relative_drop(table1, f"without {a}", p),
                                                          relative_drop(table1, f"without {b}", p))
                    for a, p in PROTECTS.items() for b in ABLATIONS if b != a})


def primary_claims(results: Records, table1: Table1, *, ours: str, default: str,
                   untestable: Mapping[str, str] | None = None, pretraining_seeds: int = 1) -> list[dict[str, str]]:
    """The primary claims' table, one row per ``PRIMARY`` claim: id, claim, rows compared, pairs (wins), mean
    difference, 95 % CI, d_z, raw p, Holm p, verdict, note. ``results``: {Table II row: {dataset: record}};
    ``table1``: {dataset: {TABLE1_ROWS label: record}}; ``ours`` and ``default``: the rows that play IMG2IMU and
    MoCo-default; ``untestable``: {claim id: why its backbone cannot test it at this budget}; with
    ``pretraining_seeds`` = 1 a verdict is conditional on that one pre-training run."""
    untestable = dict(untestable or {})
    ids = [c["id"] for c in PRIMARY]
    if set(untestable) - set(ids):
        raise ValueError(f"untestable claims {sorted(set(untestable) - set(ids))}; expected ids among {ids}")
    if pretraining_seeds < 1:
        raise ValueError(f"pretraining_seeds={pretraining_seeds}; expected at least 1")
    outcomes = {"C1": _c1(results, ours), "C5": _c5(table1),
                "C2": compare({f"{ours} vs {default}": (scores(results, ours), scores(results, default))},
                              missing=f"no runs of {ours} or of {default} on this machine")}
    tested = {i: all_of(list(o.values())) for i, o in outcomes.items()
              if not isinstance(o, str) and i not in untestable}
    adjusted = dict(zip(ids, holm([tested[i].p_value if i in tested else 1.0 for i in ids])))
    suffix = CONDITIONAL if pretraining_seeds == 1 else ""
    rows = []
    for spec in declared_claims(ours=ours, default=default):
        i, outcome = spec["id"], outcomes[spec["id"]]
        row = {"id": i, "claim": spec["claim"], **_numbers(outcome, spec["rows"]), "Holm p": MISSING}
        if i in untestable:
            shown = "" if isinstance(outcome, str) else "the numbers are descriptive only, outside the Holm test"
            row.update(verdict="not testable at this budget", note="; ".join(n for n in (untestable[i], shown) if n))
        elif isinstance(outcome, str):
            row.update(verdict="not testable here", note=outcome)
        else:
            confirmed = adjusted[i] < ALPHA and tested[i].every_direction_agrees
            row.update({"Holm p": _p(adjusted[i]), "verdict": ("confirmed" if confirmed else "not confirmed") + suffix,
                        "note": _note(outcome)})
        rows.append(row)
    return rows


def _table2_claims(results: Records, images: str, supervised_images: str) -> list[tuple[str, str, Outcome]]:
    def versus(a: str, b: str, missing: str = "") -> tuple[str, Outcome]:
        absent = ", ".join(row for row in (a, b) if not scores(results, row))
        return f"{a} vs {b}", compare({f"{a} vs {b}": (scores(results, a), scores(results, b))},
                                      missing or f"no runs of {absent} on this machine")

    stand_in = (f"IMG2IMU beats supervised pre-training on the same images ({images})" if images == supervised_images
                else f"IMG2IMU (pre-trained on {images}) beats our supervised stand-in, trained with labels on a "
                     f"different corpus ({supervised_images}): the corpus changes with the method")
    claims = [(f"IMG2IMU beats the sensor-pretrained {b}", *versus("img2imu", b)) for b in SENSOR_BASELINES]
    return claims + [
        ("Sensor-aware augmentations beat MoCo's default ones", *versus("img2imu", "moco_default")),
        ("Adding every augmentation does not beat the sensor-aware four", *versus("img2imu", "moco_all_aug")),
        ("IMG2IMU beats SimSiam", *versus("img2imu", "simsiam")),
        ("IMG2IMU beats ImageNet-supervised pre-training", *versus(
            "img2imu", "imagenet_supervised", "torchvision's ImageNet weights are not in this machine's cache")),
        (stand_in, *versus("img2imu", "supervised_sample", "no labelled image sample on this machine")),
        ("A random 1D CNN beats a random 2D ResNet18", *versus("random_init_1d", "random_init_2d")),
        ("IMG2IMU's pre-training lifts the 2D model above its random initialisation",
         *versus("img2imu", "random_init_2d"))]


def _table1_claims(table1: Table1) -> list[tuple[str, str, Outcome]]:
    def change(label: str, p: str) -> dict[tuple, float]:
        return {k: -v for k, v in relative_drop(table1, label, p).items()}

    return [(f"{a} protects against {p.replace('_', ' ')} data: the model without it loses more F1",
             f"all four vs without {a} on {p}", compare({a: (change("all four", p), change(f"without {a}", p))},
                                                        missing="Table I was not run here"))
            for a, p in PROTECTS.items()]


def _nfft_claim(choice: Mapping[str, dict]) -> tuple[str, str, Outcome, str]:
    phone = "wisdm" if "wisdm" in choice else ("hapt" if "hapt" in choice else None)
    nfft_records = {s[0]: r for s, r in choice[phone]["records"].items()} if phone else {}
    claim = "nfft 128 beats nfft 32 on phone activity recognition"
    if 128 not in nfft_records or 32 not in nfft_records:
        return claim, "img2imu at nfft 128 vs 32", "no phone dataset, or the profile does not search both settings", ""
    return (f"{claim} ({phone})", "img2imu at nfft 128 vs 32",
            compare({"nfft": (by_pair([nfft_records[128]]), by_pair([nfft_records[32]]))}),
            "HAPT's 2 s windows have 100 samples, so nfft 128 zero-pads them" if phone == "hapt" else "")


def secondary_claims(results: Records, table1: Table1, choice: Mapping[str, dict], curve: Records, *,
                     curve_shots: Sequence[int], profile: str, images: str,
                     supervised_images: str) -> list[dict[str, str]]:
    """The exploratory claims' table (uncorrected p, verdicts marked "(exploratory)"): Table II's pairs on the
    ResNet18 rows, Table I's, the FFT length (``choice``: the spectrogram search by dataset), Fig. 7's (``curve``:
    records per k of ``curve_shots``; left out unless IMG2IMU's and the best sensor baseline's curves have two k
    or more) and the fully supervised bounds. ``images`` and ``supervised_images``: the corpora IMG2IMU and the
    supervised stand-in were pre-trained on (the claim's wording says whether they differ)."""
    claims = [(*c, "") for c in _table2_claims(results, images, supervised_images) + _table1_claims(table1)]
    claims.append(_nfft_claim(choice))
    best = best_sensor_baseline(results)
    if curve.get("img2imu") and best and curve.get(best) and len(curve_shots) > 1:
        few, many = curve_shots[0], curve_shots[-1]
        claims.append((f"IMG2IMU's F1 minus the best sensor baseline's ({best}, chosen on validation) is higher with "
                       f"k = {few} than with k = {many} (its advantage is largest when labels are scarcest)",
                       f"img2imu - {best} at k = {few} vs at k = {many}",
                       compare({"lead": (curve_lead(curve, "img2imu", best, 0),
                                         curve_lead(curve, "img2imu", best, len(curve_shots) - 1))}), ""))
    claims.append(("The fully supervised 1D model beats the best sensor baseline's ten shots",
                   f"fully_supervised_1d vs {best}", compare({"1d": (scores(results, "fully_supervised_1d"),
                                                                     scores(results, best))},
                   "the fully supervised 1D bound or the sensor baselines were not run"), ""))
    claims.append(("The fully supervised 2D model beats IMG2IMU's ten shots", "fully_supervised_2d vs img2imu",
                   compare({"2d": (scores(results, "fully_supervised_2d"), scores(results, "img2imu"))},
                           f"the {profile} profile does not train the 2D bound"), ""))
    rows = []
    for k, (claim, compared, outcome, note) in enumerate(claims, 1):
        verdict = ("not testable here" if isinstance(outcome, str) else
                   ("confirmed" if all_of(list(outcome.values())).confirmed else "not confirmed") + EXPLORATORY)
        rows.append({"id": f"S{k}", "claim": claim, **_numbers(outcome, compared), "verdict": verdict,
                     "note": _note(outcome, note)})
    return rows


def claims_summary(claims: Sequence[dict[str, str]]) -> str:
    """How many claims got each verdict (suffixes aside), then the confirmed and the not confirmed ones (plain text)."""
    verdicts = [c["verdict"].split(" (")[0] for c in claims]
    text = f"{len(claims)} claims: " + "; ".join(f"{v}: {verdicts.count(v)}" for v in VERDICTS)
    for verdict in VERDICTS[:2]:
        text += f"\n\n{verdict} here:\n" + "\n".join(f"  - {c['id']}: {c['claim']}" for c, v in zip(claims, verdicts)
                                                      if v == verdict)
    return text
