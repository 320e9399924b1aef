"""The standard domain-adaptation image benchmarks, read from their extracted archives.

Name `BENCHMARK/DOMAIN` (e.g. `office31/amazon`) with the extracted archive in
`config.data.manual_dir`:

  office31      MANUAL/{amazon,dslr,webcam}/images/<31 classes>/*.jpg  (Saenko et al. 2010)
  office_home   MANUAL/{Art,Clipart,Product,Real_World}/<65 classes>/*.jpg  (Venkateswara
                et al. 2017; "Real World" with a space, as the original archive has it, works too)
  visda2017     MANUAL/{train,validation}/<12 classes>/*: domains synthetic (train) and
                real (validation)  (Peng et al. 2017)
  domainnet     MANUAL/<domain>/<345 classes>/*.jpg with MANUAL/<domain>_{train,test}.txt
                (Peng et al. 2019); without them, TFDS's own `domainnet/<domain>` builder

Office-31, Office-Home and VisDA-2017 use the papers' protocol: all labelled
source images train, all target images are both the unlabelled training set
and the test set (their `train` and `test` splits are the same images).
DomainNet has official train/test lists. None of the four has a download link
stable enough to fetch from (Google Drive, university servers), except
DomainNet's through TFDS; offline, the error says where the files go.
"""

import dataclasses
import logging
import os

from tljax.data import folders
from tljax.errors import ConfigError, DataError

log = logging.getLogger("tljax")

OFFICE31_CLASSES = (
  "back_pack bike bike_helmet bookcase bottle calculator desk_chair desk_lamp desktop_computer "
  "file_cabinet headphones keyboard laptop_computer letter_tray mobile_phone monitor mouse mug "
  "paper_notebook pen phone printer projector punchers ring_binder ruler scissors speaker "
  "stapler tape_dispenser trash_can"
).split()
OFFICE_HOME_CLASSES = (
  "Alarm_Clock Backpack Batteries Bed Bike Bottle Bucket Calculator Calendar Candles Chair "
  "Clipboards Computer Couch Curtains Desk_Lamp Drill Eraser Exit_Sign Fan File_Cabinet "
  "Flipflops Flowers Folder Fork Glasses Hammer Helmet Kettle Keyboard Knives Lamp_Shade Laptop "
  "Marker Monitor Mop Mouse Mug Notebook Oven Pan Paper_Clip Pen Pencil Postit_Notes Printer "
  "Push_Pin Radio Refrigerator Ruler Scissors Screwdriver Shelf Sink Sneakers Soda Speaker Spoon "
  "TV Table Telephone ToothBrush Toys Trash_Can Webcam"
).split()
VISDA_CLASSES = (
  "aeroplane bicycle bus car horse knife motorcycle person plant skateboard train truck"
).split()


@dataclasses.dataclass(frozen=True)
class Benchmark:
  domains: dict[str, tuple[str, ...]]  # Domain -> candidate folders under the manual dir.
  classes: tuple[str, ...] | int  # The published class list, or just its size.
  source: str  # Where the archive comes from, for the error message.


BENCHMARKS = {
  "office31": Benchmark(
    {d: (f"{d}/images", d) for d in ("amazon", "dslr", "webcam")},
    tuple(OFFICE31_CLASSES),
    "Office-31 (office31.tar.gz from the Saenko et al. 2010 project page)",
  ),
  "office_home": Benchmark(
    {
      "Art": ("Art",),
      "Clipart": ("Clipart",),
      "Product": ("Product",),
      "Real_World": ("Real_World", "Real World"),
    },
    tuple(OFFICE_HOME_CLASSES),
    "Office-Home (OfficeHomeDataset_10072016.zip from hemanthdv.org/officeHomeDataset.html)",
  ),
  "visda2017": Benchmark(
    {"synthetic": ("train",), "real": ("validation",)},
    tuple(VISDA_CLASSES),
    "VisDA-2017 classification (train.tar and validation.tar from ai.bu.edu/visda-2017)",
  ),
  "domainnet": Benchmark(
    {d: (d,) for d in ("clipart", "infograph", "painting", "quickdraw", "real", "sketch")},
    345,
    "DomainNet (the cleaned <domain>.zip and <domain>_{train,test}.txt from ai.bu.edu/M3SDA)",
  ),
}


def is_benchmark(name: str) -> bool:
  return name.split("/")[0] in BENCHMARKS


def check_name(field: str, name: str) -> None:
  benchmark, _, domain = name.partition("/")
  domains = list(BENCHMARKS[benchmark].domains)
  if domain not in domains:
    raise ConfigError(
      f"config.data.{field}={name!r}: {benchmark} has the domains "
      f"{[f'{benchmark}/{d}' for d in domains]}"
    )


def uses_tfds(name: str, manual_dir: str | None) -> bool:
  """DomainNet without its files in the manual dir goes through TFDS's builder."""
  benchmark, _, domain = name.partition("/")
  return benchmark == "domainnet" and not (
    manual_dir and os.path.isfile(os.path.join(manual_dir, f"{domain}_train.txt"))
  )


def list_split(name: str, split: str, manual_dir: str | None) -> folders.Listing:
  """The files of `split` of benchmark domain `name`, read from `manual_dir`."""
  benchmark, _, domain = name.partition("/")
  spec = BENCHMARKS[benchmark]
  root = _domain_root(name, spec, manual_dir)
  if benchmark == "domainnet":
    listing = _domainnet_split(manual_dir, domain, split)
  else:
    listing = folders.list_split(root, "all")  # Train and test: every image (see above).
  _check_classes(name, spec, listing.class_names)
  return listing


def _domain_root(name: str, spec: Benchmark, manual_dir: str | None) -> str:
  domain = name.partition("/")[2]
  where = os.path.expanduser(manual_dir) if manual_dir else None
  for candidate in spec.domains[domain]:
    if where and os.path.isdir(os.path.join(where, candidate)):
      return os.path.join(where, candidate)
  folder = os.path.join(manual_dir or "MANUAL_DIR", spec.domains[domain][0])
  raise DataError(
    f"dataset {name!r} needs the extracted {spec.source} in config.data.manual_dir "
    f"(={manual_dir!r}), with the folder {folder}"
  )


def _domainnet_split(manual_dir: str, domain: str, split: str) -> folders.Listing:
  if split not in ("train", "test"):
    raise ConfigError(f"domainnet/{domain} has the splits train and test, not {split!r}")
  list_file = os.path.join(manual_dir, f"{domain}_{split}.txt")
  if not os.path.isfile(list_file):
    raise DataError(f"domainnet/{domain}: {list_file} is missing (DomainNet's split list)")
  root = os.path.join(manual_dir, domain)
  classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
  files = []
  with open(list_file) as f:
    for line in f:
      if line.strip():
        relative = line.split()[0]  # e.g. clipart/aircraft_carrier/clipart_001_000018.jpg
        files.append((os.path.join(manual_dir, relative), relative.split("/")[1]))
  unknown = sorted({c for _, c in files} - set(classes))
  if unknown:
    raise DataError(f"{list_file} names classes with no folder under {root}: {unknown[:5]}")
  return folders.list_files(files, classes)


def _check_classes(name: str, spec: Benchmark, found: tuple[str, ...]) -> None:
  """Warns if the extracted folders differ from the published class list."""
  if isinstance(spec.classes, int):
    if len(found) != spec.classes:
      log.warning(
        "%s: %d class folders, the published dataset has %d", name, len(found), spec.classes
      )
    return
  missing, extra = sorted(set(spec.classes) - set(found)), sorted(set(found) - set(spec.classes))
  if missing or extra:
    log.warning(
      "%s: the class folders differ from the published %d classes (missing %s, extra %s)",
      name,
      len(spec.classes),
      missing[:5],
      extra[:5],
    )
