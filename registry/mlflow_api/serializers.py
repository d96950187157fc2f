"""Registry objects in the JSON shapes of MLflow's model_registry.proto, and the search shapes.

Like MLflow's proto JSON, empty lists and unset optional fields are left out; version numbers
travel as strings, timestamps as integer milliseconds.
"""

from registry.models import ModelVersion, RegisteredModel


def model_version_json(version: ModelVersion) -> dict:
    """Expects the version's tags and aliases prefetched (``selectors.version_details``)."""
    data = {
        "name": version.registered_model.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "user_id": version.user_id,
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "status": version.status,
    }
    if version.run is not None:
        data["run_id"] = version.run.run_uuid
    if version.run_link:
        data["run_link"] = version.run_link
    if version.status_message:
        data["status_message"] = version.status_message
    tags = [{"key": tag.key, "value": tag.value} for tag in version.tags.all()]
    if tags:
        data["tags"] = tags
    aliases = [link.alias for link in version.aliases.all()]
    if aliases:
        data["aliases"] = aliases
    if version.logged_model is not None:
        data["model_id"] = version.logged_model.model_id
    return data


def registered_model_json(model: RegisteredModel) -> dict:
    """Expects ``selectors.model_details`` to have loaded tags, aliases and latest versions."""
    data = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    if model.description:
        data["description"] = model.description
    latest = [model_version_json(v) for v in model.loaded_latest_versions]
    if latest:
        data["latest_versions"] = latest
    tags = [{"key": tag.key, "value": tag.value} for tag in model.loaded_tags]
    if tags:
        data["tags"] = tags
    aliases = [{"alias": link.alias, "version": str(link.model_version.version)} for link in model.loaded_aliases]
    if aliases:
        data["aliases"] = aliases
    return data


def search_page_json(key: str, items: list, token) -> dict:
    """A search answer: the items under ``key`` and the next page token, each only when present."""
    result = {}
    if items:
        result[key] = items
    if token:
        result["next_page_token"] = token
    return result


def search_options(params) -> dict:
    """The keyword arguments both registry searches take from the request."""
    return {
        "filter_string": params.str("filter"),
        "max_results": params.int("max_results"),
        "order_by": params.list("order_by"),
        "page_token": params.str("page_token"),
    }
