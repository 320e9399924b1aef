"""Performance: the CPU suite's step times against the peers, FLOP rates, several seeds."""

import numpy as np

from tools.docs_tables.common import load_json, markdown_table


def seeds_speedup(name: str = "bench_seeds_mnist_mnistm.json") -> str:
  """benchmarks.bench_seeds on the MNIST -> MNIST-M config (its file `name`): one seed's step
  against N seeds' step in each program, interleaved rounds, and each program's equality check."""
  r = load_json("performance", name)
  one = r["one_seed_seconds_per_step"]
  rows = [
    [
      "one seed, `jit(step)`",
      f"{one['median']:.4f}",
      _rounds(one),
      f"{r['one_seed_compile_seconds']:.1f}",
      "1.00 (by definition)",
      "–",
    ]
  ]
  for name, p in r["programs"].items():
    t, diff = p["seconds_per_step"], p["max_relative_difference"]
    rows.append(
      [
        f"{r['seeds']} seeds, `{name}`",
        f"{t['median']:.4f}",
        _rounds(t),
        f"{p['compile_seconds']:.1f}",
        f"{p['speedup']:.2f}",
        "0 (bit for bit)" if diff == 0 else f"{diff:.1e}",
      ]
    )
  wide = r.get("wider_batch")  # Older files: not measured.
  if wide:
    t = wide["seconds_per_step"]
    rows.append(
      [f"one seed, {r['seeds']}× the batch ({wide['batch_size_per_domain']} per domain)",
       f"{t['median']:.4f}", _rounds(t), "–", f"{wide['speedup']:.2f}", "–"]
    )  # fmt: skip
  header = [
    "step",
    "median s per step",
    "per round",
    "compile s",
    "× as fast as the seeds one after another",
    "largest difference from a seed alone",
  ]
  machine = f"Measured {r['machine']['date']} ({_cpu(r['machine'])}).\n\n" if "machine" in r else ""
  wider = ""
  if wide:
    gain = wide["times_one_seed"] < r["seeds"]
    wider = (
      f" One seed's step on {r['seeds']}× the batch took {wide['times_one_seed']:.2f}× one seed's "
      "step: the seeds' arithmetic as one batch runs "
      + ("faster per image, room for a program that batches the seeds." if gain else
         "no faster per image, so batching the seeds together has nothing to gain here.")
    )  # fmt: skip
  return machine + markdown_table(header, rows) + (
    f"\n\n{r['config_method']}, {r['batch_size_per_domain']} images per domain per step, "
    f"{r['dtype']}; \"× as fast\" is {r['seeds']} × one seed's median / the program's median; "
    f"the difference is after {r['check_steps']} steps, relative to each leaf's scale.{wider}"
  )  # fmt: skip


def _rounds(seconds: dict) -> str:
  return ", ".join(f"{x:.4f}" for x in seconds["per_round"])


# benchmarks.cpu_suite's committed files, newest first: the page's detailed tables read the
# first; the machines' table reads them all.
SUITES = ("cpu_suite.json", "cpu_suite_2026-12-07.json")


def _suite(group: str, name: str = SUITES[0]) -> tuple[dict, dict[str, list[dict]]]:
  """benchmarks.cpu_suite's file and its `group` entries by label, in the order they ran."""
  data = load_json("performance", name)
  by = {}
  for entry in data["entries"]:
    if entry["group"] == group:
      by.setdefault(entry["label"], []).append(entry)
  return data, by


def _span(values, fmt: str = "{:.3f}") -> str:
  low, high = min(values), max(values)
  return (
    fmt.format(low)
    if fmt.format(low) == fmt.format(high)
    else f"{fmt.format(low)}-{fmt.format(high)}"
  )


def _machine(data: dict) -> str:
  """Where, when and how a suite's file was measured (`rounds`: a count, or the rounds' list)."""
  m, rounds = data["machine"], data["rounds"]
  count = rounds if isinstance(rounds, int) else len(rounds)
  return (
    f"Measured {m['date']} on {m['cpu_count']} CPUs ({_cpu(m)}; {m['platform']}), {count} "
    f"interleaved rounds: `{data['command']}`."
  )


def _cpu(machine: dict) -> str:
  """The CPU model and its vector extensions, where the file recorded them."""
  if "cpu_model" not in machine:
    return "CPU model not recorded"
  return f"{machine['cpu_model']}, {' '.join(machine['cpu_vector_flags']) or 'no AVX'}"


def cpu_settings() -> str:
  """benchmarks.bench per config and CPU setting: per-round step times and their median."""
  data, by = _suite("settings")
  rows = []
  for label, entries in by.items():
    r = [e["result"] for e in entries]
    seconds = [x["seconds_per_step"] for x in r]
    rows.append(
      [label, ", ".join(f"{s:.3f}" for s in seconds), f"{float(np.median(seconds)):.3f}",
       _span([x["examples_per_sec"] for x in r], "{:,.0f}"),
       f"{float(np.median([x['compile_seconds'] for x in r])):.1f}",
       _span([x["host_fraction"] for x in r if "host_fraction" in x] or [0], "{:.2f}"),
       f"`{entries[0]['command']}`"]
    )  # fmt: skip
  header = ["setting", "s/step per round", "median s/step", "examples/s", "compile s",
            "host fraction", "command"]  # fmt: skip
  return _machine(data) + "\n\n" + markdown_table(header, rows)


def _seconds(entry: dict) -> float | None:
  return None if "skipped" in entry else entry["result"]["seconds_per_step"]


def peers() -> str:
  """The paper network's DANN step at 128 + 128 in tljax and its peers, round by round."""
  data, by = _suite("peers")
  rounds = data["rounds"]
  base = [_seconds(e) for e in by["tljax, fast"]]
  rows = []
  for label, entries in by.items():
    seconds = [_seconds(e) for e in entries]
    if None in seconds:
      rows.append([label, *["–"] * rounds, "–", entries[0]["skipped"]])
      continue
    ratio = [s / b for s, b in zip(seconds, base)]
    rows.append(
      [label, *[f"{s:.3f}" for s in seconds], _span(ratio, "{:.2f}"), f"`{entries[0]['command']}`"]
    )
  header = ["step at 128 + 128", *[f"round {i + 1} s/step" for i in range(rounds)],
            "× tljax fast's step, same round", "command"]  # fmt: skip
  fastest = _fastest_rounds(by, rounds)
  return (
    _machine(data)
    + "\n\n"
    + markdown_table(header, rows)
    + f"\n\ntljax's default step was the fastest of these in {fastest} of {rounds} rounds."
  )


def _fastest_rounds(by: dict[str, list[dict]], rounds: int) -> int:
  """In how many rounds tljax's default step was at least as fast as every other row's."""
  base = [_seconds(e) for e in by["tljax, fast"]]
  return sum(
    1
    for i in range(rounds)
    if all(_seconds(es[i]) is None or _seconds(es[i]) >= base[i] for es in by.values())
  )


PEERS = ("tljax, fast", "PyTorch", "TensorFlow", "ADAPT")


def peers_by_machine() -> str:
  """Each committed suite file's peer step at 128 + 128, one row per machine: the median over
  its rounds of each framework's step, and how often tljax's default step was the fastest."""
  rows = []
  for name in SUITES:
    data, by = _suite("peers", name)
    median = {}
    for label in PEERS:
      seconds = [_seconds(e) for e in by[label]]
      median[label] = "not installed" if None in seconds else f"{np.median(seconds):.3f}"
    m = data["machine"]
    rows.append(
      [m["date"], _cpu(m), f"`{name}`", *median.values(),
       f"{_fastest_rounds(by, data['rounds'])} of {data['rounds']}"]
    )  # fmt: skip
  header = ["measured", "CPU (2 cores)", "file", *(f"{p} s/step" for p in PEERS),
            "rounds tljax fastest"]  # fmt: skip
  return markdown_table(header, rows)


def step_flops() -> str:
  """The peers' step at 128 + 128 as a rate: XLA's FLOP count of the plain (`xla`) step over
  each step time, and its share of the dense matmul's rate measured in the same round."""
  data, by = _suite("peers")
  plain = [e["result"].get("step_flops") for e in by["tljax, xla"]]
  if None in plain:
    return "Not measured in the committed file (its benchmark predates the FLOP count)."
  flops = plain[0]
  matmul = [e["result"]["matmul_gflops"] for e in _suite("conv")[1]["conv pieces"]]
  rows = []
  for label, entries in by.items():
    seconds = [_seconds(e) for e in entries]
    if None in seconds:
      continue
    rates = [flops / s / 1e9 for s in seconds]
    share = [r / m for r, m in zip(rates, matmul)]
    rows.append([label, ", ".join(f"{r:.0f}" for r in rates), _span(share, "{:.0%}")])
  return (
    f"One DANN step at 128 + 128 images: {flops / 1e9:.2f} GFLOP (XLA's count of the `xla` "
    "step as written, before XLA's rewrites; every row trains the same network on the same "
    "batch, so this is each row's work).\n\n"
    + markdown_table(
      ["step", "GFLOP/s per round", "share of the matmul's GFLOP/s, same round"], rows
    )
  )


CONV_PIECES = {
  "backbone_forward": "backbone forward",
  "backbone_gradient": "backbone gradient (forward + backward)",
  "conv1_pool_forward": "first conv + pool, forward",
  "conv1_pool_kernel_grad": "first conv + pool, kernel gradient (with its forward)",
  "conv2_forward": "second conv, forward",
  "conv2_kernel_grad": "second conv, kernel gradient",
  "conv2_input_grad": "second conv, input gradient",
}


def conv_pieces() -> str:
  """benchmarks.bench_conv: each piece's ms and useful GFLOP/s, lowest-highest over the rounds."""
  data, by = _suite("conv")
  r = [e["result"] for e in by["conv pieces"]]
  rows = [
    [words, *[_span([x[f"{piece}_{unit}_{impl}"] for x in r], "{:.1f}")
              for impl in ("xla", "fast") for unit in ("ms", "gflops")]]
    for piece, words in CONV_PIECES.items()
  ]  # fmt: skip
  header = [f"piece ({r[0]['batch']} images)", "`xla` ms", "`xla` GFLOP/s", "`fast` ms",
            "`fast` GFLOP/s"]  # fmt: skip
  matmul = (
    f"A {r[0]['matmul_size']} × {r[0]['matmul_size']} float32 matmul in the same runs: "
    f"{_span([x['matmul_gflops'] for x in r], '{:.0f}')} GFLOP/s "
    f"({_span([x['matmul_ms'] for x in r], '{:.0f}')} ms)."
  )
  return _machine(data) + "\n\n" + markdown_table(header, rows) + "\n\n" + matmul


def data_load() -> str:
  """benchmarks.bench_data_load: a fresh process reading a config's splits through TFDS and
  from the kept arrays, per round."""
  data = load_json("performance", "data_load.json")
  rows = []
  for r in data["rounds"]:
    for words, key in (("through TFDS", "tfds"), ("kept arrays", "kept")):
      read = r[key]
      rows.append([
        str(r["round"] + 1), words, f"{read['process_seconds']:.1f}", f"{read['cpu_seconds']:.1f}",
        "yes" if read["tensorflow_imported"] else "no",
      ])  # fmt: skip
  examples = data["rounds"][0]["kept"]["examples"]
  header = ["round", "read", "process s (wall)", "CPU s", "imports TensorFlow"]
  return (
    f"{_machine(data)} {sum(examples.values()):,} images in {len(examples)} splits.\n\n"
    + markdown_table(header, rows)
  )


# What `seeds_program="auto"` ran on the CPU in each committed measurement (it has changed).
AUTO_ON_CPU = {"whole_runs": "sequential", "whole_runs_unrolled": "unrolled"}


def whole_seeds(folder: str = "whole_runs") -> str:
  """Whole DANN runs on MNIST -> MNIST-M: each seed alone against three seeds in one program
  (`train.num_seeds=3`), process wall and CPU seconds, and each seed's target test accuracy;
  `folder` under docs/results/performance holds one such measurement."""
  times = load_json("performance", folder, "process_seconds.json")
  alone = {s: load_json("performance", folder, "separate", f"seed={s}", "results.json")
           for s in (0, 1, 2)}  # fmt: skip
  together = {s: load_json("performance", folder, "together", f"seed={s}", "results.json")
              for s in (0, 1, 2)}  # fmt: skip
  program = together[0]["config"]["train"].get("seeds_program", "vmap")  # Before: vmap only.
  label = f"`{program}`"
  if program == "auto":
    backend = together[0]["topology"]["backend"]
    label += f" (`{AUTO_ON_CPU[folder] if backend == 'cpu' else 'vmap'}` on {backend})"
  rows = [
    [f"seed {s} alone", f"{times[f'seed={s}']['wall']:.0f}", f"{times[f'seed={s}']['user']:.0f}",
     f"{alone[s]['target_test_accuracy']:.4f}"]
    for s in alone
  ]  # fmt: skip
  three = times["together"]
  accuracies = ", ".join(f"{together[s]['target_test_accuracy']:.4f}" for s in together)
  rows.append([f"seeds 0, 1, 2 in one program, {label}", f"{three['wall']:.0f}",
               f"{three['user']:.0f}", accuracies])  # fmt: skip
  one = times["seed=0"]["wall"]
  separate = sum(times[f"seed={s}"]["wall"] for s in alone)
  worst = max(
    abs(together[s]["target_test_accuracy"] - alone[s]["target_test_accuracy"]) for s in alone
  )
  header = ["run", "process wall s", "CPU user s", "target test accuracy (per seed)"]
  return (
    markdown_table(header, rows) + f"\n\nThree seeds in one program took "
    f"{three['wall'] / one:.2f}× one seed's wall time (the issue's goal: at most 2×) and "
    f"{three['wall'] / separate:.2f}× the three separate runs' total; each seed's target test "
    + (
      f"accuracy differs from its separate run's by at most {worst:.4f}."
      if worst
      else "accuracy equals its separate run's."
    )
  )
