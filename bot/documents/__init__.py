"""What leaves Slack as a document: the filled-in sign-off in Markdown (markdown.py, with
its escaping in markup.py) and JSON (json_export.py), and the terminal's checklist report
(report.py)."""
