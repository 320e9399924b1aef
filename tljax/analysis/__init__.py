"""After-training analysis: domain discrepancy and transfer reports."""
