"""Training: state, optimizer, schedules, pure steps and the loop."""

from tljax.train.optim import make_optimizer
from tljax.train.state import Batch, Metrics, Params, TrainState, create_train_state
from tljax.train.steps import StepHParams, confusion_summary, eval_step, make_train_step, train_step

__all__ = [
  "Batch",
  "Metrics",
  "Params",
  "TrainState",
  "create_train_state",
  "make_optimizer",
  "StepHParams",
  "confusion_summary",
  "eval_step",
  "make_train_step",
  "train_step",
]
