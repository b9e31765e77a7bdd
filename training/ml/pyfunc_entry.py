"""MLflow "models from code" entry point, copied into every registered version and run when it is loaded."""

import mlflow.models

from training.ml.bundle import GoldForecastModel

mlflow.models.set_model(GoldForecastModel())
