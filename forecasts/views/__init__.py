"""Server-rendered pages of the forecasts app, one module per area: `account`, `dashboard`; `charts` builds
the Plotly figures they (and the training pages) hand to the browser."""
