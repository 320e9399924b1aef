"""DANN health: warns when the domain classifier collapses.

A working DANN keeps its domain classifier between chance and perfect. Two
failure modes show as accuracy pinned for several log windows in a row:

  ~0.5: the classifier learns nothing (λ or the learning rate too large for
        it, or features already identical: adaptation has nothing to do);
  ~1.0: it separates the domains perfectly, the features stay apart and the
        reversed gradient is not aligning them (λ too small, or it is too strong).
"""

import dataclasses


@dataclasses.dataclass
class CollapseMonitor:
  """Feed it the domain accuracies of each log window; it returns warnings."""

  method: str = "dann"  # Named in the advice: config.method.<method>.trade_off etc.
  windows: int = 3  # How many log windows in a row count as "pinned".
  chance_band: float = 0.03  # |acc - 0.5| below this is chance.
  perfect: float = 0.98  # acc above this is perfect separation.
  _chance_run: int = 0
  _perfect_run: int = 0

  def state(self) -> dict:
    """What a resumed run needs to continue counting pinned windows."""
    return {"_chance_run": self._chance_run, "_perfect_run": self._perfect_run}

  def update(self, step: int, dacc_s: float, dacc_t: float) -> str | None:
    """A warning the first time a run of `windows` pinned windows completes."""
    accuracies = (dacc_s, dacc_t)
    at_chance = all(abs(a - 0.5) < self.chance_band for a in accuracies)
    at_perfect = all(a > self.perfect for a in accuracies)
    self._chance_run = self._chance_run + 1 if at_chance else 0
    self._perfect_run = self._perfect_run + 1 if at_perfect else 0
    if self._chance_run == self.windows:
      return (
        f"domain classifier at chance (dacc_s {dacc_s:.3f}, dacc_t {dacc_t:.3f}) for "
        f"{self.windows} log windows up to step {step}: it has collapsed; try a smaller "
        f"config.method.{self.method}.grl_max or .trade_off, or a wider "
        "config.model.discriminator_hidden"
      )
    if self._perfect_run == self.windows:
      return (
        f"domain classifier separates the domains perfectly (dacc_s {dacc_s:.3f}, dacc_t "
        f"{dacc_t:.3f}) for {self.windows} log windows up to step {step}: features are not "
        f"being aligned; check config.method.{self.method}.trade_off / .grl_max"
      )
    return None
