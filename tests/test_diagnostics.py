from tljax.train.diagnostics import CollapseMonitor


def _feed(monitor, pairs):
  return [monitor.update(step, s, t) for step, (s, t) in enumerate(pairs)]


def test_warns_once_after_three_windows_at_chance():
  warnings = _feed(CollapseMonitor(), [(0.5, 0.51)] * 5)
  assert warnings[:2] == [None, None] and warnings[3:] == [None, None]
  assert "at chance" in warnings[2] and "step 2" in warnings[2]


def test_warns_after_three_windows_of_perfect_separation():
  warnings = _feed(CollapseMonitor(), [(0.99, 0.995)] * 3)
  assert "separates the domains perfectly" in warnings[2]


def test_healthy_or_interrupted_runs_do_not_warn():
  healthy = [(0.8, 0.7), (0.6, 0.65), (0.75, 0.7), (0.7, 0.6)]
  assert _feed(CollapseMonitor(), healthy) == [None] * 4
  # Two pinned windows, one healthy, two pinned: never three in a row.
  broken = [(0.5, 0.5), (0.5, 0.5), (0.7, 0.6), (0.5, 0.5), (0.5, 0.5)]
  assert _feed(CollapseMonitor(), broken) == [None] * 5
  # One domain at chance, the other not: not a collapse.
  assert _feed(CollapseMonitor(), [(0.5, 0.9)] * 4) == [None] * 4
