"""Configs stored by older tljax (config.json, results.json), read in today's fields.

A run's stored config is compared with the command's on resume
(`run.workdir.check_workdir_config`) and read by the tables
(`analysis.runs`); both read it through `upgrade`, so a field renamed or
added since never makes an old run look like another config.
"""

# Fields added since runs first stored their config, with the value that behaves as before.
ADDED = {
  "data": {
    "strong_shift": 4,
    "colour_jitter": False,
    "cutout": 8,
    "load": "auto",
    "random_crop": False,
    "test_fraction": 0.2,
    "rename_classes": "",
    "merge_classes": "",
    "classes": "same",
    "source_selection_bias": 0.0,
    "target_val_size": 0,
  },
  "train": {"dtype": "float32", "num_seeds": 1, "average_from": -1, "seeds_program": "auto"},
  "model": {"head": "mlp"},
  "method": {
    "iw_erm": {"on": "features"},
    "kmm": {"space": "pixels"},
    "kliep": {"space": "pixels"},
  },
}


RENAMED = {  # Config fields renamed since runs first stored their config: old -> new.
  "train.reverse_dann_steps": "train.reverse_validation_steps",
}
VALUES = {  # Values renamed since: field -> {old: new}.
  "model.name": {"dann_digits": "digits_net"},
  "optim.schedule": {"dann": "annealed"},
}
DISCRIMINATOR_METHODS = ("dann", "cdan", "cdan_e")  # Read model.discriminator_hidden before.


def upgrade(stored: dict) -> dict:
  """A config stored by older tljax, in today's fields.

  Before methods had sections, `method.trade_off` etc. were DANN's; before
  text, self-training's strong image views were `method.self_training.
  strong_shift` and `.cutout` (now `data.strong_shift` and `data.cutout`);
  `model.discriminator_hidden` was shared by the adversarial methods (now each
  one's `discriminator_hidden`); renamed fields and values (`RENAMED`, `VALUES`)
  take their new names; fields added since (`ADDED`) take the value that
  reproduces the old code.
  """
  stored = dict(stored)
  method = dict(stored.get("method", {}))
  flat = {k: v for k, v in method.items() if k != "name" and not isinstance(v, dict)}
  if flat:  # Before methods had sections.
    method = {k: v for k, v in method.items() if k not in flat}
    method["dann"] = {**method.get("dann", {}), **flat}
  for name, fields in ADDED["method"].items():
    if isinstance(method.get(name), dict):
      method[name] = {**fields, **method[name]}
  self_training = method.get("self_training", {})
  moved = {k: v for k, v in self_training.items() if k in ADDED["data"]}
  if moved:
    method["self_training"] = {k: v for k, v in self_training.items() if k not in moved}
  if "model" in stored:
    model = dict(stored["model"])
    if "discriminator_hidden" in model:
      hidden = model.pop("discriminator_hidden")
      for name in DISCRIMINATOR_METHODS:
        if name in method:
          method[name] = {**method.get(name, {}), "discriminator_hidden": hidden}
    stored["model"] = {**ADDED["model"], **model}
  if "data" in stored:
    stored["data"] = {**ADDED["data"], **stored["data"], **moved}
  if "train" in stored:
    stored["train"] = {**ADDED["train"], **stored["train"]}
  for old, new in RENAMED.items():
    (old_section, old_key), (new_section, new_key) = old.split("."), new.split(".")
    if old_key in stored.get(old_section, {}):
      section = dict(stored[old_section])
      value = section.pop(old_key)
      stored[old_section] = section
      stored[new_section] = {**stored.get(new_section, {}), new_key: value}
  for field, renames in VALUES.items():
    section, key = field.split(".")
    if key in stored.get(section, {}) and stored[section][key] in renames:
      stored[section] = {**stored[section], key: renames[stored[section][key]]}
  stored["method"] = method
  return stored
