"""MLflow's limits and key rules, checked before anything is written."""

import re

from experiments.errors import invalid

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_ENTITIES = 1000
MAX_SEARCH_RESULTS = 50000

# Letters, digits, underscores, dashes, periods, spaces, colons and slashes, like MLflow.
_VALID_KEY = re.compile(r"^[/\w.\- :]*$")


def validate_key(key, kind: str) -> str:
    if not isinstance(key, str) or key == "":
        raise invalid(f"Missing value for required parameter 'key' of a {kind}.")
    if len(key) > MAX_KEY_LENGTH:
        raise invalid(f"{kind.capitalize()} key '{key[:40]}...' had length {len(key)}, which exceeded length limit of {MAX_KEY_LENGTH}.")
    if not _VALID_KEY.match(key):
        raise invalid(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), "
            "periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    if key.startswith("/") or any(part == ".." for part in key.split("/")):
        raise invalid(f"Invalid {kind} name: '{key}'. Names may not be absolute or contain '..'.")
    return key


def validate_value(value, kind: str, limit: int, *, key: str) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise invalid(f"Invalid value for {kind} '{key}': must be a string.")
    if len(value) > limit:
        raise invalid(
            f"{kind.capitalize()} value '{value[:40]}...' had length {len(value)}, which exceeded length limit of {limit}."
        )
    return value


def validate_tag(key, value) -> tuple[str, str]:
    key = validate_key(key, "tag")
    return key, validate_value(value, "tag", MAX_TAG_VALUE_LENGTH, key=key)


def validate_param(key, value) -> tuple[str, str]:
    key = validate_key(key, "param")
    return key, validate_value(value, "param", MAX_PARAM_VALUE_LENGTH, key=key)


def validate_experiment_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid("Invalid experiment name: must be a non-empty string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(f"Experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH}.")
    return name


def validate_batch_sizes(metrics: list, params: list, tags: list):
    if len(metrics) > MAX_BATCH_METRICS:
        raise invalid(f"A batch logging request can contain at most {MAX_BATCH_METRICS} metrics. Got {len(metrics)} metrics.")
    if len(params) > MAX_BATCH_PARAMS:
        raise invalid(f"A batch logging request can contain at most {MAX_BATCH_PARAMS} params. Got {len(params)} params.")
    if len(tags) > MAX_BATCH_TAGS:
        raise invalid(f"A batch logging request can contain at most {MAX_BATCH_TAGS} tags. Got {len(tags)} tags.")
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_ENTITIES:
        raise invalid(
            f"A batch logging request can contain at most {MAX_BATCH_ENTITIES} metrics, params and tags in total. Got {total}."
        )
