"""How a sweep's grid values name run directories (no flags: importable anywhere)."""


def directory_name(value) -> str:
  """A grid value as one path segment: dataset names like sentiment/tweets -> sentiment_tweets."""
  return str(value).replace("/", "_")
