-- Runs once, when the postgres service initialises an empty pgdata volume: MLflow's tracking store gets
-- its own database beside the application's (POSTGRES_DB). On an older volume run it by hand:
--   docker compose exec postgres psql -U goldsite -d goldsite -c 'CREATE DATABASE mlflow'
CREATE DATABASE mlflow;
