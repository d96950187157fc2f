"""Reads for the registry, always scoped to the caller in SQL.

``visible_models(ctx)`` is the permission scope (an ``id__in``-able queryset); searches put
it, the compiled filter and the keyset position into one query per page, then load the page's
tags, aliases and latest versions with a fixed number of further queries.
"""

from django.db.models import Exists, F, Max, OuterRef, Prefetch, Window
from django.db.models.functions import RowNumber

from accounts.permissions import visible_q
from experiments.errors import invalid, not_found
from experiments.search.options import check_max_results
from registry import search
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    TransitionRequest,
)
from registry.validation import (
    DEFAULT_SEARCH_MODELS,
    DEFAULT_SEARCH_VERSIONS,
    MAX_SEARCH_MODELS,
    MAX_SEARCH_VERSIONS,
    canonical_model_name,
    canonical_stage,
)

PROMPT_TAG = "mlflow.prompt.is_prompt"


def visible_models(ctx):
    """Live registered models of the workspace the caller can READ (the rule of ``model_level``).

    ``accounts.permissions.visible_q``: the role floor on unrestricted models, the caller's own,
    and an ``id__in`` subquery over the caller's and their teams' grants; admins see everything.
    """
    return RegisteredModel.objects.filter(workspace=ctx.workspace, deleted=False).filter(visible_q(ctx, RegisteredModel))


def _version_queryset():
    return ModelVersion.objects.select_related("registered_model", "run", "logged_model").prefetch_related(
        Prefetch("tags", queryset=ModelVersionTag.objects.order_by("key")),
        Prefetch("aliases", queryset=RegisteredModelAlias.objects.order_by("alias")),
    )


def version_details(version: ModelVersion) -> ModelVersion:
    """The same version with its tags and aliases loaded, as the serializers expect."""
    return _version_queryset().get(pk=version.pk)


def latest_versions(model_ids, stages=None) -> dict[int, list[ModelVersion]]:
    """The highest live version in each stage (or only the given stages), per model; one query."""
    queryset = ModelVersion.objects.filter(registered_model_id__in=list(model_ids), deleted=False)
    if stages:
        queryset = queryset.filter(current_stage__in=stages)
    ranked = queryset.annotate(
        rank=Window(RowNumber(), partition_by=[F("registered_model_id"), F("current_stage")], order_by=F("version").desc())
    ).filter(rank=1)
    result: dict[int, list[ModelVersion]] = {pk: [] for pk in model_ids}
    for version in _version_queryset().filter(pk__in=[v.pk for v in ranked]).order_by("version"):
        result[version.registered_model_id].append(version)
    return result


def model_details(models: list[RegisteredModel]) -> list[RegisteredModel]:
    """Attach tags, aliases (with version numbers) and latest versions to a page of models."""
    ids = [m.pk for m in models]
    tags: dict[int, list] = {pk: [] for pk in ids}
    for tag in RegisteredModelTag.objects.filter(registered_model_id__in=ids).order_by("key"):
        tags[tag.registered_model_id].append(tag)
    aliases: dict[int, list] = {pk: [] for pk in ids}
    for link in RegisteredModelAlias.objects.filter(registered_model_id__in=ids).select_related("model_version").order_by("alias"):
        aliases[link.registered_model_id].append(link)
    latest = latest_versions(ids)
    for model in models:
        model.loaded_tags = tags[model.pk]
        model.loaded_aliases = aliases[model.pk]
        model.loaded_latest_versions = latest[model.pk]
    return models


def latest_versions_for(model: RegisteredModel, stages) -> list[ModelVersion]:
    """get-latest-versions: stages are canonicalised; none given means every stage."""
    wanted = [canonical_stage(s) for s in stages] if stages else None
    return latest_versions([model.pk], wanted)[model.pk]


def highest_version(model: RegisteredModel) -> ModelVersion:
    """The ``latest`` alias: the highest live version of any stage."""
    top = ModelVersion.objects.filter(registered_model=model, deleted=False).aggregate(top=Max("version"))["top"]
    if top is None:
        raise not_found(f"Latest version not found for model {model.name}.")
    return _version_queryset().get(registered_model=model, version=top)


def version_by_alias(model: RegisteredModel, alias: str) -> ModelVersion:
    link = RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).first()
    if link is None:
        # MLflow answers a missing alias with INVALID_PARAMETER_VALUE; the client expects that.
        raise invalid(f"Registered model alias {alias} not found.")
    return _version_queryset().get(pk=link.model_version_id)


def _is_prompt_query(comparisons) -> bool:
    for c in comparisons:
        if c.kind == "tag" and c.key == PROMPT_TAG:
            value = str(c.value).lower()
            return (c.op == "=" and value == "true") or (c.op == "!=" and value == "false")
    return False


def _prompt_tagged(tag_model, owner_field: str, outer: str):
    return Exists(tag_model.objects.filter(**{owner_field: OuterRef(outer)}, key=PROMPT_TAG, value__iexact="true"))


def _exclude_prompts_from_models(queryset, comparisons):
    """Like MLflow, searches skip prompts unless the filter asks for them."""
    if _is_prompt_query(comparisons):
        return queryset
    return queryset.filter(~_prompt_tagged(RegisteredModelTag, "registered_model", "pk"))


def _exclude_prompts_from_versions(queryset, comparisons):
    if _is_prompt_query(comparisons):
        return queryset
    return queryset.filter(
        ~_prompt_tagged(RegisteredModelTag, "registered_model", "registered_model_id"),
        ~_prompt_tagged(ModelVersionTag, "model_version", "pk"),
    )


def search_models(ctx, *, filter_string=None, max_results=None, order_by=None, page_token=None):
    """One page of visible registered models: (models with details, next_page_token or None)."""
    max_results = check_max_results(max_results, default=DEFAULT_SEARCH_MODELS, limit=MAX_SEARCH_MODELS)
    comparisons = search.parse_model_filter(filter_string)
    keys = search.model_sort_keys(order_by)
    queryset = search.filtered(visible_models(ctx), comparisons, search.model_condition)
    page, token = search.paginate(
        ctx, _exclude_prompts_from_models(queryset, comparisons), keys,
        entity=search.MODEL_ENTITY, filter_string=filter_string, max_results=max_results, page_token=page_token,
    )
    return model_details(page), token


def search_versions(ctx, *, filter_string=None, max_results=None, order_by=None, page_token=None):
    """One page of live versions of visible models: (versions with details, next_page_token or None)."""
    max_results = check_max_results(max_results, default=DEFAULT_SEARCH_VERSIONS, limit=MAX_SEARCH_VERSIONS)
    comparisons = search.parse_version_filter(filter_string)
    keys = search.version_sort_keys(order_by)
    live = ModelVersion.objects.filter(registered_model__in=visible_models(ctx), deleted=False)
    queryset = search.filtered(live, comparisons, search.version_condition)
    page, token = search.paginate(
        ctx, _exclude_prompts_from_versions(queryset, comparisons), keys,
        entity=search.VERSION_ENTITY, filter_string=filter_string, max_results=max_results, page_token=page_token,
    )
    details = {v.pk: v for v in _version_queryset().filter(pk__in=[v.pk for v in page])}
    return [details[v.pk] for v in page], token


def visible_requests(ctx, *, status=None, name=None):
    """Transition requests on models the caller can READ, newest first."""
    queryset = TransitionRequest.objects.filter(registered_model__in=visible_models(ctx)).select_related(
        "registered_model", "model_version"
    )
    if status:
        queryset = queryset.filter(status=status)
    if name:
        queryset = queryset.filter(registered_model__name=canonical_model_name(name))
    return queryset.order_by("-id")
