"""Presentation both apps share: number formatting (`formatting`) and the Plotly figure builders (`charts`).

Plain functions of plain values: no models, no requests. The template filters (`goldsite_format`) and the
Python that formats for pages, the admin, the CLI and the API's sentences all call `formatting`.
"""
