"""What the training app announces; other apps listen, so training never imports them (dependencies run one way).

- `model_version_registered(model_version, backtest, cv_forecasts)`: a candidate was registered and mirrored,
  with its walk-forward test and out-of-fold CV forecasts (rows of `training.ml.evaluation.backtest_rows`). Sent
  inside the transaction that mirrors it: a receiver that fails rolls the mirror back too.
"""

from django.dispatch import Signal

model_version_registered = Signal()
