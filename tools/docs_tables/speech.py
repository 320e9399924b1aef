"""Speech: the spoken-digits builds, the proxy A-distances and the default command's time."""

from tools.docs_tables.common import (
  SPEECH_PAIRS,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
)


def speech_pads() -> str:
  """The speech pairs' proxy A-distance in the input (log-mel statistics) and in the features."""
  rows = []
  for pair in SPEECH_PAIRS:
    by = by_method(find_runs("speech", pair))
    for name in ("source_only", "dann"):
      runs = by[name]
      pad = [runs[s]["proxy_a_distance"] for s in sorted(runs)]
      rows.append(
        [pair.replace("_to_", " → "), name, mean_std([p["inputs"] for p in pad]),
         mean_std([p["features"] for p in pad])]
      )  # fmt: skip
  header = ["pair", "method", "PAD in the input (mel-band statistics)", "PAD in the features"]
  return markdown_table(header, rows)


def speech_build() -> str:
  """tools.prepare_datasets' timed first build of the three spoken-digit domains."""
  data = load_json("speech", "build.json")
  rows = [
    [
      f"`{name}`",
      f"{b['examples']['train']:,}",
      f"{b['examples']['test']:,}",
      f"{b['seconds']:.0f}",
    ]
    for name, b in data["builds"].items()
  ]
  return (
    markdown_table(["dataset", "train", "test", "build s"], rows)
    + f"\n\nOn {data['cpu_count']} CPU cores: `{data['command']}`."
  )


def speech_default_time() -> str:
  """The default speech command timed end to end (default_run_time.json)."""
  data = load_json("speech", "default_run_time.json")
  return (
    f"`{data['command']}` took **{data['process_wall_seconds']:.0f} s** end to end on "
    f"{data['cpu_count']} idle CPU cores, the datasets already prepared "
    f"({data['user_seconds']:.0f} s user, {data['system_seconds']:.0f} s system CPU; the run's "
    "own `wall_seconds` "
    f"{data['results_json_wall_seconds']:.0f} s), commit `{data['commit']}`: DANN seed 0's run "
    f"in the table above, target test accuracy {data['target_test_accuracy']:.3f}."
  )
