"""Model-version sources: validated, never trusted (DESIGN §5, security.md A5).

A source names what the version is made of. Accepted forms, all in the caller's workspace and
readable by the caller:

- ``models:/m-<32 hex>``                                  a logged model
- ``runs:/<run_uuid>[/<path>]``                            a run's artifacts
- ``mlflow-artifacts:/<exp>/<run_uuid>/artifacts[/<path>]``     under a run's managed root
- ``mlflow-artifacts:/<exp>/models/<model_id>/artifacts[/<path>]`` under a logged model's root
- ``models:/<name>/<version>`` or ``models:/<name>@<alias>``  another registered version
  (what ``MlflowClient.copy_model_version`` sends)

The server derives the storage location from the run or logged model it found; the client's
string is never used as a location. Everything else (file:, s3:, http:, hosts, ``..``, encoded
characters, another workspace's run) is one 400 INVALID_PARAMETER_VALUE whose message does not
depend on whether the referenced object exists elsewhere.
"""

import re
from dataclasses import dataclass

from accounts.permissions import Level
from experiments.access import access_logged_model, access_run
from experiments.errors import MlflowError, invalid
from experiments.models import LifecycleStage, LoggedModel, Run

MAX_SOURCE_LENGTH = 2048
_SCHEMES = ("models", "runs", "mlflow-artifacts")
# Control characters, backslashes, percent-encoding, fragments, queries and path parameters.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\\%#?;\u2028\u2029]")
_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_EXPERIMENT_ID = re.compile(r"^\d{1,19}$")
_VERSION = re.compile(r"^\d{1,18}$")


@dataclass(frozen=True)
class ResolvedSource:
    source: str
    storage_location: str
    run: Run | None
    logged_model: LoggedModel | None


def refused(source, reason: str = "") -> MlflowError:
    return invalid(
        f"Invalid model version source: '{source}'. A source must be 'models:/<logged model id>', "
        "'runs:/<run id>/<path>' or a location under that run's or logged model's artifact root, "
        f"naming a run or logged model of this workspace that you can read.{(' ' + reason) if reason else ''}"
    )


def resolve_source(ctx, source, *, run_id=None, model_id=None) -> ResolvedSource:
    """Validate a create-model-version request's source and lineage; derive the storage location."""
    if not isinstance(source, str) or source == "":
        raise invalid("Missing value for required parameter 'source'.")
    run_id = run_id or None
    model_id = model_id or None
    if len(source) > MAX_SOURCE_LENGTH or _FORBIDDEN.search(source):
        raise refused(source)
    scheme, sep, rest = source.partition(":")
    if not sep or scheme not in _SCHEMES or not rest.startswith("/") or rest.startswith("//"):
        raise refused(source)
    segments = rest[1:].split("/")
    if rest.endswith("/") and len(segments) > 1:
        segments = segments[:-1]  # one trailing slash names the same folder
    if any(part in ("", ".", "..") for part in segments):
        raise refused(source)

    if scheme == "runs":
        resolved = _from_run_uri(ctx, source, segments)
    elif scheme == "mlflow-artifacts":
        resolved = _from_artifact_uri(ctx, source, segments)
    else:
        resolved = _from_models_uri(ctx, source, segments, run_id=run_id, model_id=model_id)
        if resolved.source != source:  # a registered version: its lineage was checked there
            return resolved
    return _with_lineage(ctx, resolved, run_id=run_id, model_id=model_id)


def _readable_run(ctx, source, run_uuid) -> Run:
    if not _RUN_ID.match(run_uuid):
        raise refused(source)
    try:
        run = access_run(ctx, run_uuid, Level.READ)
    except MlflowError:
        raise refused(source) from None
    if run.lifecycle_stage == LifecycleStage.DELETED:
        raise refused(source, "The run is deleted.")
    return run


def _readable_logged_model(ctx, source, model_id) -> LoggedModel:
    if not _LOGGED_MODEL_ID.match(model_id):
        raise refused(source)
    try:
        model = access_logged_model(ctx, model_id, Level.READ)
    except MlflowError:
        raise refused(source) from None
    if model.lifecycle_stage == LifecycleStage.DELETED:
        raise refused(source, "The logged model is deleted.")
    return model


def _from_run_uri(ctx, source, segments) -> ResolvedSource:
    run = _readable_run(ctx, source, segments[0])
    root = run.artifact_uri(run.experiment.wire_id)
    path = "/".join(segments[1:])
    return ResolvedSource(source, f"{root}/{path}" if path else root, run, None)


def _from_artifact_uri(ctx, source, segments) -> ResolvedSource:
    if len(segments) < 3 or not _EXPERIMENT_ID.match(segments[0]):
        raise refused(source)
    experiment_id = segments[0]
    if segments[1] == "models":
        if len(segments) < 4 or segments[3] != "artifacts":
            raise refused(source)
        model = _readable_logged_model(ctx, source, segments[2])
        if model.experiment.wire_id != experiment_id:
            raise refused(source)
        root = model.artifact_location(experiment_id)
        path = "/".join(segments[4:])
        return ResolvedSource(source, f"{root}/{path}" if path else root, model.source_run, model)
    if segments[2] != "artifacts":
        raise refused(source)
    run = _readable_run(ctx, source, segments[1])
    if run.experiment.wire_id != experiment_id:
        raise refused(source)
    root = run.artifact_uri(experiment_id)
    path = "/".join(segments[3:])
    return ResolvedSource(source, f"{root}/{path}" if path else root, run, None)


def _from_models_uri(ctx, source, segments, *, run_id, model_id) -> ResolvedSource:
    if len(segments) == 1 and _LOGGED_MODEL_ID.match(segments[0]):
        model = _readable_logged_model(ctx, source, segments[0])
        return ResolvedSource(source, model.artifact_location(model.experiment.wire_id), model.source_run, model)
    if len(segments) == 1 and "@" in segments[0]:
        name, _, alias = segments[0].rpartition("@")
        return _from_registered_version(ctx, source, name, alias=alias, run_id=run_id, model_id=model_id)
    if len(segments) == 2 and _VERSION.match(segments[1]):
        return _from_registered_version(ctx, source, segments[0], version=int(segments[1]), run_id=run_id, model_id=model_id)
    raise refused(source)


def _from_registered_version(ctx, source, name, *, version=None, alias=None, run_id, model_id) -> ResolvedSource:
    """Copying a registered version: it must be readable in this workspace; lineage must agree."""
    from registry.access import access_model_version
    from registry.models import RegisteredModelAlias

    try:
        if alias is not None:
            from registry.access import access_registered_model

            model = access_registered_model(ctx, name, Level.READ)
            link = RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version").first()
            if link is None:
                raise refused(source)
            version = link.model_version.version
        origin = access_model_version(ctx, name, version, Level.READ)
    except MlflowError:
        raise refused(source) from None
    origin_run = origin.run.run_uuid if origin.run else None
    origin_model = origin.logged_model.model_id if origin.logged_model else None
    if (run_id and run_id != origin_run) or (model_id and model_id != origin_model):
        raise refused(source, "The run_id and model_id parameters must match the referenced model version.")
    return ResolvedSource(
        f"models:/{origin.registered_model.name}/{origin.version}", origin.storage_location, origin.run, origin.logged_model
    )


def _with_lineage(ctx, resolved: ResolvedSource, *, run_id, model_id) -> ResolvedSource:
    """run_id / model_id parameters must agree with the source; a lineage-only run must be readable."""
    if model_id is not None:
        if resolved.logged_model is None or resolved.logged_model.model_id != model_id:
            raise refused(resolved.source, "The model_id parameter must identify the logged model that holds the source.")
    if run_id is None:
        return resolved
    if resolved.logged_model is None:
        if resolved.run is None or resolved.run.run_uuid != run_id:
            raise refused(resolved.source, "The run_id parameter must identify the run that holds the source.")
        return resolved
    if resolved.run is not None and resolved.run.run_uuid == run_id:
        return resolved
    # A logged model's version may record the run that registered it (MLflow's register_model
    # from runs:/ does so); that run must be readable in this workspace too.
    run = _readable_run(ctx, resolved.source, run_id)
    return ResolvedSource(resolved.source, resolved.storage_location, run, resolved.logged_model)
