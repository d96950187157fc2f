#!/usr/bin/env python3
"""How long the purge of N deleted runs with artifacts takes (not a test).

usage: DATABASE_URL=postgres://.../purge_bench python bench/purge_bench.py [--runs 10000] [--batch 500]

Migrates the database, creates a fresh workspace with N runs deleted 40 days ago (each with
params, tags, metric points, a dataset input and two artifact files under a temporary artifact
root), bulk-inserted so that setting up takes seconds, then times ``experiments.purge`` on that
workspace and checks that every row and file is gone. Prints one JSON line.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(artifact_root: str, batch: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("WARDEN_SECRET_KEY", "purge-bench-only")
    os.environ["WARDEN_ARTIFACT_ROOT"] = artifact_root
    os.environ["WARDEN_PURGE_BATCH_SIZE"] = str(batch)
    os.environ.pop("REDIS_URL", None)  # audit sealing runs in-process, as in the embedded mode
    import django

    django.setup()
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        sys.exit("purge_bench needs PostgreSQL: set DATABASE_URL=postgres://...")


def build(runs: int):
    """The workspace and its deleted runs, in bulk: rows with large multi-row inserts, files with os calls."""
    from accounts import services as accounts
    from experiments.artifacts.paths import run_artifact_root
    from experiments.models import Dataset, Experiment, LatestMetric, Metric, Param, Run, RunInput, RunTag
    from experiments.retention import DAY_MS

    workspace = accounts.workspace_create(actor=None, slug=f"purge-bench-{uuid.uuid4().hex[:8]}", name="purge bench")
    now = int(time.time() * 1000)
    deleted = now - 40 * DAY_MS
    experiment = Experiment.objects.create(workspace=workspace, name="bench", creation_time=now, last_update_time=now)
    dataset = Dataset.objects.create(experiment=experiment, name="train", digest="d", source_type="local", source="x")
    rows = Run.objects.bulk_create(
        [Run(run_uuid=uuid.uuid4().hex, experiment=experiment, start_time=now, lifecycle_stage="deleted", deleted_time=deleted)
         for _ in range(runs)],
        batch_size=2000,
    )
    Param.objects.bulk_create([Param(run=r, key=f"p{i}", value="1") for r in rows for i in range(3)], batch_size=5000)
    RunTag.objects.bulk_create([RunTag(run=r, key=f"t{i}", value="x") for r in rows for i in range(3)], batch_size=5000)
    Metric.objects.bulk_create(
        [Metric(run=r, key="loss", value=1.0, timestamp=now, step=s) for r in rows for s in range(10)], batch_size=10000
    )
    LatestMetric.objects.bulk_create([LatestMetric(run=r, key="loss", value=1.0, timestamp=now, step=9) for r in rows], batch_size=5000)
    RunInput.objects.bulk_create([RunInput(run=r, dataset=dataset) for r in rows], batch_size=5000)
    root = Path(os.environ["WARDEN_ARTIFACT_ROOT"])
    for run in rows:
        run.experiment = experiment
        folder = root / run_artifact_root(run)
        (folder / "model").mkdir(parents=True)
        (folder / "model" / "model.pkl").write_bytes(b"m" * 1024)
        (folder / "metrics.json").write_bytes(b"{}")
    return workspace, experiment, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="purge-bench-") as artifact_root:
        setup_django(artifact_root, args.batch)
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        workspace, experiment, rows = build(args.runs)
        with connection.cursor() as cursor:  # a live database has planner statistics; fresh bulk inserts do not
            cursor.execute("ANALYZE")
        built = time.perf_counter() - started

        from experiments import purge
        from experiments.models import Metric, Run

        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            report = purge.purge(workspace=workspace)
            took = time.perf_counter() - started
        left_rows = Run.objects.filter(experiment=experiment).count() + Metric.objects.filter(run__experiment=experiment).count()
        left_files = sum(len(files) for _, _, files in os.walk(Path(artifact_root) / str(workspace.pk)))
        result = {
            "runs": args.runs,
            "batch": args.batch,
            "setup_s": round(built, 2),
            "purge_s": round(took, 2),
            "runs_per_s": round(args.runs / took),
            "purged": len(report.purged["run"]),
            "queries": len(queries),
            "left_rows": left_rows,
            "left_files": left_files,
        }
        print(json.dumps(result))
        if result["purged"] != args.runs or left_rows or left_files:
            sys.exit("the purge left something behind")


if __name__ == "__main__":
    main()
