"""The MLflow pyfunc wrapper of a Forecaster: one registered model version holds everything to predict.

Logged as "models from code" (`pyfunc_entry.py`), so nothing is pickled: a version's artifacts are the
forecaster bundle (JSON + `.keras`) and the entry file, which imports this module from the project.
"""

from dataclasses import asdict

import mlflow.pyfunc
import pandas as pd

from training.ml.features import as_closes
from training.ml.forecaster import Forecaster

FORECASTER_ARTIFACT = "forecaster"


class GoldForecastModel(mlflow.pyfunc.PythonModel):
    """`load_context` reads the Forecaster bundle from the version's artifacts."""

    forecaster: Forecaster | None = None

    def load_context(self, context) -> None:
        self.forecaster = Forecaster.load(context.artifacts[FORECASTER_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Closes (DatetimeIndex or `date` column, `gold`, `spx`) -> one row of PointForecast fields."""
        forecast = self.forecaster.forecast(as_closes(pd.DataFrame(model_input)))
        return pd.DataFrame([asdict(forecast)])
