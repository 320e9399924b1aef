"""User-facing errors: raised early, printed as one line by the experiments."""


class ConfigError(ValueError):
  """A config value that cannot work; the message names the field and a fix."""


class DataError(RuntimeError):
  """Missing or malformed data; the message says where to put what."""
