"""Hand-built records shaped like ``Evaluation.score``'s (as ``store.cached_record`` returns them), for the
book-layer tests: only the fields the tables and claims read, with F1 values chosen so the answers can be
worked out by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def record(dataset: str, original: Sequence[float], method: str = "m", *, seeds: Sequence[int] | None = None,
           perturbed: Mapping[str, Sequence[float]] | None = None, stage: str = "table2") -> dict:
    """A record of ``method`` on ``dataset``: test macro-F1 ``original[i]`` (and ``perturbed[p][i]``) for seed i."""
    seeds = list(seeds if seeds is not None else range(len(original)))
    per_seed = [{"seed": s, "lr": 1e-3, "weight_decay": 0.0, "validation_f1": f,
                 "test_f1": {"original": f, **{p: v[i] for p, v in (perturbed or {}).items()}}}
                for i, (s, f) in enumerate(zip(seeds, original))]
    return {"stage": stage, "name": f"{method}-{dataset}", "method": method, "dataset": dataset, "per_seed": per_seed,
            "key": f"{method}-{dataset}-{stage}-{'-'.join(f'{f:g}' for f in original)}"}
