"""MLflow's registry rules for names, versions, stages, aliases and tags, checked before any write.

Registered-model names are canonicalised (Unicode NFC) before they are stored or looked up, and
names that could be read two ways (percent-encoded sequences, control characters, path tricks)
are refused, so that one model cannot shadow another under a look-alike name.
"""

import posixpath
import re
import unicodedata

from experiments.errors import invalid
from experiments.validation import validate_key, validate_value
from registry.models import Stage

MAX_MODEL_NAME_LENGTH = 256
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 100_000
MAX_SEARCH_MODELS = 1000
DEFAULT_SEARCH_MODELS = 100
MAX_SEARCH_VERSIONS = 200_000
DEFAULT_SEARCH_VERSIONS = 10_000

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_STAGES = {stage.value.lower(): stage.value for stage in Stage}
ACTIVE_STAGES = (Stage.STAGING.value, Stage.PRODUCTION.value)


def canonical_model_name(name, param: str = "name") -> str:
    """The one stored form of a registered-model name, or INVALID_PARAMETER_VALUE."""
    if name is None or not isinstance(name, str) or name.strip() == "":
        raise invalid(f"Missing value for required parameter '{param}'.")
    name = unicodedata.normalize("NFC", name)
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise invalid(f"Registered model name exceeds the maximum length of {MAX_MODEL_NAME_LENGTH}.")
    if "/" in name or ":" in name:
        raise invalid(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if _CONTROL.search(name):
        raise invalid("Invalid model name: names cannot contain control characters.")
    if _PERCENT_ESCAPE.search(name):
        raise invalid(f"Invalid model name '{name}'. Names cannot contain percent-encoded characters.")
    normalised = posixpath.normpath(name)
    if normalised != name or normalised == "." or normalised.startswith(".."):
        raise invalid(f"Invalid model name '{name}'. Names may not be '.', start with '..' or hold redundant separators.")
    return name


def parse_version(version, param: str = "version") -> int:
    if version is None or version == "":
        raise invalid(f"Missing value for required parameter '{param}'.")
    if isinstance(version, bool):
        raise invalid(f"Parameter '{param}' must be an integer, got '{version}'.")
    text = str(version).strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        raise invalid(f"Parameter '{param}' must be an integer, got '{version}'.")
    return int(text)


def canonical_stage(stage) -> str:
    if not isinstance(stage, str) or stage.strip().lower() not in _STAGES:
        raise invalid(
            f"Invalid Model Version stage: {stage}. Value must be one of "
            f"{', '.join(s.value for s in Stage)}."
        )
    return _STAGES[stage.strip().lower()]


def validate_alias(alias, *, for_write: bool) -> str:
    if alias is None or alias == "":
        raise invalid("Registered model alias name cannot be empty.")
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise invalid(
            f"Invalid alias name: '{alias}'. Alias names may only contain alphanumerics, underscores (_) "
            "and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise invalid(f"Registered model alias name exceeds the maximum length of {MAX_ALIAS_LENGTH}.")
    if for_write and alias.lower() == "latest":
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if for_write and _VERSION_ALIAS.match(alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")
    return alias


def validate_tag(key, value) -> tuple[str, str]:
    """Run rules for the key; registry tag values may be longer than run tag values."""
    key = validate_key(key, "tag")
    return key, validate_value(value, "tag", MAX_TAG_VALUE_LENGTH, key=key)


def validate_tags(tags) -> dict[str, str]:
    """A list of {key, value} objects from the wire; the last value of a key wins, as in MLflow."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise invalid("Invalid value for parameter 'tags': must be a list.")
    result = {}
    for tag in tags:
        if not isinstance(tag, dict):
            raise invalid("Invalid value for parameter 'tags': every entry must be an object.")
        key, value = validate_tag(tag.get("key"), tag.get("value"))
        result[key] = value
    return result


def validate_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise invalid("Invalid value for parameter 'description': must be a string.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise invalid(f"Description exceeds the maximum length of {MAX_DESCRIPTION_LENGTH}.")
    return description
