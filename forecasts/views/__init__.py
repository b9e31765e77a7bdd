"""Server-rendered pages of the forecasts app, one module per area (`account`, and the data pages to come)."""
