"""Speech: the espeak-ng datasets, the log-mel front end, audio folders, views, every method.

The builder tests need espeak-ng (`.ci/run` installs it); without it they say
why they did not run. The error paths use a fake synthesiser (TLJAX_ESPEAK).
"""

import dataclasses
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import spoken_digits
from tests import helpers
from tljax import methods, models
from tljax.data import audio, augment, folders, pipeline
from tljax.data.builders import spoken, synthesis
from tljax.errors import ConfigError, DataError
from tljax.models import audio as audio_model
from tljax.run import build, validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(
  not HAS_ESPEAK, reason=f"espeak-ng is not installed here: {synthesis.INSTALL}"
)


def _tiny(domain: str, train: int = 2, test: int = 1) -> spoken.SpokenConfig:
  base = next(c for c in spoken.DOMAINS if c.name == domain)
  return dataclasses.replace(
    base, name=f"{domain}_tiny{train}", train_per_word=train, test_per_word=test
  )


def _arrays(builder_cls, config, data_dir) -> dict:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  builder = builder_cls(config=config, data_dir=str(data_dir))
  builder.download_and_prepare()
  out = {}
  for split in ("train", "test"):
    rows = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, shuffle_files=False))
    order = np.lexsort((rows["voice"], rows["label"]))  # TFDS shuffles; compare as a set.
    out[split] = {k: v[order] for k, v in rows.items()}
  return out, builder


@needs_espeak
def test_spoken_domains_sizes_labels_and_determinism(tmp_path):
  built = {}
  for domain in ("us_clean", "accents_clean", "accents_noisy"):
    arrays, builder = _arrays(spoken.SpokenDigits, _tiny(domain), tmp_path / "a")
    again, _ = _arrays(spoken.SpokenDigits, _tiny(domain), tmp_path / "b")
    for split, size in (("train", 2), ("test", 1)):
      rows = arrays[split]
      assert rows["audio"].shape == (10 * size, spoken.NUM_SAMPLES)
      assert rows["audio"].dtype == np.int16
      np.testing.assert_array_equal(np.bincount(rows["label"]), [size] * 10)
      for key in rows:  # Built twice: the same bytes.
        np.testing.assert_array_equal(rows[key], again[split][key], err_msg=(domain, key))
      assert (np.abs(rows["audio"]).max(axis=1) > 1000).all()  # Every clip holds speech.
    voices = [v.decode() for v in arrays["train"]["voice"]]
    accents = {v.split()[1].split("+")[0] for v in voices}
    allowed = spoken.US_ACCENTS if domain == "us_clean" else spoken.OTHER_ACCENTS
    assert accents <= set(allowed), accents
    assert builder.info.metadata["espeak_ng_version"].startswith("eSpeak NG")
    assert builder.info.metadata["noisy"] == (domain == "accents_noisy")
    built[domain] = arrays
  # The noisy domain is the clean accents' utterances under a drawn condition.
  clean, noisy = built["accents_clean"]["train"], built["accents_noisy"]["train"]
  np.testing.assert_array_equal(clean["voice"], noisy["voice"])
  assert set(clean["condition"]) == {b"clean"}
  assert all(b"dB SNR" in c for c in noisy["condition"])
  assert not np.array_equal(clean["audio"], noisy["audio"])
  # Train and test utterances differ (other voices or offsets), within a domain.
  us = built["us_clean"]
  assert not any((us["test"]["audio"][i] == us["train"]["audio"]).all(axis=1).any() for i in
                 range(len(us["test"]["audio"])))  # fmt: skip


def _fake_espeak(tmp_path, body: str) -> str:
  path = tmp_path / "espeak-ng"
  path.write_text(f"#!/bin/sh\n{body}\n")
  path.chmod(0o755)
  return str(path)


def test_synthesiser_errors_are_one_line(tmp_path, monkeypatch):
  voice = synthesis.Voice("en-us", "m1", 50, 175)
  monkeypatch.setenv("TLJAX_ESPEAK", str(tmp_path / "missing"))
  with pytest.raises(DataError, match="apt-get install espeak-ng"):
    synthesis.render("one", voice, 16000)
  monkeypatch.setenv("TLJAX_ESPEAK", _fake_espeak(tmp_path, 'echo "voice not found" >&2; exit 1'))
  with pytest.raises(DataError, match="espeak-ng failed on 'one'.*exit 1, voice not found"):
    synthesis.render("one", voice, 16000)
  monkeypatch.setenv("TLJAX_ESPEAK", _fake_espeak(tmp_path, "echo not a wav file"))
  with pytest.raises(DataError, match="no readable WAV"):
    synthesis.render("one", voice, 16000)
  silence = tmp_path / "silence.wav"
  _write_wav(silence, np.zeros(2205), 22050)
  monkeypatch.setenv("TLJAX_ESPEAK", _fake_espeak(tmp_path, f"cat {silence}"))
  with pytest.raises(DataError, match="as silence"):
    synthesis.render("one", voice, 16000)


def test_a_fake_synthesiser_builds_a_domain_and_its_errors_stop_the_build(tmp_path, monkeypatch):
  tone = tmp_path / "tone.wav"
  _write_wav(tone, 0.5 * np.sin(2 * np.pi * 440 * np.arange(11025) / 22050), 22050)
  monkeypatch.setenv("TLJAX_ESPEAK", _fake_espeak(tmp_path, f"cat {tone}"))
  monkeypatch.setattr(synthesis, "version", lambda: "fake 1.0")
  arrays, _ = _arrays(spoken.SpokenCommands, _tiny("accents_noisy", 1, 1), tmp_path / "tfds")
  assert arrays["train"]["audio"].shape == (10, spoken.NUM_SAMPLES)
  monkeypatch.setenv("TLJAX_ESPEAK", _fake_espeak(tmp_path, "exit 3"))
  with pytest.raises(DataError, match="exit 3"):
    _arrays(spoken.SpokenCommands, _tiny("us_clean", 1, 1), tmp_path / "tfds2")


def _write_wav(path, x: np.ndarray, rate: int, channels: int = 1) -> None:
  import wave  # pylint: disable=g-import-not-at-top

  samples = audio.to_int16(np.repeat(x[:, None], channels, axis=1))
  with wave.open(str(path), "wb") as w:
    w.setnchannels(channels)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(samples.tobytes())


def _espeak_clip(word: str = "seven") -> np.ndarray:
  voice = synthesis.Voice("en-gb", "f2", 50, 160)
  clip = synthesis.render(word, voice, 16000).astype(np.float32)
  return audio.fit_length(clip, 16000)


@needs_espeak
def test_log_mel_front_end_matches_librosa_on_espeak_audio():
  librosa = pytest.importorskip("librosa")
  x = np.stack([_espeak_clip("seven"), _espeak_clip("three")])
  ours = np.asarray(audio_model.mel_power(jnp.asarray(x), 16000, 400, 160, 40, 20.0, 8000.0))
  for i in range(2):
    theirs = librosa.feature.melspectrogram(
      y=x[i], sr=16000, n_fft=400, hop_length=160, n_mels=40, fmin=20.0, fmax=8000.0,
      center=True, pad_mode="constant", power=2.0,
    ).T  # fmt: skip
    assert ours[i].shape == theirs.shape
    np.testing.assert_allclose(ours[i], theirs, rtol=1e-4, atol=1e-4 * theirs.max())
    loud = theirs > 1e-3 * theirs.max()  # Relative to each value where there is energy.
    np.testing.assert_allclose(ours[i][loud], theirs[loud], rtol=1e-4)
  filters = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40, fmin=20.0, fmax=8000.0)
  np.testing.assert_allclose(audio_model.mel_filters(16000, 400, 40, 20.0, 8000.0), filters,
                             atol=1e-7)  # fmt: skip


def test_mel_power_of_a_pure_tone_lands_in_its_band():
  """A 1 kHz tone's power sits in the mel band whose centre is nearest 1 kHz (derivable by hand:
  Slaney's scale is linear below 1 kHz, 200/3 Hz per mel)."""
  t = np.arange(16000) / 16000
  x = jnp.asarray(np.sin(2 * np.pi * 1000 * t)[None].astype(np.float32))
  power = np.asarray(audio_model.mel_power(x, 16000, 400, 160, 40, 0.0, 8000.0))[0]
  centres = audio_model.mel_to_hz(
    np.linspace(audio_model.hz_to_mel(0.0), audio_model.hz_to_mel(8000.0), 42)
  )[1:-1]
  assert power[50].argmax() == np.abs(centres - 1000).argmin()
  assert audio_model.hz_to_mel(1000.0) == pytest.approx(15.0)  # 1000 / (200 / 3).


def test_audio_views_shift_and_mask_as_drawn():
  x = jnp.asarray(np.arange(1, 41, dtype=np.float32)[None].repeat(3, axis=0))
  shifted = np.asarray(augment.time_shift(x, jax.random.key(0), 5))
  for row in shifted:  # Each row is the ramp moved by s, zeros shifted in.
    s = int(np.flatnonzero(row)[0]) if row[0] == 0 else -(int(row[0]) - 1)
    expect = np.roll(np.arange(1, 41), s).astype(np.float32)
    expect[:s] = 0 if s > 0 else expect[:s]
    if s < 0:
      expect[s:] = 0
    np.testing.assert_array_equal(row, expect)
  masked = np.asarray(augment.time_mask(x, jax.random.key(1), 10))
  zeros = (masked == 0).sum(axis=1)
  assert (zeros <= 10).all() and zeros.sum() > 0
  # A frequency mask over a tone's bin removes the tone; elsewhere it keeps it.
  t = np.arange(1000) / 1000
  tone = jnp.asarray(np.sin(2 * np.pi * 100 * t)[None].astype(np.float32))
  kept = removed = 0
  for seed in range(40):
    out = np.asarray(augment.frequency_mask(tone, jax.random.key(seed), 0.3))
    ratio = np.sum(out**2) / np.sum(np.asarray(tone) ** 2)
    kept += ratio > 0.999
    removed += ratio < 1e-6
  assert kept + removed == 40 and kept and removed
  views = augment.Audio(shift=10, masks=1, time_mask=20, freq_mask=0.1)
  y = jnp.asarray(np.random.default_rng(0).standard_normal((4, 400)).astype(np.float32))
  assert views.weak(y, jax.random.key(0)).shape == y.shape
  assert views.strong(y, jax.random.key(0)).shape == y.shape


def test_audio_folders_read_wav_flac_stereo_other_rates_and_skip_non_audio(tmp_path, caplog):
  import soundfile  # pylint: disable=g-import-not-at-top

  t = np.arange(8000) / 8000
  tone = 0.5 * np.sin(2 * np.pi * 300 * t)
  for cls in ("yes", "no"):
    (tmp_path / cls).mkdir()
    for i in range(5):
      _write_wav(tmp_path / cls / f"{i}.wav", tone, 8000)  # 8 kHz: resampled to 16 kHz.
    _write_wav(tmp_path / cls / "stereo.wav", tone, 8000, channels=2)
    soundfile.write(tmp_path / cls / "clip.flac", tone, 8000)
    soundfile.write(tmp_path / cls / "long.flac", np.tile(tone, 3), 8000)  # 3 s: centre kept.
  (tmp_path / "no" / "notes.wav").write_text("not audio")
  assert folders.holds_audio(str(tmp_path))
  assert pipeline.modality(f"folder:{tmp_path}") == "audio"
  config = spoken_digits.get_config("tiny")
  config.data.test_fraction = 0.25
  train, names = pipeline.load(f"folder:{tmp_path}", "train", config.data)
  test, _ = pipeline.load(f"folder:{tmp_path}", "test", config.data)
  assert names == ["no", "yes"]
  assert len(train["label"]) + len(test["label"]) == 16  # 2 x 8 readable, notes.wav skipped.
  assert "notes.wav" in caplog.text and "skipped 1 of" in caplog.text
  clips = np.concatenate([train["input"], test["input"]])
  assert clips.shape == (16, config.data.audio.num_samples) and clips.dtype == np.int16
  # Every clip is the 300 Hz tone at 16 kHz: its spectrum peaks at 300 Hz.
  for clip in clips:
    spectrum = np.abs(np.fft.rfft(clip.astype(np.float64)))
    assert abs(spectrum.argmax() * 16000 / len(clip) - 300) < 2
  with pytest.raises(DataError, match="no readable .wav/.flac recordings"):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "a" / "x.wav").write_text("no")
    folders.list_split(str(tmp_path / "empty"), "train")


def test_speech_config_validates_and_mismatches_are_one_line_errors():
  validate.validate_config(spoken_digits.get_config())
  config = spoken_digits.get_config()
  config.data.target = "digits_m"
  with pytest.raises(ConfigError, match="is images: every domain must hold the same kind"):
    validate.validate_config(config)
  config = spoken_digits.get_config()
  config.model.name = "digits_net"
  with pytest.raises(ConfigError, match=r"reads images, not audio; use one of \['audio_conv'\]"):
    validate.validate_config(config)
  config = spoken_digits.get_config()
  config.data.audio.sample_rate = 8000  # The model's rate follows (a reference).
  validate.validate_config(config)
  assert config.model.audio.sample_rate == 8000
  config.model.audio = models.audio_defaults()  # A config that does not link the two.
  with pytest.raises(ConfigError, match="model.audio.sample_rate=16000 must equal"):
    validate.validate_config(config)
  config = spoken_digits.get_config()
  config.model.audio.n_mels = 300
  with pytest.raises(ConfigError, match="n_mels=300 must be <= n_fft // 2 \\+ 1 = 201"):
    validate.validate_config(config)
  config = spoken_digits.get_config()
  config.data.audio.shift = 8000
  with pytest.raises(ConfigError, match="shift=8000 and time_mask=1600 must stay within"):
    validate.validate_config(config)
  assert models.modality("audio_conv") == "audio"


def _audio_batch(config, streams, rng, samples: int) -> dict:
  batch = {}
  for name in streams:
    waves = rng.normal(0, 3000, (config.data.batch_size, samples)).astype(np.int16)
    batch[name] = {"input": waves}
    if name != "target":
      batch[name]["label"] = rng.permutation(np.arange(config.data.batch_size) % 3)
  return batch


@pytest.mark.parametrize("name", helpers.INTERFACE_METHODS)
def test_every_way_a_method_touches_inputs_takes_a_finite_step_on_audio_under_jit(name, tmp_path):
  assert name in methods.names()
  config = spoken_digits.get_config("tiny")
  config.method.name = name
  samples = 2000
  config.data.audio.num_samples = samples
  helpers.provide_teacher(config, (samples,), 3, tmp_path / "teacher")
  rng = np.random.default_rng(0)
  sets = _audio_batch(config, ("source", "target", "target_labelled"), rng, samples)
  built = build.build(config, (samples,), 3, sets)
  batch = {s: sets[s] for s in built.method.streams}
  state, metrics = built.train_step(built.state, batch, jax.random.key(0))
  assert int(state.step) == 1
  assert all(np.isfinite(np.asarray(v)).all() for v in metrics.values()), (name, metrics)


def test_dann_and_self_training_on_audio_sharded_8_devices_match_one_device(tmp_path):
  # XLA's default emitters, as users' runs: under the tests' older ones the updates of this
  # network's BatchNorm layers differ between single and sharded (and from the default
  # emitters) by 10-15% of their size after 3 steps, beyond float rounding (seen 2026-12-07).
  env = helpers.worker_env(8, test_flags=False)
  cmd = [sys.executable, "-m", "tests.parallel_worker", "--out", str(tmp_path), "--modes",
         "single,sharded", "--methods", "dann,self_training", "--model", "audio_conv"]  # fmt: skip
  result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  for name in ("dann", "self_training"):
    single = np.load(tmp_path / f"{name}_single_1x8.npz")
    sharded = np.load(tmp_path / f"{name}_sharded_1x8.npz")
    bad, still = helpers.update_mismatches(single, sharded)
    assert not bad, (name, bad)
    assert all("batch_stats" in k or "method_state" in k for k in still), (name, still)
