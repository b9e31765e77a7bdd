"""Reading the MLflow registry in tests, where the service itself never needs to."""


def alias_version(name: str, alias: str, *, tracking_uri: str) -> int | None:
    """The version `alias` of registered model `name` points at, None when there is none."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        return int(MlflowClient(tracking_uri).get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None
