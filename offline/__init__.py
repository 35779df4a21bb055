"""Batch side: lake export, ETL, training, evaluation, registry writes."""
