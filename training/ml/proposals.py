"""Batched hyperopt TPE: a batch of configurations to fit in parallel, from finished trials only.

The "constant liar" rule: each proposal after the first of a batch sees the batch's earlier proposals as if they
had scored the mean loss so far, so a batch spreads out instead of proposing one point five times. The first
`startup` trials are random, as in `hyperopt.fmin`. Deterministic given the seed, the batch number and the
finished trials (their order included: callers pass them in trial order).
"""

import math
from typing import Any

import numpy as np


class BatchProposer:
    """Batched TPE over a method's hyperopt space; deterministic given the seed and the finished trials."""

    def __init__(self, kind: str, *, seed: int, startup: int) -> None:
        from hyperopt import Domain

        from training.ml.search import search_space

        self.space = search_space(kind)
        self.domain = Domain(lambda params: 0.0, self.space)
        self.seed = seed
        self.startup = startup

    def _trials(self, history: list[tuple[dict, float]]):
        from hyperopt import JOB_STATE_DONE, STATUS_OK, Trials

        trials = Trials()
        for tid, (vals, loss) in enumerate(history):
            misc = {
                "tid": tid,
                "cmd": self.domain.cmd,
                "workdir": self.domain.workdir,
                "idxs": {key: [tid] for key in vals},
                "vals": {key: [value] for key, value in vals.items()},
            }
            docs = trials.new_trial_docs([tid], [None], [{"status": STATUS_OK, "loss": loss}], [misc])
            docs[0]["state"] = JOB_STATE_DONE
            trials.insert_trial_docs(docs)
        trials.refresh()
        return trials

    def propose(self, history: list[tuple[dict, float]], n: int, *, batch: int) -> list[dict]:
        """`n` new points ("vals": choice indices and floats) after the finished `history` of (vals, loss)."""
        from hyperopt import rand, tpe

        history = [(vals, loss) for vals, loss in history if math.isfinite(loss)]
        liar = float(np.mean([loss for _, loss in history])) if history else 0.0
        proposed: list[dict] = []
        for i in range(n):
            trials = self._trials(history + [(vals, liar) for vals in proposed])
            tid = len(history) + len(proposed)
            seed = self.seed + 7919 * batch + i
            algo = rand.suggest if tid < self.startup else tpe.suggest
            kwargs = {} if algo is rand.suggest else {"n_startup_jobs": self.startup}
            doc = algo([tid], self.domain, trials, seed, **kwargs)[0]
            proposed.append({key: _plain(values[0]) for key, values in doc["misc"]["vals"].items() if values})
        return proposed

    def hyperparameters(self, vals: dict) -> dict[str, Any]:
        from hyperopt import space_eval

        return {key: _plain(value) for key, value in space_eval(self.space, vals).items()}


def _plain(value):
    """numpy scalars from hyperopt as JSON-ready Python numbers."""
    return value.item() if hasattr(value, "item") else value
