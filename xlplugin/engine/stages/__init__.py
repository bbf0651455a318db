"""Upstream / Downstream labels: the taxonomy (explicit evidence), the shipped word-vector
model, a team's learned model, and the decision that combines them."""
