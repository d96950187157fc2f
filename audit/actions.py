"""The catalogue of audit actions: every event Warden records is named here, once.

Code refers to these constants, never to the strings, so an auditor's filter and the code that
writes the event cannot drift apart, and ``ALL`` is the complete list of what the log can hold.
Names are ``<target>.<past-tense verb>``.

What is recorded, and what is not:
- every state change made by a service (``tests/audit/test_coverage.py`` lists them), in its
  transaction, with ``changes`` holding the before and after of what changed; a call that
  changes nothing (same name, same role, same alias target, a run updated without ending)
  records nothing;
- a run's creation and its ending (FINISHED, FAILED, KILLED); never its metrics, params, tags
  or artifact uploads: that is tracking data on the hot ingest path (DESIGN §6);
- a model load: ``model_version.download_uri_resolved`` when the registry resolves
  ``models:/name/version`` (or ``@alias``), and ``model.downloaded`` when a model's ``MLmodel``
  descriptor is downloaded from a logged model's or a run's artifacts. Every MLflow loader
  reads that file once per load, so a load is one event, however many files the model has;
- a 403 answered by the MLflow API or Warden's API: ``access.denied`` with the target and the
  level that was missing (``audit.denials``). A 404 is not recorded: invisible and missing
  objects answer alike and their event would name what the caller may not learn exists;
- refused credentials: ``auth.token_rejected`` (``accounts.authentication``), one bounded row
  per refused request; requests without credentials are not recorded;
- writes made in the Django admin, which bypass the services (``audit.admin_changes``);
- changes Warden makes of its own accord name the system (kind ``system``) as actor: the purge
  and its sweeps, the audit retention purge, ``manage.py bootstrap``, and the IdP group sync at
  a sign-in, whose membership and team events say so in ``changes.cause``
  (``audit.context.as_warden``). Each change is recorded once, by the service that makes it.
"""

# ---------------------------------------------------------------- workspaces and people
USER_CREATED = "user.created"  # the bootstrap admin (people signing in for the first time: SSO)
WORKSPACE_CREATED = "workspace.created"
WORKSPACE_UPDATED = "workspace.updated"
MEMBERSHIP_ADDED = "membership.added"
MEMBERSHIP_ROLE_CHANGED = "membership.role_changed"
MEMBERSHIP_REMOVED = "membership.removed"
TEAM_CREATED = "team.created"
TEAM_RENAMED = "team.renamed"
TEAM_DELETED = "team.deleted"
TEAM_MEMBER_ADDED = "team.member_added"
TEAM_MEMBER_REMOVED = "team.member_removed"
GRANT_CREATED = "grant.created"
GRANT_CHANGED = "grant.changed"
GRANT_REVOKED = "grant.revoked"
SERVICE_ACCOUNT_CREATED = "service_account.created"
SERVICE_ACCOUNT_DEACTIVATED = "service_account.deactivated"
TOKEN_CREATED = "token.created"
TOKEN_REVOKED = "token.revoked"
# Auditors: who may read and export a workspace's log (a global grant has no workspace).
AUDITOR_GRANTED = "auditor.granted"
AUDITOR_REVOKED = "auditor.revoked"

# ---------------------------------------------------------------- sign-in and single sign-on
AUTH_LOGIN = "auth.login"
# ``changes.reason`` says why (bad_password, rate_limited, unknown_user, bad_state, ...).
AUTH_LOGIN_FAILED = "auth.login_failed"
# A lockout starting, once per scope (user name or address) and window.
AUTH_LOGIN_RATE_LIMITED = "auth.login_rate_limited"
AUTH_LOGOUT = "auth.logout"
# A first SSO sign-in that made a new account (provisioning policy ``create``).
USER_PROVISIONED = "user.provisioned"
# A first SSO sign-in attached to an existing account by its verified e-mail.
IDENTITY_LINKED = "identity.linked"
# The IdP group rules of a workspace; their effect at a sign-in is recorded as the membership
# and team events they cause, with the system as actor and ``changes.cause`` naming the sync.
GROUP_MAPPING_CREATED = "group_mapping.created"
GROUP_MAPPING_UPDATED = "group_mapping.updated"
GROUP_MAPPING_DELETED = "group_mapping.deleted"

# ---------------------------------------------------------------- tracking
EXPERIMENT_CREATED = "experiment.created"
EXPERIMENT_RENAMED = "experiment.renamed"
EXPERIMENT_DELETED = "experiment.deleted"
EXPERIMENT_RESTORED = "experiment.restored"
EXPERIMENT_PROTECTION_CHANGED = "experiment.protection_changed"
RUN_CREATED = "run.created"
RUN_FINISHED = "run.finished"
RUN_FAILED = "run.failed"
RUN_KILLED = "run.killed"
RUN_DELETED = "run.deleted"
RUN_RESTORED = "run.restored"
LOGGED_MODEL_CREATED = "logged_model.created"
LOGGED_MODEL_FINALIZED = "logged_model.finalized"
LOGGED_MODEL_DELETED = "logged_model.deleted"
LOGGED_MODEL_RESTORED = "logged_model.restored"
ARTIFACT_DELETED = "artifact.deleted"
# A model load: the GET of a model's ``MLmodel`` descriptor (see ``experiments.artifacts.audit``).
MODEL_DOWNLOADED = "model.downloaded"

# ---------------------------------------------------------------- registry
REGISTERED_MODEL_CREATED = "registered_model.created"
REGISTERED_MODEL_RENAMED = "registered_model.renamed"
REGISTERED_MODEL_UPDATED = "registered_model.updated"
REGISTERED_MODEL_DELETED = "registered_model.deleted"
REGISTERED_MODEL_RESTORED = "registered_model.restored"
REGISTERED_MODEL_TAG_SET = "registered_model.tag_set"
REGISTERED_MODEL_TAG_DELETED = "registered_model.tag_deleted"
REGISTERED_MODEL_PROTECTION_CHANGED = "registered_model.protection_changed"
MODEL_VERSION_CREATED = "model_version.created"
MODEL_VERSION_UPDATED = "model_version.updated"
MODEL_VERSION_DELETED = "model_version.deleted"
MODEL_VERSION_RESTORED = "model_version.restored"
MODEL_VERSION_STAGE_TRANSITIONED = "model_version.stage_transitioned"
MODEL_VERSION_TAG_SET = "model_version.tag_set"
MODEL_VERSION_TAG_DELETED = "model_version.tag_deleted"
MODEL_VERSION_DOWNLOAD_URI_RESOLVED = "model_version.download_uri_resolved"
ALIAS_SET = "alias.set"
ALIAS_DELETED = "alias.deleted"
TRANSITION_REQUEST_OPENED = "transition_request.opened"
TRANSITION_REQUEST_APPROVED = "transition_request.approved"
TRANSITION_REQUEST_REJECTED = "transition_request.rejected"
TRANSITION_REQUEST_CANCELLED = "transition_request.cancelled"

# ---------------------------------------------------------------- retention and the purge (actor: the system)
# How long deleted objects stay restorable in a workspace.
WORKSPACE_DELETION_RETENTION_CHANGED = "workspace.deletion_retention_changed"
# One event per purged experiment and registered model (with counts of what went with it) and
# one per batch of runs, logged models and model versions (with their ids).
EXPERIMENT_PURGED = "experiment.purged"
RUN_PURGED = "run.purged"
LOGGED_MODEL_PURGED = "logged_model.purged"
REGISTERED_MODEL_PURGED = "registered_model.purged"
MODEL_VERSION_PURGED = "model_version.purged"
# Sweeps of the artifact store: folders no row owns, staging files of uploads never finished.
ARTIFACTS_ORPHANS_PURGED = "artifacts.orphans_purged"
ARTIFACTS_ABANDONED_UPLOADS_PURGED = "artifacts.abandoned_uploads_purged"

# ---------------------------------------------------------------- notifications (webhook secrets never recorded: only whether one is set)
WEBHOOK_CREATED = "webhook.created"
WEBHOOK_UPDATED = "webhook.updated"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_TESTED = "webhook.tested"
# A user starting or ending e-mail about an experiment or registered model (the target).
WATCH_CREATED = "watch.created"
WATCH_REMOVED = "watch.removed"

# ---------------------------------------------------------------- the audit log itself
AUDIT_RETENTION_CHANGED = "audit.retention_changed"
# The retention purge: the range of sequence numbers removed and the new anchor hash.
AUDIT_PURGED = "audit.purged"
# One per workspace whose rows an export holds (streamed or a background job).
AUDIT_EXPORTED = "audit.exported"

# ---------------------------------------------------------------- the Django admin (writes models directly)
ADMIN_OBJECT_ADDED = "admin.object_added"
ADMIN_OBJECT_CHANGED = "admin.object_changed"
ADMIN_OBJECT_DELETED = "admin.object_deleted"

# ---------------------------------------------------------------- access
# A visible object the caller may not act on (403); outcome "denied".
ACCESS_DENIED = "access.denied"
# Credentials presented but refused (bad, expired, revoked token; deactivated owner).
AUTH_TOKEN_REJECTED = "auth.token_rejected"

ALL = frozenset(value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str))
