"""Reports for stakeholders: one set of figures and words, written as HTML, PDF, XLSX, Markdown, JSON
and CSV. The dashboard draws the same figures."""

FORMATS = ("html", "pdf", "xlsx", "md", "json", "csv")
