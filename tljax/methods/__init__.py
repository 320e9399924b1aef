"""Pure maths of each transfer method (losses, the gradient-reversal layer)."""
