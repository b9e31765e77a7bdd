"""Read-only queries of the forecasts app; import from the submodules (`forecasts.selectors.prices`)."""
