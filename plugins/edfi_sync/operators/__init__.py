"""Operators of the sync DAGs (light to import: the engine loads when a task runs)."""

from .sync import EdFiDeleteOperator, EdFiPostOperator, EdFiStepOperator, EdFiUpdateOperator

__all__ = ["EdFiDeleteOperator", "EdFiPostOperator", "EdFiStepOperator", "EdFiUpdateOperator"]
