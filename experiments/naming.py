"""Friendly generated names for runs and logged models, as MLflow users are used to."""

import secrets

_ADJECTIVES = (
    "able", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "fair", "gentle", "glad",
    "grand", "keen", "kind", "lively", "lucky", "merry", "nimble", "proud", "quick", "quiet", "rare", "sharp",
    "shy", "smart", "steady", "swift", "tidy", "vivid", "warm", "wise",
)
_NOUNS = (
    "ant", "bat", "bear", "bee", "crab", "crow", "deer", "dove", "eel", "fox", "frog", "goat", "hare", "hawk",
    "heron", "lark", "lion", "lynx", "mole", "moth", "newt", "owl", "ram", "seal", "slug", "snail", "swan",
    "toad", "trout", "wasp", "whale", "wolf",
)


def generate_run_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"
