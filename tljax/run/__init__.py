"""The impure side of a run: the loop, its build, workdir and lock, signals, evaluation, results."""
