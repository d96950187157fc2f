"""Fetch-and-authorise for tracking objects: the only way views reach an experiment, run or
logged model.

Each helper takes the request's WorkspaceContext, an id from the wire and the level the
action needs. It returns the object, raises ``not_found`` when the object does not exist,
lives in another workspace or is invisible to the caller (all three answer alike), and
``denied`` when the caller can see it but not do this.
"""

from accounts.permissions import Level, carry_granted_level, level_on, with_granted_level, workspace_level
from experiments.errors import denied, invalid, not_found
from experiments.models import Experiment, LifecycleStage, LoggedModel, Run


def experiment_level(ctx, experiment: Experiment) -> Level:
    """Role floor, creator and grants (``accounts.permissions``); runs, metrics, artifacts and
    logged models inherit it. The grant comes folded into the fetches below."""
    return level_on(ctx, experiment)


def check_level(level: Level, need: Level, what: str, missing: str, target=None):
    """``missing`` is the very message a non-existent object gets, so invisibility reveals nothing.
    ``target``, the visible object, is named in the audit event of a denial."""
    if level < Level.READ:
        raise not_found(missing)
    if level < need:
        raise denied(f"Permission denied: this action needs {need.name} on {what}.", target=target, need=need)


def placed(experiment: Experiment, ctx) -> Experiment:
    """The experiment was fetched within ctx.workspace: keep it, so naming it costs no query."""
    if experiment is not None:
        experiment.workspace = ctx.workspace
    return experiment


def names_nothing(key) -> bool:
    """A key PostgreSQL cannot even compare (text with a NUL character): no row has it."""
    return not isinstance(key, str) or "\x00" in key


def parse_experiment_id(experiment_id) -> int | None:
    """The primary key for a wire id; None for "0", the workspace's Default experiment."""
    text = str(experiment_id).strip()
    if not (text.isascii() and text.isdigit()):
        raise invalid(f"Invalid experiment ID: '{experiment_id}'. Experiment IDs are decimal integers.")
    number = int(text)
    if number > 2**63 - 1:
        raise not_found(f"Could not find experiment with ID {experiment_id}")
    return number or None


def experiments_in_workspace(ctx):
    """The workspace's experiments, each carrying the caller's highest grant."""
    return with_granted_level(ctx, Experiment.objects.filter(workspace=ctx.workspace), Experiment)


def experiment_by_wire_id(ctx, experiment_id):
    pk = parse_experiment_id(experiment_id)
    queryset = experiments_in_workspace(ctx)
    if pk is None:
        return placed(queryset.filter(is_default=True).first() or ensure_default_experiment(ctx.workspace), ctx)
    return placed(queryset.filter(pk=pk).first(), ctx)


def ensure_default_experiment(workspace) -> Experiment:
    from experiments.services import default_experiment_ensure

    return default_experiment_ensure(workspace=workspace)


def access_experiment(ctx, experiment_id, need: Level) -> Experiment:
    experiment = experiment_by_wire_id(ctx, experiment_id)
    if experiment is None:
        raise not_found(f"Could not find experiment with ID {experiment_id}")
    check_level(
        experiment_level(ctx, experiment), need, f"experiment {experiment_id}", f"Could not find experiment with ID {experiment_id}",
        experiment,
    )
    return experiment


def access_experiment_by_name(ctx, name: str, need: Level) -> Experiment:
    experiment = placed(experiments_in_workspace(ctx).filter(name=name).first(), ctx)
    if experiment is None or experiment_level(ctx, experiment) < Level.READ:
        raise not_found(f"Could not find experiment with name '{name}'")
    check_level(
        experiment_level(ctx, experiment), need, f"experiment '{name}'", f"Could not find experiment with name '{name}'", experiment
    )
    return experiment


def access_run(ctx, run_id, need: Level) -> Run:
    """One query: the run with its experiment, scoped to the workspace."""
    if not run_id or not isinstance(run_id, str):
        raise invalid("Missing value for required parameter 'run_id'.")
    runs = Run.objects.select_related("experiment").filter(run_uuid=run_id, experiment__workspace=ctx.workspace)
    run = with_granted_level(ctx, runs, Experiment, "experiment_id").first()
    if run is None:
        raise not_found(f"Run with id={run_id} not found")
    carry_granted_level(run, placed(run.experiment, ctx))
    check_level(experiment_level(ctx, run.experiment), need, f"run {run_id}", f"Run with id={run_id} not found", run)
    return run


def access_logged_model(ctx, model_id, need: Level) -> LoggedModel:
    if names_nothing(model_id):
        raise not_found(f"Logged model with ID '{model_id}' not found.")
    models = LoggedModel.objects.select_related("experiment", "source_run").filter(
        model_id=model_id, experiment__workspace=ctx.workspace, lifecycle_stage=LifecycleStage.ACTIVE
    )
    model = with_granted_level(ctx, models, Experiment, "experiment_id").first()
    if model is None:  # deleted logged models are gone for the API, as in MLflow
        raise not_found(f"Logged model with ID '{model_id}' not found.")
    carry_granted_level(model, placed(model.experiment, ctx))
    check_level(
        experiment_level(ctx, model.experiment), need, f"logged model {model_id}", f"Logged model with ID '{model_id}' not found.",
        model,
    )
    return model


def access_deleted_logged_model(ctx, model_id, need: Level) -> LoggedModel:
    """A deleted logged model (Warden's restore); same answers as ``access_logged_model``."""
    missing = f"Deleted logged model with ID '{model_id}' not found."
    if names_nothing(model_id):
        raise not_found(missing)
    models = LoggedModel.objects.select_related("experiment").filter(
        model_id=model_id, experiment__workspace=ctx.workspace, lifecycle_stage=LifecycleStage.DELETED
    )
    model = with_granted_level(ctx, models, Experiment, "experiment_id").first()
    if model is None:
        raise not_found(missing)
    carry_granted_level(model, placed(model.experiment, ctx))
    check_level(experiment_level(ctx, model.experiment), need, f"logged model {model_id}", missing, model)
    return model


def require_workspace_level(ctx, need: Level, action: str):
    if workspace_level(ctx) < need:
        raise denied(
            f"Permission denied: {action} needs {need.name} in workspace '{ctx.workspace.slug}'.", target=ctx.workspace, need=need
        )
