"""Sweeps of the artifact store that the purge runs after the rows: leftovers no row owns.

- **Orphaned prefixes**: a storage folder named like Warden's keys (``<workspace>/<experiment>``,
  ``.../<run uuid>``, ``.../models/<model id>``) whose workspace, experiment, run or logged model
  row does not exist, untouched for longer than ``WARDEN_PURGE_ORPHAN_GRACE_SECONDS``. Such a
  folder is what a purge that crashed between its row and its files would leave, or a workspace
  removed by an operator. Folders with other names are not Warden's and are left alone.
- **Abandoned uploads**: staging files of uploads that never finished (a killed process), older
  than ``WARDEN_UPLOAD_ABANDON_SECONDS``.

Everything happens through the artifact store, so nothing outside the artifact root is touched;
orphans are audited (system actor), per workspace prefix.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.db import transaction

from accounts.models import Workspace
from audit import actions
from audit.services import record
from experiments.artifacts import storage
from experiments.artifacts.paths import MODELS_SEGMENT
from experiments.models import Experiment, LoggedModel, Run

_NUMBER = re.compile(r"^[1-9][0-9]{0,18}$")
_RUN_UUID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def _old(store, key: str, limit: float) -> bool:
    stamp = store.modified_time(key)
    return stamp is not None and stamp < limit


def _orphans_of_experiment(store, workspace_id: int, experiment_id: int, limit: float) -> list[str]:
    base = f"{workspace_id}/{experiment_id}"
    names = {entry.name for entry in store.list_dir(base) if entry.is_dir}
    runs = set(Run.objects.filter(experiment_id=experiment_id, run_uuid__in=names).values_list("run_uuid", flat=True))
    found = [f"{base}/{name}" for name in sorted(names) if _RUN_UUID.match(name) and name not in runs]
    if MODELS_SEGMENT in names:
        models_key = f"{base}/{MODELS_SEGMENT}"
        model_names = {entry.name for entry in store.list_dir(models_key) if entry.is_dir}
        models = set(
            LoggedModel.objects.filter(experiment_id=experiment_id, model_id__in=model_names).values_list("model_id", flat=True)
        )
        found += [f"{models_key}/{name}" for name in sorted(model_names) if _MODEL_ID.match(name) and name not in models]
    return [key for key in found if _old(store, key, limit)]


def _orphans_of_workspace(store, workspace_id: int, limit: float) -> list[str]:
    names = [entry.name for entry in store.list_dir(str(workspace_id)) if entry.is_dir and _NUMBER.match(entry.name)]
    live = set(Experiment.objects.filter(workspace_id=workspace_id, pk__in=[int(n) for n in names]).values_list("pk", flat=True))
    found = []
    for name in names:
        key = f"{workspace_id}/{name}"
        if int(name) not in live:
            if _old(store, key, limit):
                found.append(key)
        else:
            found += _orphans_of_experiment(store, workspace_id, int(name), limit)
    return found


def find_orphans(*, workspace=None, now: float | None = None) -> list[str]:
    store = storage.get_store()
    limit = (time.time() if now is None else now) - settings.WARDEN_PURGE_ORPHAN_GRACE_SECONDS
    if workspace is not None:
        top = [str(workspace.pk)] if store.kind(str(workspace.pk)) == "dir" else []
    else:
        top = [entry.name for entry in store.list_root() if _NUMBER.match(entry.name)]
    live = set(Workspace.objects.filter(pk__in=[int(n) for n in top]).values_list("pk", flat=True))
    found = []
    for name in top:
        if int(name) in live:
            found += _orphans_of_workspace(store, int(name), limit)
        elif _old(store, name, limit):
            found.append(name)
    return found


def orphan_sweep(report, *, workspace=None) -> None:
    orphans = find_orphans(workspace=workspace)
    report.orphans.extend(orphans)
    if report.dry_run or not orphans:
        return
    by_workspace: dict[str, list[str]] = {}
    for key in orphans:
        by_workspace.setdefault(key.split("/", 1)[0], []).append(key)
    workspaces = Workspace.objects.in_bulk([int(n) for n in by_workspace])
    for name, keys in by_workspace.items():
        for key in keys:
            storage.delete_prefix(key)
        with transaction.atomic():
            record(
                actions.ARTIFACTS_ORPHANS_PURGED, workspace=workspaces.get(int(name)), target_type="artifact_prefix",
                target_id=name, target_name=f"{len(keys)} orphaned folders", changes={"prefixes": keys},
            )


def abandoned_upload_sweep(report) -> None:
    store = storage.get_store()
    older = settings.WARDEN_UPLOAD_ABANDON_SECONDS
    if report.dry_run:
        report.abandoned_uploads.extend(store.abandoned_uploads(older))
        return
    names = store.abandoned_uploads(older)
    if not names:
        return
    removed = store.abandoned_uploads_purge(older)
    report.abandoned_uploads.extend(names)
    with transaction.atomic():
        record(
            actions.ARTIFACTS_ABANDONED_UPLOADS_PURGED, target_type="artifact_staging", target_name=f"{removed} staging files",
            changes={"files": names, "older_than_seconds": older},
        )
