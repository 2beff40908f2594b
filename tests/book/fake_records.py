"""Hand-built records shaped like ``Evaluation.score``'s (as ``store.cached_record`` returns them), for the
book-layer tests: only the fields the tables and claims read, with F1 values chosen so the answers can be
worked out by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def record(dataset: str, original: Sequence[float], method: str = "m", *, seeds: Sequence[int] | None = None,
           perturbed: Mapping[str, Sequence[float]] | None = None, validation: Sequence[float] | None = None,
           stage: str = "table2") -> dict:
    """A record of ``method`` on ``dataset``: test macro-F1 ``original[i]`` (and ``perturbed[p][i]``) for seed i,
    and the chosen probe's validation macro-F1 ``validation[i]`` (default: the test F1 on the original windows)."""
    seeds = list(seeds if seeds is not None else range(len(original)))
    validation = list(validation if validation is not None else original)
    per_seed = [{"seed": s, "lr": 1e-3, "weight_decay": 0.0, "validation_f1": v,
                 "test_f1": {"original": f, **{p: values[i] for p, values in (perturbed or {}).items()}}}
                for i, (s, f, v) in enumerate(zip(seeds, original, validation))]
    return {"stage": stage, "name": f"{method}-{dataset}", "method": method, "dataset": dataset, "per_seed": per_seed,
            "key": f"{method}-{dataset}-{stage}-{'-'.join(f'{f:g}' for f in original)}"}
